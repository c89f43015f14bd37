//! What a joint's name says it is: hips, a link of the spine, neck, head, or on one side a
//! clavicle, upper arm, forearm, hand, finger segment, thigh, shin, foot or toe. Reads the usual
//! conventions (Mixamo's `mixamorig:LeftForeArm` and `mixamorig:LeftHandIndex2`, Unreal's
//! `lowerarm_l` and `index_02_l`, Unity's and VRM's `LeftLowerArm` and `leftIndexIntermediate`,
//! Blender's `forearm.L` and `f_index.02.L`, Quaternius' `LowerArm.L`, KayKit's `lowerarm.l`,
//! Kenney's `arm-left`).

use crate::skeleton::Skeleton;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Centre,
    Left,
    Right,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Hips,
    /// A link of the chain between hips and neck (spine, chest, torso, abdomen).
    Spine,
    Neck,
    Head,
    Clavicle,
    UpperArm,
    ForeArm,
    Hand,
    Thigh,
    Shin,
    Foot,
    Toe,
    /// Segment 1 (nearest the hand), 2, 3 (and Mixamo's 4, the tip) of a finger.
    Finger(Digit, u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Digit {
    Thumb,
    Index,
    Middle,
    Ring,
    Little,
}

impl Digit {
    pub const ALL: [Digit; 5] = [Digit::Thumb, Digit::Index, Digit::Middle, Digit::Ring, Digit::Little];
}

/// A name's role before `leg` is resolved (Mixamo's `LeftLeg` is the shin below `LeftUpLeg`;
/// Kenney's `leg-left` is the whole leg).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    Is(Role),
    Leg,
}

/// Each joint's role and side, `None` for joints the name does not place (fingers, IK targets,
/// helpers). Of several joints with one role and side, the one nearest the root keeps it,
/// except hands, where the furthest does (KayKit's `hand.l` below `wrist.l`: it carries the
/// wrist's turn and its own, and what the hand holds), and spine links, which form a chain.
pub fn roles(skeleton: &Skeleton) -> Vec<Option<(Role, Side)>> {
    let fingers = fingers(skeleton);
    let read: Vec<Option<(Read, Side)>> =
        skeleton.joints.iter().zip(&fingers).map(|(j, f)| f.map(|(role, side)| (Read::Is(role), side)).or_else(|| read(&j.name))).collect();
    let has_thigh = |side: Side| read.iter().flatten().any(|&(r, s)| r == Read::Is(Role::Thigh) && s == side);
    let mut out: Vec<Option<(Role, Side)>> = read
        .iter()
        .map(|r| {
            r.map(|(r, side)| match r {
                Read::Is(role) => (role, side),
                Read::Leg if has_thigh(side) => (Role::Shin, side),
                Read::Leg => (Role::Thigh, side),
            })
        })
        .collect();
    let depth = depths(skeleton);
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by_key(|&j| (depth[j], j));
    let mut seen: Vec<(Role, Side)> = Vec::new();
    let hands_last = order.iter().copied().filter(|&j| !matches!(out[j], Some((Role::Hand, _))));
    let hands = order.iter().rev().copied().filter(|&j| matches!(out[j], Some((Role::Hand, _))));
    for j in hands_last.chain(hands).collect::<Vec<_>>() {
        let Some(rs) = out[j] else { continue };
        if rs.0 != Role::Spine && seen.contains(&rs) {
            out[j] = None;
        } else {
            seen.push(rs);
        }
    }
    out
}

/// Finger segments the names give. VRM names a thumb Metacarpal, Proximal, Distal where Unity
/// says Proximal, Intermediate, Distal: a thumb with a metacarpal counts from it. Other fingers'
/// metacarpals (OpenXR's hands, Unreal 5's) are not segments.
fn fingers(skeleton: &Skeleton) -> Vec<Option<(Role, Side)>> {
    let read: Vec<Option<(Digit, u8, Side)>> = skeleton.joints.iter().map(|j| read_finger(&j.name)).collect();
    let metacarpal = |side: Side| read.iter().flatten().any(|&(d, n, s)| d == Digit::Thumb && n == 0 && s == side);
    read.iter()
        .map(|f| {
            let (digit, n, side) = (*f)?;
            let n = match (digit, n) {
                (Digit::Thumb, 0) => 1,
                (Digit::Thumb, 1) if metacarpal(side) => 2,
                (_, 0) => return None,
                (_, n) => n,
            };
            Some((Role::Finger(digit, n), side))
        })
        .collect()
}

