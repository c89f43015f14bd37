//! Skin weights for a given skeleton by geodesic voxel binding (after Dionne & de Lasa 2013):
//! voxelise the solid, measure distances from each bone through the solid, turn them into
//! falloff weights, smooth them over the (welded) surface, prune and renormalise.

pub mod bones;
pub mod geodesic;
pub mod heat;
pub mod heat_solve;
pub mod smooth;
pub mod voxel;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use nalgebra::Vector3;
use rayon::prelude::*;

use crate::limit::InfluenceLimit;
use crate::mesh::Mesh;
use crate::skeleton::Skeleton;
use crate::task::{Cancelled, Task};
use crate::weights::SkinWeights;
use bones::BoneSegment;
use geodesic::{SolidGraph, UNREACHED};
use voxel::VoxelGrid;

/// Settings of the binder. Defaults were tuned with `rigsmith eval` on the artists' rigs of the
/// evaluation set (docs/eval-use-skeleton.md).
#[derive(Debug, Clone)]
pub struct AutoSkinOptions {
    pub method: SkinMethod,
    /// Voxels along the longest side of the mesh; `None` picks from the mesh size.
    pub resolution: Option<usize>,
    /// Influences kept per vertex and the smallest share one may have (the binders' last step).
    pub limit: InfluenceLimit,
    /// Exponent of the inverse-distance falloff: larger is sharper.
    pub falloff_power: f32,
    /// Laplacian smoothing passes over the welded surface.
    pub smoothing_iterations: usize,
    /// Leaf joints get a stub of this fraction of their parent bone.
    pub leaf_fraction: f32,
    /// When the skeleton's bones run along each joint's +Y (Blender's convention), leaf
    /// bones follow their joint's +Y too (see [`bones::segments_with`]).
    pub axis_leaves: bool,
    /// A connected piece of the surface is bound rigidly to one joint when that joint holds
    /// at least this share of the piece's weight (1.0 or more disables it).
    pub rigid_piece_share: f32,
    /// Keep only influences of joints next to the dominant one in the hierarchy (itself, its
    /// parent, children and siblings): artists blend neighbouring bones, not distant ones.
    pub adjacent_only: bool,
    /// A joint's heat is solved where its distance is within this factor of the nearest joint's.
    pub heat_region: f32,
    /// Heat weights under this are dropped before pruning.
    pub heat_floor: f32,
    /// Heat strength relative to the surface Laplacian (see [`heat::HeatSettings`]).
    pub heat_strength: f32,
    /// A bone sees a vertex when its distance through the solid is within this factor of
    /// the straight line's (plus two voxels).
    pub heat_visible_ratio: f32,
}

/// How weights are made from the distances through the solid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SkinMethod {
    /// Bone heat over the surface ([`heat`]): broad, smooth blends like Blender's automatic
    /// weights, without its failures on multi-part meshes.
    #[default]
    Heat,
    /// Inverse-distance falloff from the nearest bone, smoothed over the surface: sharper.
    Falloff,
}

impl Default for AutoSkinOptions {
    fn default() -> Self {
        Self {
            method: SkinMethod::Heat,
            resolution: None,
            limit: InfluenceLimit { max_influences: 4, min_weight: 0.03 },
            falloff_power: 12.0,
            smoothing_iterations: 0,
            leaf_fraction: 1.0,
            axis_leaves: true,
            rigid_piece_share: 0.7,
            adjacent_only: false,
            heat_region: 3.0,
            heat_floor: 0.025,
            heat_strength: 4.0,
            heat_visible_ratio: 1.05,
        }
    }
}

impl AutoSkinOptions {
    /// The inverse-distance falloff binder with its tuned settings (the default before bone
    /// heat, and the prior the shipped learned models were trained on).
    pub fn falloff() -> Self {
        Self {
            method: SkinMethod::Falloff,
            limit: InfluenceLimit { max_influences: 4, min_weight: 0.1 },
            smoothing_iterations: 2,
            axis_leaves: false,
            rigid_piece_share: 0.6,
            adjacent_only: true,
            ..Self::default()
        }
    }
}

/// Skin weights for `skeleton` on `mesh` (mesh space = the skeleton's bind space). Only
/// deforming joints receive weight; every vertex of a skinned part gets at least one.
/// Fails only when `task` is cancelled.
pub fn skin_for_skeleton(mesh: &Mesh, skeleton: &Skeleton, options: &AutoSkinOptions, task: Task) -> Result<SkinWeights, Cancelled> {
    SkinBinder::new(mesh, options, task)?.skin(mesh, skeleton, options, task)
}

