//! Rig from motion end to end: free bones by [`super::ssdr`], then the joint tree by
//! [`super::hierarchy`], then an ordinary [`Rig`]: joints, weights and one clip whose key `i`
//! is input frame `i`.

use nalgebra::{Rotation3, UnitQuaternion, Vector3};

use super::hierarchy::{self, Hierarchy};
use super::ssdr::{self, BoneTransform, Rows, SsdrError, SsdrOptions};
use super::MeshSequence;
use crate::animation::{Channel, ChannelValues, Clip, Interpolation};
use crate::material::MaterialLibrary;
use crate::mesh::{Mesh, MeshGroup, Part};
use crate::skeleton::{Joint, Skeleton};
use crate::task::Task;
use crate::transform::Trs;
use crate::weights::SkinWeights;
use crate::{Mat4, Rig};

type V3 = Vector3<f64>;

/// The skeleton's error may be this many times the free bones' before joints are let translate.
const SKELETON_BUDGET: f64 = 1.35;

/// An error this much above the free bones' (% of the diagonal, 0.02 mm on a two-metre
/// character) is not worth a translating joint.
const NEGLIGIBLE_PERCENT: f64 = 0.001;

/// Most rounds of letting joints translate (each frees a quarter of the joints still connected,
/// so a 40-joint tree can be freed entirely).
const RELEASES: usize = 12;

#[derive(Debug, Clone, PartialEq)]
pub struct MotionOptions {
    pub ssdr: SsdrOptions,
    /// Re-solve the bones as a joint tree turning about its joints (else free bones, each a
    /// root joint of its own).
    pub hierarchy: bool,
    /// Most rounds of weight and hierarchical transform updates.
    pub hierarchy_rounds: usize,
}

impl Default for MotionOptions {
    fn default() -> Self {
        MotionOptions { ssdr: SsdrOptions::default(), hierarchy: true, hierarchy_rounds: 4 }
    }
}

/// What rig from motion recovered, before it becomes a [`Rig`].
#[derive(Debug, Clone, PartialEq)]
pub struct MotionResult {
    /// Per input vertex: (bone, weight) pairs summing to one.
    pub weights: Vec<Vec<(u32, f32)>>,
    /// `transforms[t][b]`: bone `b`'s rigid transform at frame `t` (world, from the rest pose).
    pub transforms: Vec<Vec<BoneTransform>>,
    /// The joint tree, when one was asked for.
    pub hierarchy: Option<Hierarchy>,
    /// RMSE of the free bones, % of the rest pose's diagonal.
    pub free_rmse_percent: f64,
    /// RMSE of the hierarchical skeleton, % of the diagonal.
    pub hierarchy_rmse_percent: Option<f64>,
    /// Free-bone error after each iteration.
    pub history: Vec<f64>,
    /// Bones the solver left without any vertex (dropped from the result).
    pub dropped_bones: usize,
}

/// Recovers bones, weights and per-frame transforms (and the joint tree) from `seq`.
pub fn rig_from_motion(seq: &MeshSequence, options: &MotionOptions, task: &Task) -> Result<MotionResult, SsdrError> {
    rig_from_motion_seeded(seq, options, None, task)
}

