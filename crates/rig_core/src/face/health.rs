//! Checks of a face rig's shapes (a shape that does nothing, a shape that tears its mesh
//! apart) and the editor's test motion (blink, smile, jaw open, look around).

use std::collections::HashSet;

use crate::mesh::Mesh;

/// A shape whose largest offset stays under this share of the mesh's diagonal does nothing.
const STILL: f32 = 5e-4;
/// An edge that grows by more than this share of the diagonal, to more than `TEAR_RATIO` times
/// its rest length, tears the mesh.
const TEAR_GROWTH: f32 = 0.01;
const TEAR_RATIO: f32 = 4.0;

/// What is wrong with one morph target.
#[derive(Debug, Clone, PartialEq)]
pub enum ShapeFlag {
    /// No vertex moves visibly.
    Still,
    /// `edges` edges stretch far beyond their length (the worst `ratio` times).
    Tears { edges: usize, ratio: f32 },
}

impl ShapeFlag {
    pub fn describe(&self, shape: &str) -> String {
        match self {
            ShapeFlag::Still => format!("{shape}: moves no vertex visibly"),
            ShapeFlag::Tears { edges, ratio } => format!("{shape}: {edges} edges stretch up to {ratio:.1} times their length"),
        }
    }
}

/// The flagged morph targets of `mesh`, by name (the targets of each source mesh, checked on
/// every part that has them), in the order the names first appear.
pub fn shape_flags(mesh: &Mesh) -> Vec<(String, ShapeFlag)> {
    let diag = mesh.bounds().map_or(1.0, |b| b.diagonal()).max(1e-12);
    let edges = unique_edges(&mesh.triangles);
    let mut flags = Vec::new();
    for name in target_names(mesh) {
        let offset = |v: usize| -> [f32; 3] {
            let Some(part) = mesh.parts.iter().find(|p| p.vertices.contains(&(v as u32))) else { return [0.0; 3] };
            let k = mesh.groups.get(part.group).and_then(|g| g.morph_target_names.iter().position(|n| *n == name));
            k.and_then(|k| part.morph_targets.get(k))
                .and_then(|t| t.position_deltas.get(v - part.vertices.start as usize))
                .copied()
                .unwrap_or_default()
        };
        let deltas: Vec<[f32; 3]> = (0..mesh.positions.len()).map(offset).collect();
        let largest = deltas.iter().map(|d| norm(*d)).fold(0.0, f32::max);
        if largest < STILL * diag {
            flags.push((name, ShapeFlag::Still));
            continue;
        }
        let (mut torn, mut worst) = (0, 0.0f32);
        for &(a, b) in &edges {
            let (pa, pb) = (mesh.positions[a], mesh.positions[b]);
            let rest = norm(sub(pa, pb));
            let moved = norm(sub(add(pa, deltas[a]), add(pb, deltas[b])));
            if moved - rest > TEAR_GROWTH * diag && moved > TEAR_RATIO * rest {
                torn += 1;
                worst = worst.max(moved / rest.max(1e-12));
            }
        }
        if torn > 0 {
            flags.push((name, ShapeFlag::Tears { edges: torn, ratio: worst }));
        }
    }
    flags
}

/// The morph target names of `mesh`'s source meshes, each once, in the order they first appear.
pub fn target_names(mesh: &Mesh) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for n in mesh.groups.iter().flat_map(|g| &g.morph_target_names) {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    names
}

fn unique_edges(triangles: &[[u32; 3]]) -> Vec<(usize, usize)> {
    let mut seen = HashSet::new();
    for t in triangles {
        for (a, b) in [(t[0], t[1]), (t[1], t[2]), (t[2], t[0])] {
            seen.insert((a.min(b) as usize, a.max(b) as usize));
        }
    }
    seen.into_iter().collect()
}

fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn add(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

fn norm(a: [f32; 3]) -> f32 {
    (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt()
}

/// Seconds the test motion takes before it starts again.
pub const TEST_MOTION_SECONDS: f32 = 8.0;

/// The test motion's shape weights at `time` seconds: a blink, a smile, the jaw opening, then
/// the eyes looking left, right, up and down, each rising and falling within its second or two.
pub fn test_motion(time: f32) -> Vec<(&'static str, f32)> {
    let t = time.rem_euclid(TEST_MOTION_SECONDS);
    // A bump from `start` lasting `length` seconds, 0 -> 1 -> 0.
    let bump = |start: f32, length: f32| {
        let x = (t - start) / length;
        if (0.0..=1.0).contains(&x) {
            (std::f32::consts::PI * x).sin().powi(2)
        } else {
            0.0
        }
    };
    let (blink, smile, jaw) = (bump(0.0, 0.6), bump(0.8, 1.6), bump(2.6, 1.6));
    let (left, right, up, down) = (bump(4.4, 0.9), bump(5.3, 0.9), bump(6.2, 0.9), bump(7.1, 0.9));
    vec![
        ("eyeBlinkLeft", blink),
        ("eyeBlinkRight", blink),
        ("mouthSmileLeft", smile),
        ("mouthSmileRight", smile),
        ("cheekSquintLeft", 0.5 * smile),
        ("cheekSquintRight", 0.5 * smile),
        ("jawOpen", jaw),
        // Looking to the face's left: the left eye turns out, the right eye in.
        ("eyeLookOutLeft", left),
        ("eyeLookInRight", left),
        ("eyeLookInLeft", right),
        ("eyeLookOutRight", right),
        ("eyeLookUpLeft", up),
        ("eyeLookUpRight", up),
        ("eyeLookDownLeft", down),
        ("eyeLookDownRight", down),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::{MeshGroup, MorphTarget, Part};

    /// A strip of 10 squares along X with three shapes: nothing, a lift of the whole strip, and
    /// one vertex pulled far off.
    fn strip() -> Mesh {
        let positions: Vec<[f32; 3]> = (0..22).map(|i| [(i / 2) as f32, (i % 2) as f32, 0.0]).collect();
        let triangles: Vec<[u32; 3]> =
            (0..10u32).flat_map(|k| [[2 * k, 2 * k + 2, 2 * k + 1], [2 * k + 1, 2 * k + 2, 2 * k + 3]]).collect();
        let n = positions.len();
        let still = MorphTarget { position_deltas: vec![[0.0; 3]; n], normal_deltas: vec![] };
        let lift = MorphTarget { position_deltas: vec![[0.0, 0.0, 0.5]; n], normal_deltas: vec![] };
        let mut pulled = still.clone();
        pulled.position_deltas[7] = [0.0, 6.0, 0.0];
        let part = Part {
            name: "strip".into(),
            group: 0,
            material: None,
            vertices: 0..n as u32,
            triangles: 0..triangles.len() as u32,
            skinned: false,
            morph_targets: vec![still, lift, pulled],
        };
        let group = MeshGroup { morph_target_names: vec!["still".into(), "lift".into(), "pulled".into()], ..Default::default() };
        Mesh { positions, triangles, parts: vec![part], groups: vec![group], ..Default::default() }
    }

    #[test]
    fn a_shape_that_does_nothing_and_one_that_tears_are_flagged_and_a_lift_is_not() {
        let flags = shape_flags(&strip());
        assert_eq!(flags.len(), 2, "{flags:?}");
        assert_eq!(flags[0], ("still".to_string(), ShapeFlag::Still));
        assert!(matches!(flags[1], (ref n, ShapeFlag::Tears { edges, .. }) if n == "pulled" && edges >= 3), "{flags:?}");
    }

    #[test]
    fn the_test_motion_blinks_first_and_rests_between_moves() {
        let at = |t: f32, name: &str| test_motion(t).into_iter().find(|(n, _)| *n == name).map_or(0.0, |(_, w)| w);
        assert!(at(0.3, "eyeBlinkLeft") > 0.99 && at(0.3, "jawOpen") == 0.0);
        assert!(at(3.4, "jawOpen") > 0.99);
        assert!(test_motion(0.7).iter().all(|(_, w)| *w < 0.05), "a rest between the blink and the smile");
        assert_eq!(at(0.3 + TEST_MOTION_SECONDS, "eyeBlinkLeft"), at(0.3, "eyeBlinkLeft"), "it loops");
    }
}