/// Longest-side resolution: finer for denser meshes, bounded for speed.
pub fn auto_resolution(vertices: usize) -> usize {
    match vertices {
        0..=100_000 => 128,
        _ => 160,
    }
}

/// The binder's state for one mesh, kept between re-skins: the voxelised solid, the welded
/// surface, and each bone segment's distance field. A re-skin after joint edits recomputes
/// only the fields of segments whose end points moved (the key is the segment's geometry),
/// so moving one joint costs two or three geodesic passes instead of one per bone.
pub struct SkinBinder {
    grid: VoxelGrid,
    graph: SolidGraph,
    surface: smooth::SurfaceGraph,
    /// Solid voxel id of each vertex's cell (`UNREACHED` outside the solid).
    vertex_ids: Vec<u32>,
    fields: HashMap<SegmentKey, Vec<f32>>,
    /// The surface's heat operator, built on the first heat skin.
    heat: Option<heat::HeatSurface>,
    /// Distance fields computed (not reused) by the last `skin` call.
    pub recomputed_last: usize,
}

/// A segment's owner and end points, bit for bit.
pub(super) type SegmentKey = (usize, [u32; 6]);

pub(super) fn key_of(seg: &BoneSegment) -> SegmentKey {
    let b = |v: f32| v.to_bits();
    (seg.joint, [b(seg.a.x), b(seg.a.y), b(seg.a.z), b(seg.b.x), b(seg.b.y), b(seg.b.z)])
}

impl SkinBinder {
    /// Voxelises `mesh` and builds its surface graph (the part of binding that does not
    /// depend on the skeleton).
    pub fn new(mesh: &Mesh, options: &AutoSkinOptions, task: Task) -> Result<SkinBinder, Cancelled> {
        let resolution = options.resolution.unwrap_or_else(|| auto_resolution(mesh.vertex_count()));
        task.stage("voxelising", 0.0)?;
        let grid = VoxelGrid::from_mesh(&mesh.positions, &mesh.triangles, resolution);
        task.stage("solid graph", 0.1)?;
        let graph = SolidGraph::new(&grid);
        task.stage("surface graph", 0.15)?;
        let surface = smooth::SurfaceGraph::new(mesh);
        let vertex_ids = mesh.positions.iter().map(|p| graph.id_of_cell[grid.index(grid.cell_of(&Vector3::from(*p)))]).collect();
        Ok(SkinBinder { grid, graph, surface, vertex_ids, fields: HashMap::new(), heat: None, recomputed_last: 0 })
    }

    /// Skin weights for `skeleton` on the mesh this binder was built for.
    pub fn skin(&mut self, mesh: &Mesh, skeleton: &Skeleton, options: &AutoSkinOptions, task: Task) -> Result<SkinWeights, Cancelled> {
        let segments = bones::segments_with(skeleton, options.leaf_fraction, options.axis_leaves, &mesh.positions);
        if segments.is_empty() || mesh.positions.is_empty() {
            return Ok(SkinWeights::empty(mesh.vertex_count()));
        }
        self.update_fields(mesh, &segments, task)?;
        task.stage("weights", 0.8)?;
        let distances: Vec<&[f32]> = segments.iter().map(|s| self.fields[&key_of(s)].as_slice()).collect();
        let joints_of_segment: Vec<u32> = segments.iter().map(|s| s.joint as u32).collect();
        let mut rows: Vec<Vec<(u32, f32)>> = match options.method {
            SkinMethod::Heat => {
                let rows = heat_rows(&mut self.heat, &self.surface, mesh, &segments, &distances, options, 2.0 * self.grid.size);
                // A vertex whose heat fell under the floor everywhere takes the falloff's row.
                let pick = |(v, h): (usize, Vec<(u32, f32)>)| match h.is_empty() {
                    true => falloff_row(&distances, &joints_of_segment, v, options),
                    false => prune_row(h, options),
                };
                rows.into_iter().enumerate().map(pick).collect()
            }
            SkinMethod::Falloff => {
                (0..mesh.vertex_count()).into_par_iter().map(|v| falloff_row(&distances, &joints_of_segment, v, options)).collect()
            }
        };
        if options.adjacent_only {
            rows.iter_mut().for_each(|r| keep_adjacent(skeleton, r, options));
        }
        task.stage("smoothing", 0.9)?;
        let mut rows = smooth::smooth_rows(&self.surface, rows, options.smoothing_iterations);
        if options.rigid_piece_share < 1.0 {
            smooth::rigidify_components(&self.surface, &mut rows, options.rigid_piece_share);
        }
        let mut weights = SkinWeights::from_rows(rows.into_iter().map(|r| prune_row(r, options)));
        weights.normalize(1e-3);
        task.stage("done", 1.0)?;
        Ok(weights)
    }

