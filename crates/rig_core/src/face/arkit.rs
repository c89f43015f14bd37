//! Apple ARKit's 52 blendshape names, in ARKit's order, and where each comes from in the ICT
//! face model (ICT names the sides `_L` / `_R`, the face's own left and right, as ARKit's
//! `Left` / `Right` mean; it splits `browInnerUp` and `cheekPuff` into halves and has no tongue
//! shape).

/// The 52 ARKit blendshapes (`ARFaceAnchor.BlendShapeLocation`).
pub const ARKIT_52: [&str; 52] = [
    "eyeBlinkLeft",
    "eyeLookDownLeft",
    "eyeLookInLeft",
    "eyeLookOutLeft",
    "eyeLookUpLeft",
    "eyeSquintLeft",
    "eyeWideLeft",
    "eyeBlinkRight",
    "eyeLookDownRight",
    "eyeLookInRight",
    "eyeLookOutRight",
    "eyeLookUpRight",
    "eyeSquintRight",
    "eyeWideRight",
    "jawForward",
    "jawLeft",
    "jawRight",
    "jawOpen",
    "mouthClose",
    "mouthFunnel",
    "mouthPucker",
    "mouthLeft",
    "mouthRight",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "browDownLeft",
    "browDownRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    "cheekPuff",
    "cheekSquintLeft",
    "cheekSquintRight",
    "noseSneerLeft",
    "noseSneerRight",
    "tongueOut",
];

/// The shape's region of the face, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Region {
    Eyes,
    Brows,
    Jaw,
    Mouth,
    Cheeks,
    Nose,
    Tongue,
}

impl Region {
    pub fn of(name: &str) -> Region {
        match name {
            n if n.starts_with("eye") => Region::Eyes,
            n if n.starts_with("brow") => Region::Brows,
            n if n.starts_with("jaw") => Region::Jaw,
            n if n.starts_with("mouth") => Region::Mouth,
            n if n.starts_with("cheek") => Region::Cheeks,
            n if n.starts_with("nose") => Region::Nose,
            _ => Region::Tongue,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Region::Eyes => "eyes",
            Region::Brows => "brows",
            Region::Jaw => "jaw",
            Region::Mouth => "mouth",
            Region::Cheeks => "cheeks",
            Region::Nose => "nose",
            Region::Tongue => "tongue",
        }
    }
}

/// The ICT shapes whose sum is the ARKit shape `name`; empty for `tongueOut`, which ICT lacks.
pub fn ict_sources(name: &str) -> Vec<String> {
    match name {
        "browInnerUp" | "cheekPuff" => vec![format!("{name}_L"), format!("{name}_R")],
        "tongueOut" => vec![],
        // Sideways moves of the jaw and the mouth, not sided shapes.
        "jawLeft" | "jawRight" | "mouthLeft" | "mouthRight" => vec![name.to_string()],
        n => match (n.strip_suffix("Left"), n.strip_suffix("Right")) {
            (Some(base), _) => vec![format!("{base}_L")],
            (_, Some(base)) => vec![format!("{base}_R")],
            _ => vec![n.to_string()],
        },
    }
}

/// The ARKit name of an ICT shape name or of an ARKit name (`eyeBlink_L` -> `eyeBlinkLeft`),
/// `None` for the shapes ARKit lacks and for the halves ICT splits.
pub fn arkit_name(ict: &str) -> Option<&'static str> {
    ARKIT_52.iter().copied().find(|a| *a == ict || ict_sources(a) == [ict.to_string()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_arkit_name_is_unique_and_maps_back_from_its_ict_source() {
        let mut names = ARKIT_52.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 52);
        assert_eq!(arkit_name("eyeBlink_L"), Some("eyeBlinkLeft"));
        assert_eq!(arkit_name("noseSneer_R"), Some("noseSneerRight"));
        assert_eq!(arkit_name("jawOpen"), Some("jawOpen"));
        assert_eq!(arkit_name("jawLeft"), Some("jawLeft"));
        assert_eq!(ict_sources("mouthRight"), ["mouthRight"]);
        assert_eq!(arkit_name("browInnerUp_L"), None);
        assert_eq!(ict_sources("cheekPuff"), ["cheekPuff_L", "cheekPuff_R"]);
        assert_eq!(Region::of("mouthSmileLeft"), Region::Mouth);
    }
}
