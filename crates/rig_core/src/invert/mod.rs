//! Rig inversion: the controls of an existing rig (joint rotations, translations and scales,
//! morph target weights) that reproduce target meshes, one solve per frame warm-started from the
//! last.

pub mod blackbox;
pub mod blendshapes;
pub mod dqs;
pub mod lbs;
pub mod moments;

use nalgebra::{Matrix3, UnitQuaternion};
use thiserror::Error;

use crate::animation::{Channel, ChannelValues, Clip, Interpolation, MorphWeightsChannel};
use crate::motion::bake::{morph_weights_at, morphed_with, posed_with};
use crate::pose::Pose;
use crate::task::{Cancelled, Task};
use crate::Rig;
use blendshapes::{bounded_least_squares, MorphControls};
use lbs::{Layout, PoseF64, SkeletonF64, Smoothness};
use moments::{skinned_vertices, PairMoments, TargetMoments};

/// Which controls to solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Joints where the rig has a skin, morph weights where it has morph targets, both together.
    #[default]
    Auto,
    /// Joints only (morph weights stay at their defaults).
    Lbs,
    /// Morph weights only (joints stay in their rest pose).
    Blendshapes,
}

/// Which joints also translate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Translations {
    /// Joints whose parent is not solved (the root, joints under helper nodes).
    #[default]
    Roots,
    /// Every solved joint.
    All,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InvertOptions {
    pub method: Method,
    /// Joints to solve by name (`None`: every joint that carries weights). The rest keep their
    /// rest pose.
    pub joints: Option<Vec<String>>,
    pub translations: Translations,
    /// Every solved joint's scale too, along its own axes (for clips that scale joints).
    pub scales: bool,
    /// Pull of each frame towards the previous one, relative to the vertex error (0: none).
    pub smooth: f64,
    /// Huber threshold in fractions of the diagonal: vertices farther than this from the target
    /// count linearly, so a few wrong vertices do not bend the pose (`None`: plain least squares).
    pub robust: Option<f64>,
    /// L1 pull of morph weights towards 0, relative to the vertex error (0: none).
    pub sparsity: f64,
    /// Most Levenberg-Marquardt steps per frame (the first frame gets four times as many).
    pub iterations: usize,
}

impl Default for InvertOptions {
    fn default() -> Self {
        InvertOptions {
            method: Method::Auto,
            joints: None,
            translations: Translations::Roots,
            scales: false,
            smooth: 0.0,
            robust: None,
            sparsity: 0.0,
            iterations: 40,
        }
    }
}

#[derive(Debug, Error, PartialEq)]
pub enum InvertError {
    #[error("no target frames: give at least one mesh")]
    NoFrames,
    #[error("target frame {frame} has {found} vertices where the rig has {expected}: targets must share the rig's vertices in its order (or match them by nearest point)")]
    VertexCount { frame: usize, found: usize, expected: usize },
    #[error("target frame {frame}, vertex {vertex} has a non-finite position (NaN or infinity)")]
    NotFinite { frame: usize, vertex: usize },
    #[error("{0} has neither a skin nor morph targets: there are no controls to solve (rig it first with rigsmith rig)")]
    NoControls(String),
    #[error("{0} has no skin: --method lbs needs joints with weights (rig it first, or use --method blendshapes)")]
    NoSkin(String),
    #[error("{0} has no morph targets: --method blendshapes needs them (use --method lbs)")]
    NoMorphTargets(String),
    #[error("no joint named '{name}' in the rig (its joints include {known})")]
    UnknownJoint { name: String, known: String },
    #[error("joint '{0}' moves no vertex: solving it cannot change the mesh")]
    JointMovesNothing(String),
    #[error("learned inversion: {0}")]
    Learned(String),
    #[error("cancelled")]
    Cancelled,
}

impl From<Cancelled> for InvertError {
    fn from(_: Cancelled) -> Self {
        InvertError::Cancelled
    }
}

/// How near one frame came, in fractions of the first target's bounding-box diagonal.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FrameError {
    pub mean: f64,
    pub rms: f64,
    pub max: f64,
}

