//! The biped template on real humanoids (../shared/assets when present): characters in a
//! T-pose, re-posed to an A-pose, in a dress, with legs pressed together, axes in their
//! hands or a slim torso, fitted with five fingers where the mesh shows them apart.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn rigsmith(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rigsmith")).args(args).current_dir(common::repo()).output().expect("runs")
}

fn temp() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rigsmith-biped-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp");
    dir
}

/// `rigsmith rig --kind biped` on `input`: the generated skeleton, or the refusal.
fn fit(input: &Path, output: &Path) -> Result<rig_core::Skeleton, String> {
    let o = rigsmith(&["rig", "--input", &input.to_string_lossy(), "--output", &output.to_string_lossy(), "--kind", "biped"]);
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr).into_owned());
    }
    Ok(rig_io::load(output).expect("reads back").rig.skeleton)
}

/// Fingers (three joints each) hanging from the hand of `side` ("l" or "r").
fn fingers(s: &rig_core::Skeleton, side: &str) -> usize {
    let Some(hand) = s.find(&format!("hand_{side}")) else { return 0 };
    s.joints.iter().filter(|j| j.parent == Some(hand) && j.name.ends_with(&format!("_01_{side}"))).count()
}

#[test]
fn realistic_humanoids_fit_the_biped_as_they_come_and_re_posed_with_their_fingers() {
    let Some(assets) = common::shared_assets() else { return };
    let dir = temp();
    // Quaternius' modular characters: about seven heads tall, separate fingers; the woman's
    // trouser legs touch from the knees down.
    for file in ["train/quaternius_modular_men_suit/Suit.glb", "train/quaternius_modular_women_suit/Suit.glb"] {
        let input = assets.join(file);
        for pose in ["as-is", "t", "a"] {
            let posed = if pose == "as-is" {
                input.clone()
            } else {
                let out = dir.join(format!("posed_{pose}.glb"));
                let o = rigsmith(&["convert", &input.to_string_lossy(), &out.to_string_lossy(), "--rest-pose", pose]);
                assert!(o.status.success(), "{file} {pose}: {}", String::from_utf8_lossy(&o.stderr));
                out
            };
            let s = fit(&posed, &dir.join("rigged.glb")).unwrap_or_else(|e| panic!("{file} {pose}: {e}"));
            let (root, pelvis) = (s.find("root").expect("a root"), s.find("pelvis").expect("a pelvis"));
            assert_eq!(s.joints[pelvis].parent, Some(root), "{file} {pose}");
            for side in ["l", "r"] {
                assert!(fingers(&s, side) >= 4, "{file} {pose}: {} fingers on the {side} hand", fingers(&s, side));
            }
        }
    }
    // gdquest's Sophia: her knees and boots press together.
    let sophia = fit(&assets.join("train/gdquest_sophia/sophia.glb"), &dir.join("sophia.glb")).expect("fits");
    assert!(sophia.find("thigh_l").is_some() && sophia.find("hand_r").is_some());
    // KayKit's Barbarian holds an axe out in each hand (separate meshes): fitted without them,
    // its hands stay on its arms, level with the shoulders as in its artist's T-pose.
    let barbarian = fit(&assets.join("kaykit_barbarian/Barbarian.glb"), &dir.join("barbarian.glb")).expect("fits");
    let pos = rig_core::autoskin::bones::bind_positions(&barbarian);
    let at = |name: &str| pos[barbarian.find(name).unwrap_or_else(|| panic!("no {name}"))];
    for side in ["l", "r"] {
        let (hand, shoulder) = (at(&format!("hand_{side}")), at(&format!("upperarm_{side}")));
        assert!((hand.y - shoulder.y).abs() < 0.25 && hand.x.abs() < 1.0, "{side}: hand {hand:?} shoulder {shoulder:?}");
    }
    // Quaternius' cyberpunk character: a slim torso that widens over two cross-sections where
    // the arms join it. Its shoulders land at the artist's.
    let input = assets.join("train/quaternius_cyberpunk_character/Character.glb");
    let cyber = fit(&input, &dir.join("cyber.glb")).expect("fits");
    let artist = rig_io::load(&input).expect("reads").rig.skeleton;
    let (pos, truth) = (rig_core::autoskin::bones::bind_positions(&cyber), rig_core::autoskin::bones::bind_positions(&artist));
    for (ours, theirs) in [("upperarm_l", "UpperArm.L"), ("upperarm_r", "UpperArm.R")] {
        let (a, b) = (pos[cyber.find(ours).expect("generated")], truth[artist.find(theirs).expect("artist's")]);
        assert!((a - b).norm() < 0.1, "{ours} at {a:?}, the artist's {theirs} at {b:?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