/// A finger segment: (digit, segment, side); segment 0 is VRM's thumb metacarpal. A finger word
/// needs a side and a segment (a number or proximal / intermediate / distal / metacarpal).
fn read_finger(name: &str) -> Option<(Digit, u8, Side)> {
    let lower = name.to_lowercase();
    let base = lower.rsplit([':', '|', '/']).next().unwrap_or(&lower);
    let words = [
        ("thumb", Digit::Thumb),
        ("index", Digit::Index),
        ("middle", Digit::Middle),
        ("ring", Digit::Ring),
        ("pinky", Digit::Little),
        ("little", Digit::Little),
    ];
    let (at, word, digit) = words.iter().find_map(|&(w, d)| base.find(w).map(|at| (at, w, d)))?;
    let after = &base[at + word.len()..];
    let number: String = after.chars().skip_while(|c| !c.is_ascii_alphanumeric()).take_while(|c| c.is_ascii_digit()).collect();
    let segment = match number.parse::<u8>() {
        Ok(n) if (1..=4).contains(&n) => n,
        Ok(_) => return None,
        Err(_) if after.contains("metacarpal") => 0,
        Err(_) if after.contains("proximal") => 1,
        Err(_) if after.contains("intermediate") => 2,
        Err(_) if after.contains("distal") => 3,
        Err(_) => return None,
    };
    let rest = format!("{}{}", &base[..at], &base[at + word.len()..]);
    let tokens: Vec<&str> = rest.split(|c: char| !c.is_ascii_alphanumeric()).filter(|t| !t.is_empty()).collect();
    let side = if tokens.iter().any(|t| matches!(*t, "l" | "left" | "lf") || t.starts_with("left")) {
        Side::Left
    } else if tokens.iter().any(|t| matches!(*t, "r" | "right" | "rt") || t.starts_with("right")) {
        Side::Right
    } else {
        return None;
    };
    Some((digit, segment, side))
}

/// The joint [`roles`] gave `want` (role and side), if any.
pub fn find_role(roles: &[Option<(Role, Side)>], want: (Role, Side)) -> Option<usize> {
    roles.iter().position(|r| *r == Some(want))
}

fn depths(skeleton: &Skeleton) -> Vec<usize> {
    let mut depth = vec![0; skeleton.len()];
    for (j, joint) in skeleton.joints.iter().enumerate() {
        depth[j] = joint.parent.map_or(0, |p| depth.get(p).copied().unwrap_or(0) + 1);
    }
    depth
}

