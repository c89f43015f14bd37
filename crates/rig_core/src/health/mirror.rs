//! Mirrored weights: a left or right joint whose weights lie on the other side of the body,
//! as when the weights of one side were pasted onto the other's joints. Rotating such a joint
//! swings the far side of the character around it.

use nalgebra::Vector3;

use super::surface::Surface;
use crate::skeleton::Skeleton;

/// A joint is on the wrong side when the weighted mean of its vertices, measured along the
/// line to its twin from the midpoint between them, lies this far (in half the twins'
/// separation) towards the twin. Artists' rigs keep it above +0.8; swapped weights give
/// about -1.
const WRONG_SIDE: f32 = -0.5;

/// Side markers as `(left, right)`: name suffixes, name prefixes, and words anywhere.
const SUFFIXES: [(&str, &str); 7] = [(".L", ".R"), (".l", ".r"), ("_L", "_R"), ("_l", "_r"), ("-L", "-R"), ("-l", "-r"), (" L", " R")];
const PREFIXES: [(&str, &str); 6] = [("L_", "R_"), ("l_", "r_"), ("L.", "R."), ("l.", "r."), ("L-", "R-"), ("l-", "r-")];
const WORDS: [(&str, &str); 5] = [("Left", "Right"), ("left", "right"), ("LEFT", "RIGHT"), (".L.", ".R."), ("_L_", "_R_")];

/// Pairs `(joint, twin)` where `joint` moves vertices mostly on `twin`'s side.
pub(super) fn wrong_side(s: &Surface) -> Vec<(usize, usize)> {
    let skeleton = &s.rig.skeleton;
    let mut out = Vec::new();
    for j in 0..skeleton.len() {
        let Some(t) = twin(skeleton, j) else { continue };
        if s.weighted[j] > 0 && side(s, j, t).is_some_and(|x| x < WRONG_SIDE) {
            out.push((j, t));
        }
    }
    out
}

/// The joint named for the other side of `j`, when `j`'s name marks a side. Names that differ
/// only in a trailing number (the Khronos Fox's `b_LeftUpperArm_09` and `b_RightUpperArm_06`)
/// still pair up.
pub(super) fn twin(skeleton: &Skeleton, j: usize) -> Option<usize> {
    let others = other_side_names(&skeleton.joints[j].name);
    let exact = others.iter().find_map(|other| skeleton.find(other));
    let numbered =
        || others.iter().find_map(|other| (0..skeleton.len()).find(|&k| unnumbered(&skeleton.joints[k].name) == unnumbered(other)));
    exact.or_else(numbered).filter(|&t| t != j)
}

/// The names `name` would have on the other side: its side marker swapped (suffix, prefix or
/// word), each way that applies.
fn other_side_names(name: &str) -> Vec<String> {
    let suffix = SUFFIXES.into_iter().flat_map(swap).find_map(|(a, b)| name.strip_suffix(a).map(|stem| format!("{stem}{b}")));
    let prefix = PREFIXES.into_iter().flat_map(swap).find_map(|(a, b)| name.strip_prefix(a).map(|stem| format!("{b}{stem}")));
    let word = WORDS.into_iter().flat_map(swap).find(|(a, _)| name.contains(a)).map(|(a, b)| name.replacen(a, b, 1));
    [suffix, prefix, word].into_iter().flatten().collect()
}

/// `name` without a trailing number and the separator before it.
fn unnumbered(name: &str) -> &str {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    if stem.len() == name.len() {
        return name;
    }
    stem.trim_end_matches(['_', '.', '-', ' '])
}

/// A side marker pair both ways round: left to right and right to left.
fn swap((l, r): (&'static str, &'static str)) -> [(&'static str, &'static str); 2] {
    [(l, r), (r, l)]
}

/// Where `j`'s weight lies along the line from its twin `t` to it: the weighted mean of its
/// vertices' offsets from the midpoint, in half the twins' separation (+1 at `j`, -1 at `t`).
/// `None` when the twins coincide.
fn side(s: &Surface, j: usize, t: usize) -> Option<f32> {
    let axis = s.joints[j] - s.joints[t];
    let half = 0.5 * axis.norm();
    if half <= 1e-4 * s.diag {
        return None;
    }
    let dir = axis / (2.0 * half);
    let mid: Vector3<f32> = 0.5 * (s.joints[j] + s.joints[t]);
    let (mut sum, mut total) = (0.0f32, 0.0f32);
    for &(v, w) in &s.influences[j] {
        sum += w * (s.position(v as usize) - mid).dot(&dir);
        total += w;
    }
    (total > 0.0).then(|| sum / total / half)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skeleton::Joint;
    use crate::transform::Trs;
    use crate::Mat4;

    fn skeleton(names: &[&str]) -> Skeleton {
        let joint = |name: &&str| Joint {
            name: name.to_string(),
            parent: None,
            rest_local: Trs::default(),
            joint_from_mesh: Mat4::identity(),
            deform: true,
            in_skin: true,
        };
        Skeleton { joints: names.iter().map(joint).collect(), ..Default::default() }
    }

    #[test]
    fn twins_pair_up_across_naming_conventions() {
        let s = skeleton(&[
            "thigh.l",
            "thigh.r",
            "mixamorig:LeftArm",
            "mixamorig:RightArm",
            "l-foot",
            "r-foot",
            "b_LeftLeg01_015",
            "b_RightLeg01_019",
            "Head",
        ]);
        assert_eq!(twin(&s, 0), Some(1));
        assert_eq!(twin(&s, 1), Some(0));
        assert_eq!(twin(&s, 2), Some(3));
        assert_eq!(twin(&s, 5), Some(4));
        assert_eq!(twin(&s, 6), Some(7));
        assert_eq!(twin(&s, 8), None);
    }
}
