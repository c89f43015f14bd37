//! Naming presets: the joint names animation pipelines look for (Mixamo, the Unreal mannequin,
//! Unity's Humanoid, VRM 1.0), given to a humanoid skeleton by what each joint is (its
//! [`Slot`], read from its current name by [`crate::retarget::roles`]). A skeleton's own
//! convention is recognised; joints a preset has no name for keep theirs and are reported.

use crate::retarget::{find_role, roles, Digit, Role, Side};
use crate::skeleton::Skeleton;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Preset {
    /// The names as they are (the templates write Unreal's, without a root): renaming keeps them.
    #[default]
    Generated,
    Mixamo,
    Unreal,
    Unity,
    Vrm,
}

/// A place in a humanoid skeleton.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    /// The joint above the hips at the ground (Unreal's `root`).
    Root,
    /// The `i`-th link of the spine from the hips up.
    Spine(usize),
    Part(Role, Side),
}

impl Preset {
    pub const ALL: [Preset; 5] = [Preset::Generated, Preset::Mixamo, Preset::Unreal, Preset::Unity, Preset::Vrm];

    pub fn label(self) -> &'static str {
        match self {
            Preset::Generated => "generated",
            Preset::Mixamo => "mixamo",
            Preset::Unreal => "unreal",
            Preset::Unity => "unity",
            Preset::Vrm => "vrm",
        }
    }

    /// This convention's name for `slot`, `None` where it has none (Generated names nothing).
    pub fn name(self, slot: Slot) -> Option<String> {
        match self {
            Preset::Generated => None,
            Preset::Unreal => unreal(slot),
            Preset::Mixamo => match slot {
                Slot::Part(Role::Finger(d, n), side) if n <= 4 => Some(format!("Hand{}{n}", finger(d, "Pinky"))).map(|f| sided(&f, side)),
                _ => humanoid(slot, ["Spine", "Spine1", "Spine2"], MIXAMO),
            }
            .map(|n| format!("mixamorig:{n}")),
            Preset::Unity => humanoid(slot, ["Spine", "Chest", "UpperChest"], UNITY),
            Preset::Vrm => vrm_bone(slot),
        }
    }
}

/// Mixamo's names for the parts (left side; the right says Right).
const MIXAMO: [(Role, &str); 11] = [
    (Role::Hips, "Hips"),
    (Role::Neck, "Neck"),
    (Role::Head, "Head"),
    (Role::Clavicle, "Shoulder"),
    (Role::UpperArm, "Arm"),
    (Role::ForeArm, "ForeArm"),
    (Role::Hand, "Hand"),
    (Role::Thigh, "UpLeg"),
    (Role::Shin, "Leg"),
    (Role::Foot, "Foot"),
    (Role::Toe, "ToeBase"),
];

/// Unity Humanoid's (`HumanBodyBones`) names; VRM 1.0's are the same in lower camel case.
const UNITY: [(Role, &str); 11] = [
    (Role::Hips, "Hips"),
    (Role::Neck, "Neck"),
    (Role::Head, "Head"),
    (Role::Clavicle, "Shoulder"),
    (Role::UpperArm, "UpperArm"),
    (Role::ForeArm, "LowerArm"),
    (Role::Hand, "Hand"),
    (Role::Thigh, "UpperLeg"),
    (Role::Shin, "LowerLeg"),
    (Role::Foot, "Foot"),
    (Role::Toe, "Toes"),
];

/// Name in a `LeftUpperArm` style convention with three spine names; fingers as Unity names
/// them (`LeftIndexIntermediate`).
fn humanoid(slot: Slot, spine: [&str; 3], parts: [(Role, &str); 11]) -> Option<String> {
    match slot {
        Slot::Root => None,
        Slot::Spine(i) => spine.get(i).map(|s| s.to_string()),
        Slot::Part(Role::Finger(d, n), side) => {
            let segment = ["Proximal", "Intermediate", "Distal"].get(usize::from(n).checked_sub(1)?)?;
            Some(sided(&format!("{}{segment}", finger(d, "Little")), side))
        }
        Slot::Part(role, side) => Some(sided(parts.iter().find(|(r, _)| *r == role)?.1, side)),
    }
}