    /// The connected piece of the welded surface holding each vertex (a component id per vertex).
    pub fn surface_components(&self) -> Vec<u32> {
        smooth::components(&self.surface)
    }

    /// Each joint's distance through the solid to every vertex (the nearest of its bone
    /// segments, mesh units), or `None` for a non-deforming joint. Shares the field cache with
    /// [`SkinBinder::skin`], so calling both costs one set of geodesic passes.
    pub fn joint_distances(
        &mut self,
        mesh: &Mesh,
        skeleton: &Skeleton,
        options: &AutoSkinOptions,
        task: Task,
    ) -> Result<Vec<Option<Vec<f32>>>, Cancelled> {
        let segments = bones::segments_with(skeleton, options.leaf_fraction, options.axis_leaves, &mesh.positions);
        self.update_fields(mesh, &segments, task)?;
        let mut out: Vec<Option<Vec<f32>>> = vec![None; skeleton.len()];
        for seg in &segments {
            let field = &self.fields[&key_of(seg)];
            match &mut out[seg.joint] {
                Some(d) => d.iter_mut().zip(field).for_each(|(a, b)| *a = a.min(*b)),
                slot => *slot = Some(field.clone()),
            }
        }
        Ok(out)
    }

    /// Computes the distance fields of segments not in the cache (in parallel, checking the
    /// cancel flag before each) and forgets those of segments that no longer exist.
    fn update_fields(&mut self, mesh: &Mesh, segments: &[BoneSegment], task: Task) -> Result<(), Cancelled> {
        let wanted: HashSet<SegmentKey> = segments.iter().map(key_of).collect();
        self.fields.retain(|k, _| wanted.contains(k));
        // Each missing key once (two children at the same place give the same segment).
        let mut queued = HashSet::new();
        let missing: Vec<&BoneSegment> =
            segments.iter().filter(|s| !self.fields.contains_key(&key_of(s)) && queued.insert(key_of(s))).collect();
        self.recomputed_last = missing.len();
        let done = AtomicUsize::new(0);
        let total = missing.len().max(1) as f32;
        let fields: Vec<(SegmentKey, Vec<f32>)> = missing
            .par_iter()
            .map(|seg| {
                task.check()?;
                let field = self.vertex_distances(mesh, seg);
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                task.stage("geodesic distances", 0.2 + 0.6 * n as f32 / total)?;
                Ok((key_of(seg), field))
            })
            .collect::<Result<_, Cancelled>>()?;
        self.fields.extend(fields);
        Ok(())
    }

    /// Distance from each vertex to `seg` through the solid (mesh units); vertices in solid
    /// components the bone cannot reach fall back to a penalised straight-line distance.
    fn vertex_distances(&self, mesh: &Mesh, seg: &BoneSegment) -> Vec<f32> {
        let (grid, graph) = (&self.grid, &self.graph);
        let unit = grid.size / 10.0;
        let field = graph.distances(&seed_voxels(grid, graph, seg));
        mesh.positions
            .iter()
            .zip(&self.vertex_ids)
            .map(|(p, &id)| {
                let euclid = seg.distance(&Vector3::from(*p));
                match (id != UNREACHED).then(|| field[id as usize]).filter(|&d| d != UNREACHED) {
                    Some(d) => (d as f32 * unit).max(euclid),
                    None => 4.0 * euclid + 10.0 * grid.size * 10.0,
                }
            })
            .collect()
    }
}