/// The solved controls, frame by frame.
#[derive(Debug, Clone)]
pub struct Inversion {
    pub poses: Vec<Pose>,
    /// Per frame, one weight list per mesh group (empty when morph weights were not solved).
    pub morph_weights: Vec<Vec<Vec<f32>>>,
    pub errors: Vec<FrameError>,
    pub rotated: Vec<usize>,
    pub translated: Vec<usize>,
    pub scaled: Vec<usize>,
    pub morphs_solved: bool,
    pub diagonal: f64,
    /// Levenberg-Marquardt steps per frame.
    pub iterations: Vec<usize>,
    /// Seconds each frame's solve took.
    pub frame_seconds: Vec<f32>,
}

impl Inversion {
    /// The mean over frames of each frame's mean vertex distance (fraction of the diagonal).
    pub fn mean_error(&self) -> f64 {
        self.errors.iter().map(|e| e.mean).sum::<f64>() / self.errors.len().max(1) as f64
    }
}

/// Bounding-box diagonal of a frame.
pub fn diagonal(frame: &[[f32; 3]]) -> f64 {
    let mut lo = [f64::MAX; 3];
    let mut hi = [f64::MIN; 3];
    for p in frame {
        for a in 0..3 {
            lo[a] = lo[a].min(p[a] as f64);
            hi[a] = hi[a].max(p[a] as f64);
        }
    }
    ((0..3).map(|a| (hi[a] - lo[a]).max(0.0).powi(2)).sum::<f64>()).sqrt()
}

/// Each frame's distances from `posed` to `target`, in fractions of `diagonal`.
pub fn frame_error(posed: &[[f32; 3]], target: &[[f32; 3]], diagonal: f64) -> FrameError {
    let d: Vec<f64> = posed.iter().zip(target).map(|(a, b)| (0..3).map(|k| ((a[k] - b[k]) as f64).powi(2)).sum::<f64>().sqrt()).collect();
    let n = d.len().max(1) as f64;
    let scale = diagonal.max(1e-30);
    FrameError {
        mean: d.iter().sum::<f64>() / n / scale,
        rms: (d.iter().map(|x| x * x).sum::<f64>() / n).sqrt() / scale,
        max: d.iter().copied().fold(0.0, f64::max) / scale,
    }
}

fn check_frames(rig: &Rig, frames: &[Vec<[f32; 3]>]) -> Result<(), InvertError> {
    if frames.is_empty() {
        return Err(InvertError::NoFrames);
    }
    let expected = rig.mesh.positions.len();
    for (f, frame) in frames.iter().enumerate() {
        if frame.len() != expected {
            return Err(InvertError::VertexCount { frame: f, found: frame.len(), expected });
        }
        if let Some(vertex) = frame.iter().position(|p| p.iter().any(|v| !v.is_finite())) {
            return Err(InvertError::NotFinite { frame: f, vertex });
        }
    }
    Ok(())
}

/// The joints solved: the named ones, or every joint that carries weights; those that also
/// translate, and those that also scale.
fn layout(rig: &Rig, options: &InvertOptions) -> Result<Layout, InvertError> {
    let skeleton = &rig.skeleton;
    let moves = rig.weights.vertices_per_joint(skeleton.len());
    let rotated: Vec<usize> = match &options.joints {
        None => (0..skeleton.len()).filter(|&j| moves[j] > 0).collect(),
        Some(names) => {
            let mut out = Vec::new();
            for name in names {
                let Some(j) = skeleton.find(name) else {
                    let known = skeleton.joints.iter().take(6).map(|j| format!("'{}'", j.name)).collect::<Vec<_>>().join(", ");
                    return Err(InvertError::UnknownJoint { name: name.clone(), known });
                };
                if !(0..skeleton.len()).any(|k| moves[k] > 0 && skeleton.is_descendant(k, j)) {
                    return Err(InvertError::JointMovesNothing(name.clone()));
                }
                if !out.contains(&j) {
                    out.push(j);
                }
            }
            out.sort_unstable();
            out
        }
    };
    let scaled = if options.scales { rotated.clone() } else { Vec::new() };
    let translated = rotated
        .iter()
        .copied()
        .filter(|&j| match options.translations {
            Translations::All => true,
            Translations::Roots => skeleton.joints[j].parent.is_none_or(|p| moves[p] == 0),
        })
        .collect();
    let parents: Vec<Option<usize>> = skeleton.joints.iter().map(|j| j.parent).collect();
    Ok(Layout::new(&parents, rotated, translated, scaled))
}