/// [`rig_from_motion`] with the first clusters drawn from `embeddings` (one per vertex, a
/// learned initialiser's) instead of the vertices' trajectories.
pub fn rig_from_motion_seeded(
    seq: &MeshSequence,
    options: &MotionOptions,
    embeddings: Option<&[Vec<f32>]>,
    task: &Task,
) -> Result<MotionResult, SsdrError> {
    let mut solution = ssdr::solve(seq, &options.ssdr, embeddings, task)?;
    let free_rmse_percent = solution.rmse_percent();
    let dropped_bones = drop_unused_bones(&mut solution.weights, &mut solution.transforms);
    let mut result = MotionResult {
        weights: Vec::new(),
        transforms: Vec::new(),
        hierarchy: None,
        free_rmse_percent,
        hierarchy_rmse_percent: None,
        history: solution.history.clone(),
        dropped_bones,
    };
    if options.hierarchy {
        task.stage("joint tree: centres and rotations about the joints", 0.95)?;
        let mut h = Hierarchy::build(&solution.problem, &solution.weights, &solution.transforms);
        let k = options.ssdr.max_influences;
        let (mut w, mut t, mut history) = hierarchy::solve(
            &solution.problem,
            &h,
            &solution.weights,
            &solution.transforms,
            k,
            options.ssdr.smoothness,
            options.hierarchy_rounds,
        );
        // Joints whose parent and child disagree most translate too, a quarter of those left
        // at a time, until the skeleton is within the budget of the free bones' error.
        for _ in 0..RELEASES {
            let error = history.last().copied().unwrap_or(f64::MAX);
            let connected = h.connected.iter().zip(&h.parent).filter(|(c, p)| **c && p.is_some()).count();
            if error <= SKELETON_BUDGET * free_rmse_percent || error - free_rmse_percent <= NEGLIGIBLE_PERCENT || connected == 0 {
                break;
            }
            task.check()?;
            h.release_widest(connected.div_ceil(4));
            (w, t, history) = hierarchy::solve(
                &solution.problem,
                &h,
                &solution.weights,
                &solution.transforms,
                k,
                options.ssdr.smoothness,
                options.hierarchy_rounds,
            );
        }
        (solution.weights, solution.transforms) = (w, t);
        result.hierarchy_rmse_percent = history.last().copied();
        result.hierarchy = Some(h);
    }
    result.weights = solution.input_weights();
    result.transforms = solution.transforms;
    Ok(result)
}

/// Removes bones that no vertex uses and renumbers the rest; returns how many went.
fn drop_unused_bones(weights: &mut Rows, transforms: &mut [Vec<BoneTransform>]) -> usize {
    let bones = transforms.first().map_or(0, Vec::len);
    let mut used = vec![false; bones];
    weights.iter().flatten().for_each(|&(b, _)| used[b] = true);
    let mut new_index = vec![usize::MAX; bones];
    let mut next = 0;
    for b in 0..bones {
        if used[b] {
            new_index[b] = next;
            next += 1;
        }
    }
    weights.iter_mut().flatten().for_each(|e| e.0 = new_index[e.0]);
    for frame in transforms.iter_mut() {
        let kept: Vec<BoneTransform> = frame.iter().enumerate().filter(|(b, _)| used[*b]).map(|(_, t)| *t).collect();
        *frame = kept;
    }
    bones - next
}

/// The mesh a recovered rig carries: `template` (the source's parts, UVs and materials, its
/// positions replaced by the rest pose) when its vertex count matches, else the bare rest pose.
pub fn rest_mesh(seq: &MeshSequence, template: Option<&Mesh>) -> Mesh {
    if let Some(t) = template.filter(|t| t.vertex_count() == seq.rest.len()) {
        let mut mesh = t.clone();
        mesh.positions = seq.rest.clone();
        mesh.normals.clear();
        for part in &mut mesh.parts {
            part.skinned = true;
            part.morph_targets.clear();
        }
        for g in &mut mesh.groups {
            g.morph_target_names.clear();
            g.morph_default_weights.clear();
        }
        return mesh;
    }
    let n = seq.rest.len() as u32;
    Mesh {
        positions: seq.rest.clone(),
        triangles: seq.triangles.clone(),
        parts: vec![Part {
            name: "motion".into(),
            group: 0,
            material: None,
            vertices: 0..n,
            triangles: 0..seq.triangles.len() as u32,
            skinned: true,
            morph_targets: Vec::new(),
        }],
        groups: vec![MeshGroup { name: "motion".into(), ..Default::default() }],
        ..Default::default()
    }
}