/// Bone heat rows per mesh vertex (see [`heat`]); `distances[k]` is `segments[k]`'s field.
fn heat_rows(
    cache: &mut Option<heat::HeatSurface>,
    graph: &smooth::SurfaceGraph,
    mesh: &Mesh,
    segments: &[BoneSegment],
    distances: &[&[f32]],
    options: &AutoSkinOptions,
    slack: f32,
) -> Vec<Vec<(u32, f32)>> {
    let welded = graph.welded_count();
    let surface = cache.get_or_insert_with(|| heat::HeatSurface::new(mesh, graph.weld(), welded));
    let mut representative = vec![0usize; welded];
    for (v, &w) in graph.weld().iter().enumerate().rev() {
        representative[w as usize] = v;
    }
    let mut sources: Vec<heat::JointSource> = Vec::new();
    for (seg, d) in segments.iter().zip(distances) {
        let field = representative.iter().map(|&v| d[v]);
        let joint = seg.joint as u32;
        match sources.iter_mut().find(|e| e.joint == joint) {
            Some(e) => {
                e.geodesic.iter_mut().zip(field).for_each(|(a, b)| *a = a.min(b));
                e.segments.push(*seg);
            }
            None => sources.push(heat::JointSource { joint, segments: vec![*seg], geodesic: field.collect() }),
        }
    }
    let settings = heat::HeatSettings {
        strength: options.heat_strength,
        region: options.heat_region,
        floor: options.heat_floor,
        visible_ratio: options.heat_visible_ratio,
        slack,
    };
    let rows = heat::heat_rows(surface, &sources, &settings);
    graph.weld().iter().map(|&w| rows[w as usize].clone()).collect()
}

/// Solid voxels on the segment; if it runs entirely outside the solid, the nearest solid voxel.
fn seed_voxels(grid: &VoxelGrid, graph: &SolidGraph, seg: &BoneSegment) -> Vec<u32> {
    let mut seeds: Vec<u32> =
        seg.samples(0.5 * grid.size).map(|p| graph.id_of_cell[grid.index(grid.cell_of(&p))]).filter(|&id| id != UNREACHED).collect();
    seeds.sort_unstable();
    seeds.dedup();
    if seeds.is_empty() {
        let nearest = (0..graph.len()).min_by(|&a, &b| {
            let da = seg.distance(&grid.center(grid.coords(graph.cell_of_id[a] as usize)));
            let db = seg.distance(&grid.center(grid.coords(graph.cell_of_id[b] as usize)));
            da.total_cmp(&db)
        });
        seeds.extend(nearest.map(|i| i as u32));
    }
    seeds
}

/// Inverse-distance falloff relative to vertex `v`'s nearest bone: `(d_min / d)^p`.
fn falloff_row(distances: &[&[f32]], joints: &[u32], v: usize, o: &AutoSkinOptions) -> Vec<(u32, f32)> {
    let d_min = distances.iter().map(|d| d[v]).fold(f32::MAX, f32::min).max(1e-9);
    let mut row: Vec<(u32, f32)> = Vec::new();
    for (s, d) in distances.iter().enumerate() {
        let w = (d_min / d[v].max(1e-9)).powf(o.falloff_power);
        if w < 1e-4 {
            continue;
        }
        match row.iter_mut().find(|e| e.0 == joints[s]) {
            Some(e) => e.1 = e.1.max(w),
            None => row.push((joints[s], w)),
        }
    }
    prune_row(row, o)
}

/// Drops influences of joints that are not the dominant joint, its parent, a child or a sibling.
fn keep_adjacent(skeleton: &Skeleton, row: &mut Vec<(u32, f32)>, o: &AutoSkinOptions) {
    let Some(&(dominant, _)) = row.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else { return };
    let parent_of = |j: u32| skeleton.joints[j as usize].parent.map(|p| p as u32);
    let near = |k: u32| {
        k == dominant
            || parent_of(dominant) == Some(k)
            || parent_of(k) == Some(dominant)
            || (parent_of(k).is_some() && parent_of(k) == parent_of(dominant))
    };
    row.retain(|e| near(e.0));
    *row = prune_row(std::mem::take(row), o);
}