fn parents_of(rig: &Rig) -> Vec<Option<usize>> {
    rig.skeleton.joints.iter().map(|j| j.parent).collect()
}

/// Per vertex, the linear map that carries a morph delta to the posed mesh: the blended
/// skinning matrix, or the placement for a vertex that follows no joint.
fn delta_maps(rig: &Rig, pose: &Pose) -> Vec<Matrix3<f64>> {
    let display: Matrix3<f64> = rig.display_from_mesh().fixed_view::<3, 3>(0, 0).into_owned().cast();
    let skinning: Vec<Matrix3<f64>> =
        pose.skinning_matrices(&rig.skeleton).iter().map(|m| m.fixed_view::<3, 3>(0, 0).into_owned().cast()).collect();
    (0..rig.mesh.positions.len())
        .map(|i| {
            if i >= rig.weights.vertex_count() || rig.weights.row(i).0.is_empty() || skinning.is_empty() {
                return display;
            }
            let (js, w) = rig.weights.row(i);
            js.iter().zip(w).map(|(&j, &wt)| skinning[j as usize] * wt as f64).sum()
        })
        .collect()
}

struct Solver<'a> {
    rig: &'a Rig,
    options: &'a InvertOptions,
    skeleton: SkeletonF64,
    layout: Option<Layout>,
    /// With scales solved and no smoothing: the same joints without scales, solved first so
    /// the scales start from a pose that already turns the right way (with smoothing the pull
    /// towards the previous frame keeps them there, and a first pass would move its anchor).
    unscaled: Option<Layout>,
    morphs: Option<MorphControls>,
    vertices: Vec<usize>,
    /// The pair moments when they do not change between frames (no morph weights solved).
    fixed_pairs: Option<PairMoments>,
    smooth: Smoothness,
    /// Squared-distance sum at which a frame is solved: vertices within 1e-7 of the diagonal
    /// on average, below the rounding of single-precision targets.
    floor: f64,
    sparsity: f64,
    huber: Option<f64>,
}