/// The recovered rig: joints (parents first) at the joint centres, the weights, and one clip
/// `clip_name` keyed at the sequence's frame times.
pub fn to_rig(name: &str, seq: &MeshSequence, result: &MotionResult, mesh: Mesh, materials: MaterialLibrary, clip_name: &str) -> Rig {
    let bones = result.transforms.first().map_or(0, Vec::len);
    let (order, parent, joint, connected) = layout(result, seq, bones);
    let slot: Vec<usize> = {
        let mut s = vec![0; bones];
        order.iter().enumerate().for_each(|(k, &b)| s[b] = k);
        s
    };
    let f = |v: V3| Vector3::new(v.x as f32, v.y as f32, v.z as f32);
    let joints: Vec<Joint> = order
        .iter()
        .enumerate()
        .map(|(k, &b)| {
            let local = parent[b].map_or(joint[b], |q| joint[b] - joint[q]);
            Joint {
                name: if parent[b].is_none() && k == 0 { "root".into() } else { format!("bone_{k:02}") },
                parent: parent[b].map(|q| slot[q]),
                rest_local: Trs { translation: f(local), ..Trs::IDENTITY },
                joint_from_mesh: Mat4::new_translation(&-f(joint[b])),
                deform: true,
                in_skin: true,
            }
        })
        .collect();
    let weights =
        SkinWeights::from_rows(result.weights.iter().map(|row| row.iter().map(|&(b, w)| (slot[b as usize] as u32, w)).collect::<Vec<_>>()));
    let clip = clip(seq, result, &order, &parent, &joint, &connected, clip_name);
    let skeleton = Skeleton { joints, source_skin: None };
    Rig { name: name.into(), mesh, skeleton, weights, clips: vec![clip], materials, scene_from_mesh: None }
}

type Layout = (Vec<usize>, Vec<Option<usize>>, Vec<V3>, Vec<bool>);

/// Bone order, parents, joint positions and connectivity; free bones are roots at their centres.
fn layout(result: &MotionResult, seq: &MeshSequence, bones: usize) -> Layout {
    if let Some(h) = &result.hierarchy {
        return (h.order.clone(), h.parent.clone(), h.joint.clone(), h.connected.clone());
    }
    let mut sum = vec![V3::zeros(); bones];
    let mut mass = vec![0.0; bones];
    for (p, row) in seq.rest.iter().zip(&result.weights) {
        for &(b, w) in row {
            sum[b as usize] += V3::new(p[0] as f64, p[1] as f64, p[2] as f64) * w as f64;
            mass[b as usize] += w as f64;
        }
    }
    let centre = sum.iter().zip(&mass).map(|(s, &m)| if m > 0.0 { s / m } else { V3::zeros() }).collect();
    ((0..bones).collect(), vec![None; bones], centre, vec![false; bones])
}

