//! Face rig evaluation on ICT heads: new identities (the neutral plus the identity modes at
//! random weights, as ICT samples faces) whose true expressions are the template's offsets
//! (ICT's expressions do not depend on the identity), rigged from the bare neutral head at
//! ICT's own topology, subdivided (every triangle split in four) or re-meshed by another
//! tool, and scored per shape against the offsets at each vertex's closest point on the head.

use std::collections::BTreeMap;

use nalgebra::Vector3;
use rig_core::face::{face_rig, Class, FaceError, FaceTemplate, Region};
use rig_core::mesh::Mesh;
use rig_core::Task;

/// The learned refinement on the CPU.
pub type Refiner = rig_model::face_refine::FaceRefiner<rig_model::CpuBackend>;

/// A random ICT identity: the template's neutral plus every identity mode of `identities`
/// (a mesh with the same vertices whose morph targets are ICT's identity modes) at a weight
/// drawn from N(0, 1) with `seed`. Morph targets are dropped.
pub fn random_head(template: &Mesh, identities: &Mesh, seed: u64) -> Mesh {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(0xD1B5_4A32_D192_ED03);
    let mut uniform = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64).max(1e-12)
    };
    let modes = identities.groups.first().map_or(0, |g| g.morph_target_names.len());
    let weights: Vec<f32> =
        (0..modes).map(|_| ((-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos()) as f32).collect();
    let mut head = template.clone();
    for part in &identities.parts {
        for (k, target) in part.morph_targets.iter().enumerate() {
            for (i, d) in target.position_deltas.iter().enumerate() {
                let v = &mut head.positions[part.vertices.start as usize + i];
                (0..3).for_each(|a| v[a] += weights[k] * d[a]);
            }
        }
    }
    strip_targets(&mut head);
    head
}

fn strip_targets(mesh: &mut Mesh) {
    mesh.parts.iter_mut().for_each(|p| p.morph_targets.clear());
    for g in &mut mesh.groups {
        g.morph_target_names.clear();
        g.morph_default_weights.clear();
    }
}

/// `mesh` with every triangle split in four at its edges' midpoints, as one part, the old
/// vertices first.
pub fn subdivide(mesh: &Mesh) -> Mesh {
    let mut positions = mesh.positions.clone();
    let mut triangles = Vec::with_capacity(mesh.triangles.len() * 4);
    let mut vertex_of_edge = std::collections::HashMap::new();
    for t in &mesh.triangles {
        let mut mid = |a: u32, b: u32| {
            *vertex_of_edge.entry((a.min(b), a.max(b))).or_insert_with(|| {
                let (p, q) = (Vector3::from(mesh.positions[a as usize]), Vector3::from(mesh.positions[b as usize]));
                positions.push(((p + q) * 0.5).into());
                positions.len() as u32 - 1
            })
        };
        let (ab, bc, ca) = (mid(t[0], t[1]), mid(t[1], t[2]), mid(t[2], t[0]));
        triangles.extend_from_slice(&[[t[0], ab, ca], [ab, t[1], bc], [ca, bc, t[2]], [ab, bc, ca]]);
    }
    let part = rig_core::mesh::Part {
        name: "head".into(),
        group: 0,
        material: None,
        vertices: 0..positions.len() as u32,
        triangles: 0..triangles.len() as u32,
        skinned: false,
        morph_targets: vec![],
    };
    Mesh { positions, triangles, parts: vec![part], groups: vec![Default::default()], ..Default::default() }
}

/// Errors of one head's rig, per shape: mean distance between the rig's and the true offsets
/// over the vertices where either moves (more than 0.1 % of the diagonal), and the same for
/// no motion at all (the true offsets' mean length), both as % of the head's diagonal; the
/// transfer's, and the refined rig's when a refiner is given.
#[derive(Debug, Clone)]
pub struct ShapeScore {
    pub shape: String,
    pub region: Region,
    pub no_motion: f32,
    pub transfer: f32,
    pub refined: Option<f32>,
}

