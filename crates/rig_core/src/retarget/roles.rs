//! What a joint's name says it is: hips, a link of the spine, neck, head, or on one side a
//! clavicle, upper arm, forearm, hand, thigh, shin, foot or toe. Reads the usual conventions
//! (Mixamo's `mixamorig:LeftForeArm`, Unreal's `lowerarm_l`, Blender's `forearm.L`, Quaternius'
//! `LowerArm.L`, KayKit's `lowerarm.l`, Kenney's `arm-left`).

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
    let read: Vec<Option<(Read, Side)>> = skeleton.joints.iter().map(|j| read(&j.name)).collect();
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
}