fn sided(base: &str, side: Side) -> String {
    match side {
        Side::Centre => base.to_string(),
        Side::Left => format!("Left{base}"),
        Side::Right => format!("Right{base}"),
    }
}

/// A finger's name, the little finger's as given.
fn finger(d: Digit, little: &'static str) -> &'static str {
    match d {
        Digit::Thumb => "Thumb",
        Digit::Index => "Index",
        Digit::Middle => "Middle",
        Digit::Ring => "Ring",
        Digit::Little => little,
    }
}

fn unreal(slot: Slot) -> Option<String> {
    if let Slot::Part(Role::Finger(d, n), side) = slot {
        let side = match side {
            Side::Left => "l",
            Side::Right => "r",
            Side::Centre => return None,
        };
        return (1..=3).contains(&n).then(|| format!("{}_0{n}_{side}", finger(d, "Pinky").to_lowercase()));
    }
    let part = |role| match role {
        Role::Hips => "pelvis",
        Role::Spine => "spine",
        Role::Neck => "neck_01",
        Role::Head => "head",
        Role::Clavicle => "clavicle",
        Role::UpperArm => "upperarm",
        Role::ForeArm => "lowerarm",
        Role::Hand => "hand",
        Role::Thigh => "thigh",
        Role::Shin => "calf",
        Role::Foot => "foot",
        Role::Toe => "ball",
        Role::Finger(..) => "finger",
    };
    Some(match slot {
        Slot::Root => "root".into(),
        Slot::Spine(i) if i < 5 => format!("spine_0{}", i + 1),
        Slot::Spine(_) => return None,
        Slot::Part(role, Side::Centre) => part(role).into(),
        Slot::Part(role, Side::Left) => format!("{}_l", part(role)),
        Slot::Part(role, Side::Right) => format!("{}_r", part(role)),
    })
}

/// The VRM 1.0 humanoid bone of a slot (`hips`, `leftUpperArm`, `leftThumbMetacarpal`, ...).
pub fn vrm_bone(slot: Slot) -> Option<String> {
    let name = match slot {
        // VRM 1.0's thumb: Metacarpal, Proximal, Distal.
        Slot::Part(Role::Finger(Digit::Thumb, n), side) => {
            sided(&format!("Thumb{}", ["Metacarpal", "Proximal", "Distal"].get(usize::from(n).checked_sub(1)?)?), side)
        }
        _ => humanoid(slot, ["Spine", "Chest", "UpperChest"], UNITY)?,
    };
    let mut chars = name.chars();
    let first = chars.next()?.to_ascii_lowercase();
    Some(std::iter::once(first).chain(chars).collect())
}

/// The humanoid bones VRM 1.0 requires.
pub const VRM_REQUIRED: [&str; 15] = [
    "hips",
    "spine",
    "head",
    "leftUpperArm",
    "leftLowerArm",
    "leftHand",
    "rightUpperArm",
    "rightLowerArm",
    "rightHand",
    "leftUpperLeg",
    "leftLowerLeg",
    "leftFoot",
    "rightUpperLeg",
    "rightLowerLeg",
    "rightFoot",
];

/// Each joint's slot: the roles the names give, spine links numbered from the hips up, and a
/// root for the joint without a role that holds the hips.
pub fn slots(skeleton: &Skeleton) -> Vec<Option<Slot>> {
    let roles = roles(skeleton);
    let mut out: Vec<Option<Slot>> = roles.iter().map(|r| r.map(|(role, side)| Slot::Part(role, side))).collect();
    let spine: Vec<usize> = (0..skeleton.len()).filter(|&j| matches!(roles[j], Some((Role::Spine, _)))).collect();
    // Joints are stored parents first, so a chain's links come in order from the hips.
    for (i, &j) in spine.iter().enumerate() {
        out[j] = Some(Slot::Spine(i));
    }
    if let Some(hips) = find_role(&roles, (Role::Hips, Side::Centre)) {
        if let Some(p) = skeleton.joints[hips].parent.filter(|&p| roles[p].is_none()) {
            out[p] = Some(Slot::Root);
        }
    }
    out
}

/// Joint names in `preset`'s convention and what it could not name.
#[derive(Debug, Clone, PartialEq)]
pub struct Renaming {
    pub names: Vec<String>,
    /// Joints given the preset's name.
    pub renamed: usize,
    /// Deforming joints the preset has no name for (they keep theirs).
    pub unmapped: Vec<String>,
    /// The preset's names no joint took (of the hips, spine, neck, head and limbs).
    pub missing: Vec<String>,
}

/// Renames `skeleton`'s joints for `preset` (see [`Renaming`]); names stay unique. Generated
/// keeps every name.
pub fn rename(skeleton: &Skeleton, preset: Preset) -> Renaming {
    let mut names: Vec<String> = skeleton.joints.iter().map(|j| j.name.clone()).collect();
    if preset == Preset::Generated {
        return Renaming { names, renamed: 0, unmapped: Vec::new(), missing: Vec::new() };
    }
    let slots = slots(skeleton);
    let mut renamed = 0;
    let wanted: Vec<Option<String>> = slots.iter().map(|s| s.and_then(|s| preset.name(s))).collect();
    for (j, w) in wanted.iter().enumerate() {
        if let Some(w) = w {
            names[j] = w.clone();
            renamed += 1;
        }
    }
    // A joint left alone whose name a renamed one took gets a suffix.
    for j in 0..names.len() {
        if wanted[j].is_none() && wanted.iter().flatten().any(|w| *w == names[j]) {
            names[j] = (1..).map(|i| format!("{}.{i:03}", names[j])).find(|n| !names.contains(n)).unwrap_or_default();
        }
    }
    let unmapped = (0..names.len()).filter(|&j| wanted[j].is_none() && skeleton.joints[j].deform).map(|j| names[j].clone()).collect();
    let missing = required_slots().filter_map(|s| preset.name(s)).filter(|n| !names.contains(n)).collect();
    Renaming { names, renamed, unmapped, missing }
}

/// Renames the joints in place for `preset`.
pub fn apply(skeleton: &mut Skeleton, preset: Preset) -> Renaming {
    let r = rename(skeleton, preset);
    skeleton.joints.iter_mut().zip(&r.names).for_each(|(j, n)| j.name.clone_from(n));
    r
}

/// [`apply`] on a whole rig. For Unreal, whose skeletons hang from a `root` on the ground,
/// hips without a parent first get one ([`crate::edit::add_ground_root`]: nothing moves,
/// clips keep their poses).
pub fn apply_to_rig(rig: &mut crate::Rig, preset: Preset) -> Renaming {
    if preset == Preset::Unreal {
        let hips = find_role(&roles(&rig.skeleton), (Role::Hips, Side::Centre));
        if let Some(h) = hips.filter(|&h| rig.skeleton.joints[h].parent.is_none()) {
            let name = crate::edit::unique_name(&rig.skeleton, "root");
            // The hips are a root and the name is unique: nothing to refuse.
            let _ = crate::edit::add_ground_root(rig, h, &name);
        }
    }
    apply(&mut rig.skeleton, preset)
}

/// Hips, the first spine link, neck, head and each side's arm and leg.
fn required_slots() -> impl Iterator<Item = Slot> {
    let centre =
        [Slot::Part(Role::Hips, Side::Centre), Slot::Spine(0), Slot::Part(Role::Neck, Side::Centre), Slot::Part(Role::Head, Side::Centre)];
    let limbs = [Role::UpperArm, Role::ForeArm, Role::Hand, Role::Thigh, Role::Shin, Role::Foot];
    let sided = [Side::Left, Side::Right].into_iter().flat_map(move |side| limbs.into_iter().map(move |r| Slot::Part(r, side)));
    centre.into_iter().chain(sided)
}

/// The preset whose names the skeleton already uses for most of its humanoid joints (at least
/// half of them), if any.
pub fn recognise(skeleton: &Skeleton) -> Option<Preset> {
    let slots = slots(skeleton);
    let slotted = slots.iter().filter(|s| s.is_some()).count();
    let score =
        |p: Preset| slots.iter().zip(&skeleton.joints).filter(|(s, j)| s.and_then(|s| p.name(s)).is_some_and(|n| n == j.name)).count();
    let best = [Preset::Mixamo, Preset::Unreal, Preset::Unity, Preset::Vrm].into_iter().max_by_key(|&p| score(p))?;
    (slotted > 0 && 2 * score(best) >= slotted).then_some(best)
}

/// VRM humanoid bones of a skeleton: (bone, joint) for every slot VRM names.
pub fn vrm_humanoid(skeleton: &Skeleton) -> Vec<(String, usize)> {
    slots(skeleton).iter().enumerate().filter_map(|(j, s)| s.and_then(vrm_bone).map(|b| (b, j))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skeleton::Joint;

    fn skeleton(names: &[&str], parents: &[Option<usize>]) -> Skeleton {
        let joints = names
            .iter()
            .zip(parents)
            .map(|(n, p)| Joint {
                name: n.to_string(),
                parent: *p,
                rest_local: Default::default(),
                joint_from_mesh: crate::Mat4::identity(),
                deform: true,
                in_skin: true,
            })
            .collect();
        Skeleton { joints, source_skin: None }
    }

    #[test]
    fn a_mixamo_rig_reads_as_mixamo_and_converts_to_each_convention() {
        let names = [
            "Armature",
            "mixamorig:Hips",
            "mixamorig:Spine",
            "mixamorig:Spine1",
            "mixamorig:Spine2",
            "mixamorig:Neck",
            "mixamorig:Head",
            "mixamorig:LeftShoulder",
            "mixamorig:LeftArm",
            "mixamorig:LeftForeArm",
            "mixamorig:LeftHand",
            "mixamorig:LeftHandIndex1",
            "mixamorig:LeftUpLeg",
            "mixamorig:LeftLeg",
            "mixamorig:LeftFoot",
            "mixamorig:LeftToeBase",
        ];
        let parents = [
            None,
            Some(0),
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(5),
            Some(4),
            Some(7),
            Some(8),
            Some(9),
            Some(10),
            Some(1),
            Some(12),
            Some(13),
            Some(14),
        ];
        let s = skeleton(&names, &parents);
        assert_eq!(recognise(&s), Some(Preset::Mixamo));
        let unreal = rename(&s, Preset::Unreal);
        assert_eq!(&unreal.names[..7], ["root", "pelvis", "spine_01", "spine_02", "spine_03", "neck_01", "head"]);
        assert_eq!(unreal.names[9], "lowerarm_l");
        assert_eq!(unreal.names[11], "index_01_l", "fingers too");
        assert!(unreal.unmapped.is_empty(), "{:?}", unreal.unmapped);
        assert!(unreal.missing.contains(&"upperarm_r".to_string()) && !unreal.missing.contains(&"upperarm_l".to_string()));
        let vrm = rename(&s, Preset::Vrm);
        assert_eq!(&vrm.names[1..5], ["hips", "spine", "chest", "upperChest"]);
        assert_eq!(vrm.names[15], "leftToes");
        assert_eq!(rename(&s, Preset::Unity).names[13], "LeftLowerLeg");
        assert_eq!(rename(&s, Preset::Unity).names[11], "LeftIndexProximal");
        assert_eq!(vrm.names[11], "leftIndexProximal");
        // Back to Mixamo: the names it had.
        let renamed = skeleton(&unreal.names.iter().map(String::as_str).collect::<Vec<_>>(), &parents);
        assert_eq!(recognise(&renamed), Some(Preset::Unreal));
        let back = rename(&renamed, Preset::Mixamo);
        assert_eq!(back.names[1..], names[1..].iter().map(|n| n.to_string()).collect::<Vec<_>>()[..]);
    }
}