/// Rigs `head` and scores each shape against the template's own offsets at the closest
/// point (facing the same way) of `truth`, the head at ICT's topology that `head` was made
/// from, before and after `refiner`. `tongueOut` (made up, ICT has none) and the eyeballs
/// (ICT's shapes do not turn them) are left out.
pub fn score_head(template: &FaceTemplate, truth: &Mesh, head: &Mesh, refiner: Option<&Refiner>) -> Result<Vec<ShapeScore>, FaceError> {
    let rig = face_rig(head, template, &Task::silent())?;
    let truth_offsets = true_offsets(template, truth, head);
    let diag = head.bounds().map_or(1.0, |b| b.diagonal());
    let refined = refiner.map(|r| {
        let mut refined = rig.clone();
        let positions: Vec<Vector3<f32>> = head.positions.iter().map(|p| Vector3::from(*p)).collect();
        r.refine(template, &mut refined, &positions, &head.triangles, &Default::default());
        refined
    });
    let mut out = Vec::new();
    for (k, (name, pred)) in rig.shapes.iter().enumerate() {
        if name == "tongueOut" {
            continue;
        }
        let (no_motion, transfer) = shape_error(&truth_offsets[k], pred, diag);
        let refined = refined.as_ref().map(|r| shape_error(&truth_offsets[k], &r.shapes[k].1, diag).1);
        out.push(ShapeScore { shape: name.clone(), region: Region::of(name), no_motion, transfer, refined });
    }
    Ok(out)
}

/// (no motion, error) of one shape's offsets `pred` against `truth` (`None`: not scored).
fn shape_error(truth: &[Option<Vector3<f32>>], pred: &[[f32; 3]], diag: f32) -> (f32, f32) {
    let (mut err, mut still, mut n) = (0.0f64, 0.0f64, 0usize);
    for (t, p) in truth.iter().zip(pred) {
        let Some(t) = t else { continue };
        let p = Vector3::from(*p);
        if t.norm() > 1e-3 * diag || p.norm() > 1e-3 * diag {
            err += (t - p).norm() as f64;
            still += t.norm() as f64;
            n += 1;
        }
    }
    let pct = |x: f64| (100.0 * x / n.max(1) as f64 / diag as f64) as f32;
    (pct(still), pct(err))
}

/// The true offsets of every shape at every vertex of `head` (`truth_offsets[shape][vertex]`,
/// `None` on the eyeballs): ICT's offsets at the vertex's closest point on `truth`.
pub fn true_offsets(template: &FaceTemplate, truth: &Mesh, head: &Mesh) -> Vec<Vec<Option<Vector3<f32>>>> {
    let at = project_truth(template, truth, head);
    template.shapes.iter().map(|shape| at.iter().map(|a| a.map(|(t, bary)| template.offset_at(shape, t, &bary))).collect()).collect()
}

/// For each vertex of `head`, the triangle of `truth` (ICT's topology, the template's
/// triangles) and the barycentric weights of its closest point there, facing the same way;
/// `None` on the eyeballs.
fn project_truth(template: &FaceTemplate, truth: &Mesh, head: &Mesh) -> Vec<Option<(usize, [f32; 3])>> {
    use rayon::prelude::*;
    use rig_core::face::nearest::TriangleGrid;
    let tp: Vec<Vector3<f32>> = truth.positions.iter().map(|p| Vector3::from(*p)).collect();
    let hp: Vec<Vector3<f32>> = head.positions.iter().map(|p| Vector3::from(*p)).collect();
    let grid = TriangleGrid::new(&tp, &template.triangles, |_| true);
    let normals = rig_core::face::register::vertex_normals(&hp, &head.triangles);
    let eye = |t: usize| matches!(template.class[template.triangles[t][0] as usize], Class::EyeLeft | Class::EyeRight);
    (0..hp.len())
        .into_par_iter()
        .map(|i| {
            let h = grid.closest(&hp[i], |t| grid.normals[t].dot(&normals[i]) > 0.0).or_else(|| grid.closest(&hp[i], |_| true))?;
            (!eye(h.triangle)).then_some((h.triangle, h.bary))
        })
        .collect()
}

/// Means by region over many heads' scores: (no motion, transfer, refined, shapes counted).
pub fn by_region(scores: &[ShapeScore]) -> BTreeMap<Region, (f32, f32, f32, usize)> {
    let mut out: BTreeMap<Region, (f32, f32, f32, usize)> = BTreeMap::new();
    for s in scores {
        let e = out.entry(s.region).or_default();
        e.0 += s.no_motion;
        e.1 += s.transfer;
        e.2 += s.refined.unwrap_or(f32::NAN);
        e.3 += 1;
    }
    out.values_mut().for_each(|e| {
        e.0 /= e.3 as f32;
        e.1 /= e.3 as f32;
        e.2 /= e.3 as f32;
    });
    out
}