/// The options' influence limit ([`InfluenceLimit::limit_row`]).
fn prune_row(row: Vec<(u32, f32)>, o: &AutoSkinOptions) -> Vec<(u32, f32)> {
    o.limit.limit_row(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::{MeshGroup, Part};
    use crate::skeleton::Joint;
    use crate::transform::Trs;
    use crate::Mat4;

    /// Two legs side by side, each with its own bone; a hip joint above them.
    fn legs() -> (Mesh, Skeleton) {
        let (pos, tris) = crate::test_shapes::boxes(&[([0.0, 0.0, 0.0], [0.3, 2.0, 0.3]), ([0.4, 0.0, 0.0], [0.7, 2.0, 0.3])]);
        let part =
            Part { name: "legs".into(), group: 0, material: None, vertices: 0..16, triangles: 0..24, skinned: true, morph_targets: vec![] };
        let mesh = Mesh { positions: pos, triangles: tris, parts: vec![part], groups: vec![MeshGroup::default()], ..Default::default() };
        let joint = |name: &str, parent, t: [f32; 3]| Joint {
            name: name.into(),
            parent,
            rest_local: Trs { translation: t.into(), ..Trs::IDENTITY },
            joint_from_mesh: Mat4::identity(),
            deform: true,
            in_skin: true,
        };
        let mut s = Skeleton {
            joints: vec![
                joint("hips", None, [0.35, 2.2, 0.15]),
                joint("leg_l", Some(0), [-0.2, -0.2, 0.0]),
                joint("foot_l", Some(1), [0.0, -1.9, 0.0]),
                joint("leg_r", Some(0), [0.2, -0.2, 0.0]),
                joint("foot_r", Some(3), [0.0, -1.9, 0.0]),
            ],
            ..Default::default()
        };
        s.joints[0].deform = false;
        s.bind_to_rest();
        (mesh, s)
    }

    #[test]
    fn weights_do_not_bleed_between_separate_legs() {
        let (mesh, skeleton) = legs();
        let options = AutoSkinOptions { rigid_piece_share: 1.0, ..Default::default() };
        let w = skin_for_skeleton(&mesh, &skeleton, &options, Task::silent()).unwrap();
        for v in 0..16 {
            let (joints, _) = w.row(v);
            assert!(!joints.is_empty(), "vertex {v} unweighted");
            let left = v < 8;
            for &j in joints {
                let name = &skeleton.joints[j as usize].name;
                assert!(name.ends_with(if left { "_l" } else { "_r" }), "vertex {v} (left: {left}) weighted to {name}");
            }
        }
    }

    #[test]
    fn knee_high_vertices_follow_the_leg_and_feet_the_foot() {
        let (mesh, skeleton) = legs();
        let options = AutoSkinOptions { rigid_piece_share: 1.0, smoothing_iterations: 0, ..Default::default() };
        let w = skin_for_skeleton(&mesh, &skeleton, &options, Task::silent()).unwrap();
        // Top corners of the left leg (y = 2) belong to leg_l, bottom corners (y = 0) to foot_l.
        for v in 0..8 {
            let y = mesh.positions[v][1];
            let dominant = {
                let (j, wt) = w.row(v);
                j[wt.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |e| e.0)]
            };
            let expect = if y > 1.0 { "leg_l" } else { "foot_l" };
            assert_eq!(skeleton.joints[dominant as usize].name, expect, "vertex {v} at y = {y}");
        }
    }

    #[test]
    fn a_reused_binder_matches_a_fresh_one_after_a_joint_moves_and_recomputes_only_its_bones() {
        let (mesh, mut skeleton) = legs();
        let options = AutoSkinOptions::default();
        let mut binder = SkinBinder::new(&mesh, &options, Task::silent()).unwrap();
        binder.skin(&mesh, &skeleton, &options, Task::silent()).unwrap();
        let all = binder.recomputed_last;
        // Move foot_r's joint (index 4) up by 0.3: only leg_r's bone and foot_r's stub change.
        skeleton.joints[4].rest_local.translation.y += 0.3;
        skeleton.bind_to_rest();
        let reused = binder.skin(&mesh, &skeleton, &options, Task::silent()).unwrap();
        assert!(binder.recomputed_last < all, "recomputed {} of {all} fields", binder.recomputed_last);
        let fresh = skin_for_skeleton(&mesh, &skeleton, &options, Task::silent()).unwrap();
        assert_eq!(reused, fresh);
    }

    #[test]
    fn a_cancelled_task_stops_binding() {
        let (mesh, skeleton) = legs();
        let flag = std::sync::atomic::AtomicBool::new(true);
        let task = Task::silent().with_cancel(&flag);
        assert_eq!(skin_for_skeleton(&mesh, &skeleton, &AutoSkinOptions::default(), task), Err(Cancelled));
    }
}
