//! What `rigsmith bench` measures: skinning speed (a whole bind of a rig's own skeleton, then a
//! re-skin after moving one joint, reusing the binder as the editor's worker does), large
//! meshes made by subdivision, and the process's peak memory.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rig_core::autoskin::{AutoSkinOptions, SkinBinder};
use rig_core::{Mesh, MeshGroup, Part, Rig, SkinWeights, Task};

use crate::request::RigRequest;
use crate::worker::{Worker, WorkerEvent};

/// Seconds and sizes of one measurement.
#[derive(Debug, Clone)]
pub struct SkinTiming {
    pub vertices: usize,
    pub triangles: usize,
    pub deforming_joints: usize,
    pub threads: usize,
    pub seconds: f64,
    pub unweighted: usize,
    /// The joint moved for the re-skin, its time, the distance fields recomputed and the
    /// vertices left unweighted; `None` when the skeleton has no inner joint to move.
    pub reskin: Option<(String, f64, usize, usize)>,
}

/// Skins `rig`'s mesh for its own skeleton (the joints that carry weight in it), then moves the
/// middle inner joint by a tenth of its bone and re-skins with the same binder.
pub fn time_skin(rig: &Rig, options: &AutoSkinOptions) -> SkinTiming {
    let mut rig = rig.clone();
    rig.mark_unweighted_joints_non_deforming();
    let silent = Task::silent();
    let t = Instant::now();
    let mut binder = SkinBinder::new(&rig.mesh, options, silent).expect("a silent task is never cancelled");
    let w = binder.skin(&rig.mesh, &rig.skeleton, options, silent).expect("a silent task is never cancelled");
    let seconds = t.elapsed().as_secs_f64();
    let unweighted = unweighted(&w);
    SkinTiming {
        vertices: rig.mesh.vertex_count(),
        triangles: rig.mesh.triangle_count(),
        deforming_joints: rig.skeleton.joints.iter().filter(|j| j.deform).count(),
        threads: rayon::current_num_threads(),
        seconds,
        unweighted,
        reskin: reskin_after_move(&mut rig, &mut binder, options),
    }
}

fn reskin_after_move(rig: &mut Rig, binder: &mut SkinBinder, options: &AutoSkinOptions) -> Option<(String, f64, usize, usize)> {
    let sk = &rig.skeleton;
    let inner: Vec<usize> =
        (0..sk.len()).filter(|&j| sk.joints[j].deform && sk.joints[j].parent.is_some() && sk.children(j).count() > 0).collect();
    let j = *inner.get(inner.len() / 2)?;
    let p = rig_core::edit::bind_position(sk, j);
    let q = rig_core::edit::bind_position(sk, sk.joints[j].parent?);
    let moved = std::array::from_fn(|k| p[k] + 0.1 * (p[k] - q[k]));
    rig_core::edit::move_joint(rig, j, moved).ok()?;
    let t = Instant::now();
    let w = binder.skin(&rig.mesh, &rig.skeleton, options, Task::silent()).expect("a silent task is never cancelled");
    Some((rig.skeleton.joints[j].name.clone(), t.elapsed().as_secs_f64(), binder.recomputed_last, unweighted(&w)))
}

fn unweighted(w: &SkinWeights) -> usize {
    w.iter().filter(|(joints, _)| joints.is_empty()).count()
}

impl fmt::Display for SkinTiming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "skin: {:.3} s for {} vertices, {} triangles, {} deforming joints, {} threads; {} unweighted",
            self.seconds, self.vertices, self.triangles, self.deforming_joints, self.threads, self.unweighted
        )?;
        if let Some((name, secs, fields, unweighted)) = &self.reskin {
            write!(f, "\n  re-skin after moving '{name}': {secs:.3} s ({fields} of the bones' distance fields recomputed), {unweighted} unweighted")?;
        }
        Ok(())
    }
}

/// VmHWM of this process in KiB (Linux; `None` elsewhere).
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Why a mesh cannot be subdivided.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the mesh has no triangles to subdivide")]
pub struct NothingToSubdivide;

/// Subdivides `rig` (midpoint, one triangle into four) until it has at least `vertices`
/// vertices: one part, weights, normals and UVs averaged, at most 8 influences.
pub fn subdivide_to(rig: &mut Rig, vertices: usize) -> Result<(), NothingToSubdivide> {
    if rig.mesh.triangles.is_empty() {
        return Err(NothingToSubdivide);
    }
    while rig.mesh.vertex_count() < vertices {
        let (mesh, weights) = subdivide(&rig.mesh, &rig.weights);
        rig.mesh = mesh;
        rig.weights = weights;
    }
    Ok(())
}

fn average<const N: usize>(v: &[[f32; N]], a: usize, b: usize) -> [f32; N] {
    std::array::from_fn(|k| 0.5 * (v[a][k] + v[b][k]))
}

