//! Geodesic voxel binding on the artists' own skeletons of the bundled samples, judged against
//! the artists' weights. The thresholds guard against regressions; the figures on all of
//! ../shared/assets are in the README (`rigsmith eval`).

mod common;

use rig_core::autoskin::{skin_for_skeleton, AutoSkinOptions};
use rig_core::metrics::{skin_scores, SkinScores};

fn reskin(path: &std::path::Path) -> (SkinScores, usize) {
    let mut rig = rig_io::load(path).expect("sample loads").rig;
    rig.mark_unweighted_joints_non_deforming();
    let ours = skin_for_skeleton(&rig.mesh, &rig.skeleton, &AutoSkinOptions::default(), rig_core::Task::silent())
        .expect("a silent task is never cancelled");
    let unweighted = (0..rig.mesh.vertex_count()).filter(|&v| ours.row(v).0.is_empty()).count();
    let joints: Vec<Option<u32>> = (0..rig.skeleton.len() as u32).map(Some).collect();
    let vertices: Vec<usize> = (0..rig.mesh.vertex_count()).collect();
    (skin_scores(&ours, &rig.weights, &joints, &vertices), unweighted)
}

#[test]
fn bundled_rigs_are_reskinned_close_to_the_artists() {
    let files = common::gltf_files(&common::samples());
    let mut sum = (0.0, 0.0, 0.0);
    for f in &files {
        let (s, unweighted) = reskin(f);
        eprintln!(
            "{:<40} precision {:.3} recall {:.3} L1 {:.3}",
            f.file_name().unwrap_or_default().to_string_lossy(),
            s.precision,
            s.recall,
            s.l1
        );
        assert_eq!(unweighted, 0, "{}: unweighted vertices", f.display());
        sum = (sum.0 + s.precision, sum.1 + s.recall, sum.2 + s.l1);
    }
    let n = files.len() as f32;
    let (p, r, l1) = (sum.0 / n, sum.1 / n, sum.2 / n);
    eprintln!("mean precision {p:.3} recall {r:.3} L1 {l1:.3}");
    assert!(p >= 0.72 && r >= 0.85 && l1 <= 0.40, "mean precision {p:.3} recall {r:.3} L1 {l1:.3}");
}