/// The role a name reads as, with its side.
fn read(name: &str) -> Option<(Read, Side)> {
    let lower = name.to_lowercase();
    // A namespace (`mixamorig:`) or a path says nothing about the joint.
    let base = lower.rsplit([':', '|', '/']).next().unwrap_or(&lower);
    let mut side = Side::Centre;
    let mut words: Vec<String> = Vec::new();
    for token in base.split(|c: char| !c.is_ascii_alphanumeric()).filter(|t| !t.is_empty()) {
        let token = token.trim_end_matches(|c: char| c.is_ascii_digit());
        let token = match token {
            "l" | "left" | "lf" => {
                side = Side::Left;
                continue;
            }
            "r" | "right" | "rt" => {
                side = Side::Right;
                continue;
            }
            // Prefixes of exporters and rigs: Blender's DEF-, Khronos' b_, 3ds Max's Bip01.
            "def" | "b" | "bip" | "bone" | "jnt" | "j" | "" => continue,
            t => t,
        };
        let token = match (token.strip_prefix("left"), token.strip_prefix("right")) {
            (Some(rest), _) if !rest.is_empty() => {
                side = Side::Left;
                rest
            }
            (_, Some(rest)) if !rest.is_empty() => {
                side = Side::Right;
                rest
            }
            _ => token,
        };
        words.push(token.to_string());
    }
    let word = words.concat();
    let read = match word.as_str() {
        "hips" | "hip" | "pelvis" => Read::Is(Role::Hips),
        "spine" | "chest" | "upperchest" | "torso" | "abdomen" => Read::Is(Role::Spine),
        "neck" => Read::Is(Role::Neck),
        "head" => Read::Is(Role::Head),
        "clavicle" | "shoulder" | "collar" | "collarbone" => Read::Is(Role::Clavicle),
        "upperarm" | "arm" | "uparm" => Read::Is(Role::UpperArm),
        "lowerarm" | "forearm" => Read::Is(Role::ForeArm),
        "hand" | "wrist" | "fist" => Read::Is(Role::Hand),
        "thigh" | "upleg" | "upperleg" => Read::Is(Role::Thigh),
        "calf" | "lowerleg" | "shin" | "knee" => Read::Is(Role::Shin),
        "leg" => Read::Leg,
        "foot" | "ankle" => Read::Is(Role::Foot),
        "ball" | "toe" | "toes" | "toebase" => Read::Is(Role::Toe),
        _ => return None,
    };
    let sided = !matches!(read, Read::Is(Role::Hips | Role::Spine | Role::Neck | Role::Head));
    match (sided, side) {
        (true, Side::Centre) | (false, Side::Left | Side::Right) => None,
        _ => Some((read, side)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_conventions_read_the_same() {
        let forearm_l = Some((Read::Is(Role::ForeArm), Side::Left));
        for name in ["mixamorig:LeftForeArm", "lowerarm_l", "forearm.L", "LowerArm.L", "b_LeftForeArm_010", "DEF-forearm.L"] {
            assert_eq!(read(name), forearm_l, "{name}");
        }
        assert_eq!(read("spine_02"), Some((Read::Is(Role::Spine), Side::Centre)));
        assert_eq!(read("mixamorig:Spine1"), Some((Read::Is(Role::Spine), Side::Centre)));
        assert_eq!(read("arm-left"), Some((Read::Is(Role::UpperArm), Side::Left)));
        assert_eq!(read("thigh_r"), Some((Read::Is(Role::Thigh), Side::Right)));
        assert_eq!(read("Fist.R"), Some((Read::Is(Role::Hand), Side::Right)));
        for name in ["index_01.l", "kneeIK.l", "handslot.l", "PoleTarget.L", "root", "Body", "hand"] {
            assert_eq!(read(name), None, "{name}");
        }
    }

    #[test]
    fn finger_segments_read_the_same_across_conventions() {
        let index_2_left = Some((Digit::Index, 2, Side::Left));
        for name in ["mixamorig:LeftHandIndex2", "index_02_l", "LeftIndexIntermediate", "leftIndexIntermediate", "f_index.02.L", "Index2.L"]
        {
            assert_eq!(read_finger(name), index_2_left, "{name}");
        }
        assert_eq!(read_finger("mixamorig:RightHandPinky4"), Some((Digit::Little, 4, Side::Right)));
        assert_eq!(read_finger("leftThumbMetacarpal"), Some((Digit::Thumb, 0, Side::Left)));
        // OpenXR's hand (Unity names with metacarpals): thumb counted from its metacarpal, the
        // other fingers' metacarpals left out, tips unread.
        let names = [
            "LeftHand",
            "LeftThumbMetacarpal",
            "LeftThumbProximal",
            "LeftThumbDistal",
            "LeftIndexMetacarpal",
            "LeftIndexProximal",
            "LeftIndexTip",
        ];
        let joints = names
            .iter()
            .enumerate()
            .map(|(i, n)| crate::skeleton::Joint {
                name: n.to_string(),
                parent: i.checked_sub(1),
                rest_local: Default::default(),
                joint_from_mesh: crate::Mat4::identity(),
                deform: true,
                in_skin: true,
            })
            .collect();
        let r = roles(&Skeleton { joints, source_skin: None });
        let finger = |d, n| Some((Role::Finger(d, n), Side::Left));
        assert_eq!(
            r[1..],
            [finger(Digit::Thumb, 1), finger(Digit::Thumb, 2), finger(Digit::Thumb, 3), None, finger(Digit::Index, 1), None]
        );
        for name in ["spring_bone", "ring_gear", "index", "earring.L", "Middle_finger_holder"] {
            assert_eq!(read_finger(name), None, "{name}");
        }
    }
}