impl Solver<'_> {
    fn morph_values_from(&self, weights: &[f64]) -> Vec<Vec<f32>> {
        match &self.morphs {
            Some(m) => m.group_weights(weights),
            None => morph_weights_at(self.rig, &Clip::default(), 0.0),
        }
    }

    /// Huber weights of each vertex for the current fit (`None`: all ones).
    fn robust_weights(&self, posed: &[[f32; 3]], target: &[[f32; 3]]) -> Option<Vec<f64>> {
        let threshold = self.huber?;
        Some(
            posed
                .iter()
                .zip(target)
                .map(|(a, b)| {
                    let d = (0..3).map(|k| ((a[k] - b[k]) as f64).powi(2)).sum::<f64>().sqrt();
                    if d <= threshold {
                        1.0
                    } else {
                        threshold / d
                    }
                })
                .collect(),
        )
    }

    /// One frame: joints, then morph weights, alternated when both are solved.
    fn frame(&self, target: &[[f32; 3]], pose: &mut PoseF64, morph: &mut Vec<f64>, first: bool) -> usize {
        let rounds = if self.layout.is_some() && self.morphs.is_some() { 4 } else { 1 };
        let robust_rounds = if self.huber.is_some() { 4 } else { 1 };
        let mut steps = 0;
        let mut rho: Option<Vec<f64>> = None;
        for _ in 0..robust_rounds {
            for _ in 0..rounds {
                let weights = self.morph_values_from(morph);
                if let Some(layout) = &self.layout {
                    let rest = morphed_with(self.rig, &weights);
                    let fresh;
                    let pairs = match (&self.fixed_pairs, &rho, &self.morphs) {
                        (Some(p), None, None) => p,
                        _ => {
                            fresh = PairMoments::gather(&rest, &self.rig.weights, &self.vertices, rho.as_deref());
                            &fresh
                        }
                    };
                    let tm =
                        TargetMoments::gather(&rest, target, &self.rig.weights, &self.vertices, self.rig.skeleton.len(), rho.as_deref());
                    let max_iterations = if first { self.options.iterations * 4 } else { self.options.iterations };
                    let stop = lbs::Stopping { max_iterations, floor: self.floor, min_gain: 1e-4 };
                    if let Some(turning) = &self.unscaled {
                        let fit = lbs::solve_frame(&self.skeleton, turning, pairs, &tm, pose, self.smooth, stop);
                        *pose = fit.pose;
                        steps += fit.iterations;
                    }
                    let fit = lbs::solve_frame(&self.skeleton, layout, pairs, &tm, pose, self.smooth, stop);
                    *pose = fit.pose;
                    steps += fit.iterations;
                }
                if let Some(controls) = &self.morphs {
                    let p = pose.to_pose();
                    let base = posed_with(self.rig, &p, &controls.group_weights(&vec![0.0; controls.len()]));
                    let residual: Vec<[f64; 3]> = base
                        .iter()
                        .zip(target)
                        .enumerate()
                        .map(|(i, (a, b))| {
                            let r = rho.as_ref().map_or(1.0, |r| r[i].sqrt());
                            [(b[0] - a[0]) as f64 * r, (b[1] - a[1]) as f64 * r, (b[2] - a[2]) as f64 * r]
                        })
                        .collect();
                    let mut maps = delta_maps(self.rig, &p);
                    if let Some(r) = &rho {
                        maps.iter_mut().zip(r).for_each(|(m, w)| *m *= w.sqrt());
                    }
                    let (h, g) = controls.normal_equations(&maps, &residual);
                    *morph = bounded_least_squares(&h, &g, self.sparsity, morph);
                }
            }
            if self.huber.is_some() {
                let posed = posed_with(self.rig, &pose.to_pose(), &self.morph_values_from(morph));
                rho = self.robust_weights(&posed, target);
            }
        }
        steps
    }
}