/// Rotation keys for every joint, translation keys for roots and unconnected joints.
fn clip(
    seq: &MeshSequence,
    result: &MotionResult,
    order: &[usize],
    parent: &[Option<usize>],
    joint: &[V3],
    connected: &[bool],
    name: &str,
) -> Clip {
    let quat = |r: &nalgebra::Matrix3<f64>| {
        let q = UnitQuaternion::from_rotation_matrix(&Rotation3::from_matrix_unchecked(*r));
        [q.i as f32, q.j as f32, q.k as f32, q.w as f32]
    };
    let mut channels = Vec::new();
    for (k, &b) in order.iter().enumerate() {
        let mut rotations = Vec::with_capacity(seq.times.len());
        let mut translations = Vec::with_capacity(seq.times.len());
        for frame in &result.transforms {
            let world = &frame[b];
            // The joint's model transform: rotation R_b, at the image of its rest position.
            let origin = world.apply(&joint[b]);
            match parent[b] {
                None => {
                    rotations.push(quat(&world.rotation));
                    translations.push([origin.x as f32, origin.y as f32, origin.z as f32]);
                }
                Some(q) => {
                    let pr = frame[q].rotation;
                    rotations.push(quat(&(pr.transpose() * world.rotation)));
                    let local = pr.transpose() * (origin - frame[q].apply(&joint[q]));
                    translations.push([local.x as f32, local.y as f32, local.z as f32]);
                }
            }
        }
        channels.push(Channel {
            joint: k,
            times: seq.times.clone(),
            values: ChannelValues::Rotation(rotations),
            interpolation: Interpolation::Linear,
        });
        if parent[b].is_none() || !connected[b] {
            channels.push(Channel {
                joint: k,
                times: seq.times.clone(),
                values: ChannelValues::Translation(translations),
                interpolation: Interpolation::Linear,
            });
        }
    }
    Clip { name: name.into(), channels, morph_channels: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::super::ssdr::tests_support::bent_tube;
    use super::*;
    use crate::pose::Pose;

    fn posed(rig: &Rig, time: f32) -> Vec<[f32; 3]> {
        let mut pose = Pose::rest(&rig.skeleton);
        rig.clips[0].apply(time, &mut pose);
        crate::lbs::skin_positions(&rig.mesh.positions, &rig.weights, &pose.skinning_matrices(&rig.skeleton))
    }

    fn rig_error_percent(seq: &MeshSequence, rig: &Rig) -> f64 {
        let mut total = 0.0;
        let mut count = 0.0;
        for (frame, &time) in seq.frames.iter().zip(&seq.times) {
            for (a, b) in posed(rig, time).iter().zip(frame) {
                total += (0..3).map(|k| ((a[k] - b[k]) as f64).powi(2)).sum::<f64>();
                count += 1.0;
            }
        }
        100.0 * (total / count).sqrt() / seq.diagonal()
    }

    #[test]
    fn a_bent_tube_comes_back_as_a_chain_that_plays_its_frames() {
        let (seq, _) = bent_tube(3, 24);
        let options = MotionOptions { ssdr: SsdrOptions { bones: 3, iterations: 40, ..Default::default() }, ..Default::default() };
        let result = rig_from_motion(&seq, &options, &Task::silent()).expect("recovers");
        let h = result.hierarchy.as_ref().expect("a joint tree");
        assert!(h.connected.iter().zip(&h.parent).all(|(&c, p)| p.is_none() || c), "{h:?}");
        let hier = result.hierarchy_rmse_percent.expect("hierarchical error");
        assert!(hier < 0.05, "hierarchical {hier} % vs free {} %", result.free_rmse_percent);
        let rig = to_rig("tube", &seq, &result, rest_mesh(&seq, None), MaterialLibrary::default(), "motion");
        rig.validate().expect("a valid rig");
        assert_eq!(rig.skeleton.joints.iter().filter(|j| j.parent.is_none()).count(), 1, "one root");
        let played = rig_error_percent(&seq, &rig);
        assert!((played - hier).abs() < 0.01, "the clip plays back at {played} %, the solver said {hier} %");
        // Joints sit on the tube's axis near the true joints at y = 1 and y = 2.
        let ys: Vec<f32> = rig.skeleton.rest_positions().iter().skip(1).map(|p| p[1]).collect();
        assert!(ys.iter().any(|y| (y - 1.0).abs() < 0.1) && ys.iter().any(|y| (y - 2.0).abs() < 0.1), "{ys:?}");
    }

    #[test]
    fn free_bones_play_back_as_the_solver_measured() {
        let (seq, _) = bent_tube(2, 12);
        let options =
            MotionOptions { ssdr: SsdrOptions { bones: 2, iterations: 20, ..Default::default() }, hierarchy: false, ..Default::default() };
        let result = rig_from_motion(&seq, &options, &Task::silent()).expect("recovers");
        let rig = to_rig("tube", &seq, &result, rest_mesh(&seq, None), MaterialLibrary::default(), "motion");
        let played = rig_error_percent(&seq, &rig);
        assert!((played - result.free_rmse_percent).abs() < 0.01, "{played} vs {}", result.free_rmse_percent);
    }

    #[test]
    fn smoothness_evens_out_weights_across_the_surface() {
        let mut rig = crate::creature::creature(5, &crate::creature::CreatureOptions { resolution: 24, ..Default::default() });
        rig.clips = vec![crate::creature::motion::random_motion(&rig.skeleton, 5, 20, 24.0)];
        let seq = crate::motion::bake_clip(&rig, 0).expect("bakes");
        let roughness = |smoothness: f64| {
            let ssdr = SsdrOptions { bones: 8, smoothness, ..Default::default() };
            let result =
                rig_from_motion(&seq, &MotionOptions { ssdr, hierarchy: false, ..Default::default() }, &Task::silent()).expect("solves");
            let get = |v: u32, b: u32| result.weights[v as usize].iter().find(|e| e.0 == b).map_or(0.0, |e| e.1);
            let mut total = 0.0;
            for t in &seq.triangles {
                for (a, b) in [(t[0], t[1]), (t[1], t[2]), (t[2], t[0])] {
                    total += (0..8).map(|j| (get(a, j) - get(b, j)).abs()).sum::<f32>();
                }
            }
            (total / (3 * seq.triangles.len()) as f32, result.free_rmse_percent)
        };
        let ((rough, e0), (smooth, e1)) = (roughness(0.0), roughness(1e-5));
        assert!(smooth < rough, "roughness {smooth} with smoothness, {rough} without");
        assert!(e1 < 2.0 * e0 + 0.05, "error {e1} % with smoothness, {e0} % without");
    }
}
