use std::collections::HashMap;

use super::*;
use crate::autoskin::{skin_for_skeleton, AutoSkinOptions};
use crate::metrics::{joints_inside, skin_scores};
use crate::task::Task;

fn small() -> CreatureOptions {
    CreatureOptions { resolution: 48, ..Default::default() }
}

#[test]
fn a_seed_gives_one_creature_and_another_seed_another() {
    let a = creature(3, &small());
    a.validate().expect("a valid rig");
    assert_eq!(a, creature(3, &small()), "the seed fixes the creature");
    let b = creature(4, &small());
    assert_ne!(a.mesh.positions.len(), b.mesh.positions.len(), "another seed, another shape");
}

#[test]
fn every_creature_is_closed_outward_and_holds_its_skeleton() {
    for seed in 0..12 {
        let rig = creature(seed, &small());
        let mesh = &rig.mesh;
        let mut edges: HashMap<(u32, u32), i32> = HashMap::new();
        for t in &mesh.triangles {
            for (a, b) in [(t[0], t[1]), (t[1], t[2]), (t[2], t[0])] {
                // +1 one way, -1 the other: a closed, consistently wound mesh sums to 0 on every edge.
                *edges.entry((a.min(b), a.max(b))).or_default() += if a < b { 1 } else { -1 };
            }
        }
        assert!(edges.values().all(|&n| n == 0), "seed {seed}: open or inconsistently wound");
        assert!(surface::signed_volume(&mesh.positions, &mesh.triangles) > 0.0, "seed {seed}: winds outward");
        let inside = joints_inside(&rig.skeleton, &mesh.positions, &mesh.triangles);
        assert_eq!(inside, 1.0, "seed {seed}: every deforming joint inside");
        assert!(rig.skeleton.len() >= 6, "seed {seed}: {} joints", rig.skeleton.len());
    }
}

#[test]
fn creatures_are_mirror_symmetric_across_x() {
    for seed in 0..6 {
        let rig = creature(seed, &small());
        let joints = rig.skeleton.rest_positions();
        for p in &joints {
            let mirrored = Vector3::new(-p[0], p[1], p[2]);
            let gap = joints.iter().map(|q| (Vector3::from(*q) - mirrored).norm()).fold(f32::INFINITY, f32::min);
            assert!(gap < 1e-5, "seed {seed}: joint {p:?} has no mirror image ({gap})");
        }
        // The surface too, within the grid's resolution.
        let bounds = rig.mesh.bounds().expect("a mesh");
        let cell = bounds.size().iter().cloned().fold(0.0, f32::max) / 48.0;
        for p in rig.mesh.positions.iter().step_by(37) {
            let mirrored = Vector3::new(-p[0], p[1], p[2]);
            let gap = rig.mesh.positions.iter().map(|q| (Vector3::from(*q) - mirrored).norm()).fold(f32::INFINITY, f32::min);
            assert!(gap < 1.5 * cell, "seed {seed}: vertex {p:?} has no mirror image ({gap} against a cell of {cell})");
        }
    }
}

#[test]
fn every_vertex_follows_the_bones_it_was_built_around() {
    for seed in 0..8 {
        let rig = creature(seed, &small());
        assert_eq!(rig.unweighted_skinned_vertices(), 0, "seed {seed}");
        assert!(rig.weights.max_influences() <= 4);
        assert!(rig.weights.sums().iter().all(|s| (s - 1.0).abs() < 1e-4), "seed {seed}: rows sum to 1");
        // The vertex nearest the middle of each bone carries a large share of the bone's joint
        // (short bones blend with their neighbours over most of their length).
        let joints = rig.skeleton.rest_positions();
        for (child, joint) in rig.skeleton.joints.iter().enumerate() {
            let Some(parent) = joint.parent else { continue };
            let middle = (Vector3::from(joints[parent]) + Vector3::from(joints[child])) * 0.5;
            let distance = |i: usize| (Vector3::from(rig.mesh.positions[i]) - middle).norm();
            let v = (0..rig.mesh.vertex_count()).min_by(|&a, &b| distance(a).total_cmp(&distance(b))).expect("vertices");
            let siblings = rig.skeleton.children(parent).count();
            // Where bones fork from one joint, the middle of a short bone can lie on a sibling.
            let w = rig.weights.weight(v, parent as u32);
            assert!(
                w >= 0.3 || siblings > 1,
                "seed {seed}: bone {parent} -> {child}: its middle vertex has {w} of joint {parent}: {:?}",
                rig.weights.row(v)
            );
        }
    }
}

#[test]
fn the_geometric_binder_recovers_most_of_the_construction_weights() {
    // Independent evidence that the weights are what a skin for this skeleton should be: the
    // bone-heat binder, which knows nothing of the construction, agrees on most influences.
    let rig = creature(5, &small());
    let ours = skin_for_skeleton(&rig.mesh, &rig.skeleton, &AutoSkinOptions::default(), Task::silent()).expect("not cancelled");
    let joints: Vec<Option<u32>> = (0..rig.skeleton.len() as u32).map(Some).collect();
    let vertices: Vec<usize> = (0..rig.mesh.vertex_count()).collect();
    let s = skin_scores(&ours, &rig.weights, &joints, &vertices);
    eprintln!("bone heat against construction: precision {:.3} recall {:.3} L1 {:.3}", s.precision, s.recall, s.l1);
    assert!(s.precision > 0.7 && s.recall > 0.7 && s.l1 < 0.5, "{s:?}");
}