/// Solves every frame of `frames` (each the rig's vertices, in the space the rig's scene shows
/// them, as [`crate::motion::bake::posed_positions`] gives them).
pub fn invert(rig: &Rig, frames: &[Vec<[f32; 3]>], options: &InvertOptions, task: &Task) -> Result<Inversion, InvertError> {
    check_frames(rig, frames)?;
    let skinned = !rig.skeleton.is_empty() && (0..rig.weights.vertex_count()).any(|i| !rig.weights.row(i).0.is_empty());
    let controls = MorphControls::of(rig);
    let name = if rig.name.is_empty() { "the rig".to_string() } else { rig.name.clone() };
    match options.method {
        Method::Lbs if !skinned => return Err(InvertError::NoSkin(name)),
        Method::Blendshapes if controls.is_empty() => return Err(InvertError::NoMorphTargets(name)),
        Method::Auto if !skinned && controls.is_empty() => return Err(InvertError::NoControls(name)),
        _ => {}
    }
    let layout = if skinned && options.method != Method::Blendshapes { Some(layout(rig, options)?) } else { None };
    let morphs = (!controls.is_empty() && options.method != Method::Lbs).then_some(controls);
    let diagonal = diagonal(&frames[0]);
    let vertices = skinned_vertices(&rig.weights, rig.mesh.positions.len());
    let count = vertices.len().max(1) as f64;
    let scale = diagonal.max(1e-12);
    let solver = Solver {
        rig,
        options,
        skeleton: SkeletonF64::new(&rig.skeleton),
        smooth: Smoothness { rotation: options.smooth * count * scale * scale, translation: options.smooth * count },
        floor: count * (1e-7 * scale).powi(2),
        sparsity: options.sparsity * rig.mesh.positions.len() as f64 * scale * scale,
        huber: options.robust.map(|r| r * scale),
        fixed_pairs: (layout.is_some() && morphs.is_none()).then(|| {
            let rest = morphed_with(rig, &morph_weights_at(rig, &Clip::default(), 0.0));
            PairMoments::gather(&rest, &rig.weights, &vertices, None)
        }),
        unscaled: layout
            .as_ref()
            .filter(|l| !l.scaled.is_empty() && options.smooth == 0.0)
            .map(|l| Layout::new(&parents_of(rig), l.rotated.clone(), l.translated.clone(), Vec::new())),
        layout,
        morphs,
        vertices,
    };
    let mut pose = PoseF64::from_pose(&Pose::rest(&rig.skeleton));
    let defaults = morph_weights_at(rig, &Clip::default(), 0.0);
    let mut morph = solver.morphs.as_ref().map_or_else(Vec::new, |m| m.values(&defaults));
    let mut out = Inversion {
        poses: Vec::with_capacity(frames.len()),
        morph_weights: Vec::new(),
        errors: Vec::new(),
        rotated: solver.layout.as_ref().map_or_else(Vec::new, |l| l.rotated.clone()),
        translated: solver.layout.as_ref().map_or_else(Vec::new, |l| l.translated.clone()),
        scaled: solver.layout.as_ref().map_or_else(Vec::new, |l| l.scaled.clone()),
        morphs_solved: solver.morphs.is_some(),
        diagonal,
        iterations: Vec::new(),
        frame_seconds: Vec::new(),
    };
    for (f, target) in frames.iter().enumerate() {
        task.stage(&format!("frame {} of {}", f + 1, frames.len()), f as f32 / frames.len() as f32)?;
        let started = std::time::Instant::now();
        let steps = solver.frame(target, &mut pose, &mut morph, f == 0);
        out.frame_seconds.push(started.elapsed().as_secs_f32());
        let p = pose.to_pose();
        let weights = solver.morph_values_from(&morph);
        out.errors.push(frame_error(&posed_with(rig, &p, &weights), target, diagonal));
        out.poses.push(p);
        if out.morphs_solved {
            out.morph_weights.push(weights);
        }
        out.iterations.push(steps);
    }
    Ok(out)
}

/// The solved controls as a clip keyed at `times`: a rotation curve per turned joint, a
/// translation curve per moved joint, a scale curve per scaled joint, morph weights per mesh
/// group when they were solved.
pub fn to_clip(rig: &Rig, inversion: &Inversion, times: &[f32], name: &str) -> Clip {
    let channel =
        |joint: usize, values: ChannelValues| Channel { joint, times: times.to_vec(), values, interpolation: Interpolation::Linear };
    let mut channels = Vec::new();
    for &j in &inversion.rotated {
        let mut keys: Vec<[f32; 4]> = Vec::with_capacity(times.len());
        let mut previous: Option<UnitQuaternion<f32>> = None;
        for pose in &inversion.poses {
            let mut q = pose.local[j].rotation;
            if previous.is_some_and(|p| p.coords.dot(&q.coords) < 0.0) {
                q = UnitQuaternion::new_unchecked(-q.into_inner());
            }
            previous = Some(q);
            keys.push([q.i, q.j, q.k, q.w]);
        }
        channels.push(channel(j, ChannelValues::Rotation(keys)));
    }
    for &j in &inversion.translated {
        channels.push(channel(j, ChannelValues::Translation(inversion.poses.iter().map(|p| p.local[j].translation.into()).collect())));
    }
    for &j in &inversion.scaled {
        channels.push(channel(j, ChannelValues::Scale(inversion.poses.iter().map(|p| p.local[j].scale.into()).collect())));
    }
    let mut morph_channels = Vec::new();
    if inversion.morphs_solved {
        for g in 0..rig.mesh.groups.len() {
            let values: Vec<f32> = inversion.morph_weights.iter().flat_map(|w| w.get(g).cloned().unwrap_or_default()).collect();
            if values.is_empty() {
                continue;
            }
            morph_channels.push(MorphWeightsChannel { group: g, times: times.to_vec(), values, interpolation: Interpolation::Linear });
        }
    }
    Clip { name: name.to_string(), channels, morph_channels }
}

#[cfg(test)]
mod tests;