/// Midpoint subdivision into one part; weights, normals and UVs are averaged.
fn subdivide(m: &Mesh, w: &SkinWeights) -> (Mesh, SkinWeights) {
    let mut out = Mesh { positions: m.positions.clone(), normals: m.normals.clone(), uvs: m.uvs.clone(), ..Default::default() };
    let mut rows: Vec<Vec<(u32, f32)>> = (0..m.vertex_count()).map(|v| w.row_pairs(v)).collect();
    let mut mid: HashMap<(u32, u32), u32> = HashMap::new();
    let mut midpoint = |a: u32, b: u32, out: &mut Mesh, rows: &mut Vec<Vec<(u32, f32)>>| -> u32 {
        *mid.entry((a.min(b), a.max(b))).or_insert_with(|| {
            let (ai, bi) = (a as usize, b as usize);
            out.positions.push(average(&m.positions, ai, bi));
            if !m.normals.is_empty() {
                out.normals.push(average(&m.normals, ai, bi));
            }
            if !m.uvs.is_empty() {
                out.uvs.push(average(&m.uvs, ai, bi));
            }
            let mut r = w.row_pairs(ai);
            r.extend(w.row_pairs(bi));
            r.iter_mut().for_each(|e| e.1 *= 0.5);
            rows.push(r);
            out.positions.len() as u32 - 1
        })
    };
    for t in &m.triangles {
        let ab = midpoint(t[0], t[1], &mut out, &mut rows);
        let bc = midpoint(t[1], t[2], &mut out, &mut rows);
        let ca = midpoint(t[2], t[0], &mut out, &mut rows);
        out.triangles.extend([[t[0], ab, ca], [ab, t[1], bc], [ca, bc, t[2]], [ab, bc, ca]]);
    }
    out.parts = vec![Part {
        name: "subdivided".into(),
        group: 0,
        material: m.parts.first().and_then(|p| p.material),
        vertices: 0..out.positions.len() as u32,
        triangles: 0..out.triangles.len() as u32,
        skinned: true,
        morph_targets: vec![],
    }];
    out.groups = vec![MeshGroup { name: "subdivided".into(), ..Default::default() }];
    let mut weights = SkinWeights::from_rows(rows);
    weights.prune(8);
    (out, weights)
}

/// How a cancelled job ended and how long after the press.
#[derive(Debug, Clone)]
pub struct CancelTiming {
    pub after: Duration,
    pub finished_first: bool,
    pub stopped_after_press: Duration,
}

/// Runs `request` on the worker once to the end (its length), then once per delay, pressing
/// Cancel after that delay and timing how long the worker takes to stop. Each job gets a new
/// mesh key, so no run reuses another's binder.
pub fn cancel_latency(rig: &Rig, request: &RigRequest, delays: &[Duration]) -> Result<(Duration, Vec<CancelTiming>), String> {
    let rig = Arc::new(rig.clone());
    let mut worker = Worker::spawn();
    let t = Instant::now();
    worker.submit(0, rig.clone(), request.clone())?;
    worker.wait(|_, _| {});
    let full = t.elapsed();
    let mut out = Vec::new();
    for (i, &after) in delays.iter().enumerate() {
        worker.submit(i as u64 + 1, rig.clone(), request.clone())?;
        std::thread::sleep(after);
        let pressed = Instant::now();
        worker.cancel();
        let event = worker.wait(|_, _| {}).ok_or("the worker thread stopped")?;
        out.push(CancelTiming { after, finished_first: matches!(event, WorkerEvent::Done { .. }), stopped_after_press: pressed.elapsed() });
    }
    Ok((full, out))
}

/// A procedural creature (seed `seed`) grown to about `vertices` vertices and moved by random
/// joint motion for `frames` frames, baked to a mesh sequence: the input `bench motion` times.
pub fn creature_sequence(vertices: usize, frames: usize, seed: u64) -> Result<rig_core::motion::MeshSequence, rig_core::motion::BakeError> {
    use rig_core::creature::{creature, motion::random_motion, CreatureOptions};
    let mut resolution = 64usize;
    let mut rig = creature(seed, &CreatureOptions { resolution, ..Default::default() });
    for _ in 0..3 {
        let n = rig.mesh.vertex_count().max(1);
        if n.abs_diff(vertices) * 20 <= vertices {
            break;
        }
        resolution = ((resolution as f64 * (vertices as f64 / n as f64).sqrt()).round() as usize).clamp(16, 512);
        rig = creature(seed, &CreatureOptions { resolution, ..Default::default() });
    }
    rig.clips = vec![random_motion(&rig.skeleton, seed, frames.max(2), 24.0)];
    rig_core::motion::bake_clip(&rig, 0)
}
