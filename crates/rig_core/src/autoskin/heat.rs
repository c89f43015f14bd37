//! Bone heat over the welded surface (after Baran & Popović 2007): each vertex is "heated" by
//! the joint(s) nearest to it through the solid, with a strength of `1 / d²` (d: that
//! distance), and heat spreads along the surface. A joint's weight is the steady state
//!
//! `(-Δ + H) w_j = H p_j`, with `H = diag(1 / d_min²)` and `p_j = 1` where `j` is nearest,
//!
//! which blends neighbouring bones over a width about the distance from the surface to the
//! bone (the limb's radius), whatever the mesh's resolution. Δ is the cotangent
//! Laplace-Beltrami operator; multiplied through by the vertex areas the system is symmetric
//! positive definite. Each joint is solved only over the vertices where it can matter (its
//! distance within `region` times the vertex's nearest), directly, by sparse Cholesky
//! ([`super::heat_solve`]).
//!
//! A re-skin after joint edits reuses what the edit did not reach: the measurements of joints
//! whose bones did not move, the solutions of joints whose region, heat and sources are the
//! same, and the fill-reducing analysis of regions that kept their shape. The weights are the
//! ones a fresh skin computes, bit for bit.
//!
//! Where Blender decides "nearest" by a ray test that fails on open or multi-part meshes
//! (leaving whole pieces unweighted), this uses the geodesic distances through the voxelised
//! solid, which every vertex has.

use std::collections::HashMap;

use nalgebra::Vector3;
use rayon::prelude::*;

use super::bones::BoneSegment;
use super::heat_solve::{surface_order, Analysis, RegionMatrix};
use super::{key_of, SegmentKey};
use crate::mesh::Mesh;

type Row = Vec<(u32, f32)>;

/// Relative tolerance under which two joints count as equally near.
const TIE: f32 = 1e-4;

/// The welded surface as a symmetric sparse matrix: cotangent edge weights in CSR form and
/// each welded vertex's area (a third of its triangles').
pub struct HeatSurface {
    offsets: Vec<u32>,
    neighbours: Vec<u32>,
    edge_weights: Vec<f32>,
    area: Vec<f32>,
    position: Vec<Vector3<f32>>,
    /// Area-weighted vertex normals of the welded surface.
    normal: Vec<Vector3<f32>>,
    /// Connected piece of each welded vertex.
    component: Vec<u32>,
    /// The last skin's inputs and solutions, reused by a re-skin where nothing they depend
    /// on changed.
    last: Option<LastSolve>,
    /// Elimination rank of each welded vertex (see [`surface_order`]).
    order: Option<Vec<u32>>,
}

/// What [`heat_rows`] keeps between calls.
struct LastSolve {
    settings: HeatSettings,
    heat: Vec<f32>,
    /// Joints heating each welded vertex.
    nearest: Vec<Vec<u32>>,
    joints: HashMap<u32, JointSolve>,
}

/// One joint's measurements and solution.
struct JointSolve {
    /// Its bone segments, bit for bit.
    segments: Vec<SegmentKey>,
    /// Per welded vertex: the heating distance to its bones and whether they see the vertex.
    measured: Vec<(f32, bool)>,
    /// Welded vertices it was solved over, ascending.
    region: Vec<u32>,
    /// Its weight at each region vertex.
    solution: Vec<(u32, f32)>,
    /// The region's symbolic factorisation.
    symbolic: Option<Analysis>,
}

impl HeatSurface {
    /// `weld`: welded id per mesh vertex; `n`: number of welded vertices.
    pub fn new(mesh: &Mesh, weld: &[u32], n: usize) -> HeatSurface {
        let mut position = vec![Vector3::zeros(); n];
        for (v, &w) in weld.iter().enumerate() {
            position[w as usize] = Vector3::from(mesh.positions[v]);
        }
        let mut area = vec![0f32; n];
        let mut normal = vec![Vector3::zeros(); n];
        let mut edges: Vec<(u32, u32, f32)> = Vec::with_capacity(mesh.triangles.len() * 6);
        for t in &mesh.triangles {
            let ids = t.map(|i| weld[i as usize]);
            if ids[0] == ids[1] || ids[1] == ids[2] || ids[2] == ids[0] {
                continue;
            }
            let p = ids.map(|i| position[i as usize]);
            let face_normal = (p[1] - p[0]).cross(&(p[2] - p[0]));
            let double_area = face_normal.norm();
            if double_area <= 0.0 {
                continue;
            }
            ids.iter().for_each(|&i| {
                area[i as usize] += double_area / 6.0;
                normal[i as usize] += face_normal;
            });
            for corner in 0..3 {
                let (a, b) = (ids[(corner + 1) % 3], ids[(corner + 2) % 3]);
                let (u, v) = (p[(corner + 1) % 3] - p[corner], p[(corner + 2) % 3] - p[corner]);
                // Half the cotangent of the corner's angle, for the opposite edge; negative
                // (obtuse) weights are clamped so the operator keeps weights within [0, 1].
                let cot = u.dot(&v) / u.cross(&v).norm().max(1e-20);
                let w = (0.5 * cot).clamp(0.0, 1e3);
                edges.push((a, b, w));
                edges.push((b, a, w));
            }
        }
        edges.par_sort_unstable_by_key(|e| (e.0, e.1));
        let mut merged: Vec<(u32, u32, f32)> = Vec::with_capacity(edges.len() / 2);
        for e in edges {
            match merged.last_mut() {
                Some(last) if (last.0, last.1) == (e.0, e.1) => last.2 += e.2,
                _ => merged.push(e),
            }
        }
        let mut offsets = vec![0u32; n + 1];
        for &(a, _, _) in &merged {
            offsets[a as usize + 1] += 1;
        }
        for i in 1..=n {
            offsets[i] += offsets[i - 1];
        }
        let neighbours = merged.iter().map(|e| e.1).collect();
        let edge_weights = merged.iter().map(|e| e.2).collect();
        let mean_area = area.iter().sum::<f32>() / n.max(1) as f32;
        area.iter_mut().for_each(|a| *a = a.max(1e-6 * mean_area).max(f32::MIN_POSITIVE));
        normal.iter_mut().for_each(|v| *v = v.try_normalize(1e-30).unwrap_or_else(Vector3::zeros));
        let mut surface =
            HeatSurface { offsets, neighbours, edge_weights, area, position, normal, component: Vec::new(), last: None, order: None };
        surface.component = surface.components();
        surface.order = surface_order(&surface);
        surface
    }

    /// Connected pieces through the operator's edges (a triangle without area joins nothing:
    /// heat cannot cross it).
    fn components(&self) -> Vec<u32> {
        super::smooth::connected_components(self.len(), |v| self.row(v).map(|(u, _)| u))
    }

    pub fn len(&self) -> usize {
        self.area.len()
    }

    pub fn is_empty(&self) -> bool {
        self.area.is_empty()
    }

    /// Welded vertex `v`'s neighbours (ascending) and edge weights.
    pub(super) fn row(&self, v: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let r = self.offsets[v] as usize..self.offsets[v + 1] as usize;
        self.neighbours[r.clone()].iter().map(|&u| u as usize).zip(self.edge_weights[r].iter().copied())
    }
}

/// One joint's heat source: its bone segments and its distance through the solid to each
/// welded vertex.
pub struct JointSource {
    pub joint: u32,
    pub segments: Vec<BoneSegment>,
    pub geodesic: Vec<f32>,
}

/// Settings of [`heat_rows`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeatSettings {
    /// Heat strength relative to the Laplace-Beltrami operator (Blender's works out at 4).
    pub strength: f32,
    /// A joint's solve covers the vertices whose distance to it through the solid is at most
    /// this factor times their nearest joint's.
    pub region: f32,
    /// Weights under `floor` are dropped; between `floor` and twice it they ramp down.
    pub floor: f32,
    /// A bone "sees" a vertex when its distance through the solid is at most this factor of
    /// the straight-line one, plus `slack` (mesh units: the voxels' staircase).
    pub visible_ratio: f32,
    pub slack: f32,
}

/// Heat weights per welded vertex (not normalised). A vertex is heated by the bones nearest to
/// it (straight-line distance, lengthened where its normal faces away from the bone, as in
/// Blender) that see it through the solid; a connected piece that no bone sees is heated by
/// its nearest joint through the solid instead, so no piece is left without weight.
///
/// Called again on the same surface (a re-skin after joint edits), a joint whose bones did not
/// move keeps its measurements, and a joint whose region, heat and sources are all unchanged
/// keeps its solution: the same numbers a fresh call computes. Only the joints the edit
/// reaches are solved again, reusing their region's analysis where the region kept its shape.
pub fn heat_rows(surface: &mut HeatSurface, sources: &[JointSource], s: &HeatSettings) -> Vec<Row> {
    let n = surface.len();
    let mut last = surface.last.take().filter(|l| l.settings == *s && l.heat.len() == n);
    let keys: Vec<Vec<SegmentKey>> = sources.iter().map(|src| src.segments.iter().map(key_of).collect()).collect();
    let kept: Vec<Option<Vec<(f32, bool)>>> = sources
        .iter()
        .zip(&keys)
        .map(|(src, keys)| {
            let joint = last.as_mut().and_then(|l| l.joints.get_mut(&src.joint)).filter(|j| j.segments == *keys);
            joint.map(|j| std::mem::take(&mut j.measured))
        })
        .collect();
    let measured: Vec<Vec<(f32, bool)>> =
        sources.par_iter().zip(kept).map(|(src, kept)| kept.unwrap_or_else(|| measure(surface, src, s))).collect();
    let nearest = nearest_sources(surface, sources, &measured);
    let heat: Vec<f32> = nearest
        .iter()
        .enumerate()
        .map(|(v, (d, ks))| if ks.is_empty() { 0.0 } else { surface.area[v] * s.strength * ks.len() as f32 / (d * d).max(1e-18) })
        .collect();
    let nearest_joints: Vec<Vec<u32>> = nearest.iter().map(|(_, ks)| ks.iter().map(|&k| sources[k].joint).collect()).collect();
    let changed: Vec<bool> = match &last {
        Some(l) => (0..n).map(|v| l.heat[v].to_bits() != heat[v].to_bits() || l.nearest[v] != nearest_joints[v]).collect(),
        None => vec![true; n],
    };
    let geo_min: Vec<f32> = (0..n).map(|v| sources.iter().map(|k| k.geodesic[v]).fold(f32::MAX, f32::min)).collect();
    let solved: Vec<JointSolve> = sources
        .par_iter()
        .zip(measured)
        .zip(keys)
        .enumerate()
        .map(|(k, ((src, measured), segments))| {
            let region: Vec<u32> =
                (0..n).filter(|&v| src.geodesic[v] <= s.region * geo_min[v] || nearest[v].1.contains(&k)).map(|v| v as u32).collect();
            let previous = last.as_ref().and_then(|l| l.joints.get(&src.joint)).filter(|p| p.region == region);
            let (solution, symbolic) = match previous {
                Some(p) if !region.iter().any(|&v| changed[v as usize]) => (p.solution.clone(), p.symbolic.clone()),
                _ => {
                    let source = |v: usize| source_share(&nearest[v].1, k);
                    match solve_region(surface, &heat, &region, source, previous.and_then(|p| p.symbolic.clone())) {
                        Some((solution, symbolic)) => (solution, Some(symbolic)),
                        None => (Vec::new(), None),
                    }
                }
            };
            JointSolve { segments, measured, region, solution, symbolic }
        })
        .collect();
    let mut rows: Vec<Row> = vec![Vec::new(); n];
    for (src, joint) in sources.iter().zip(&solved) {
        for &(v, w) in joint.solution.iter().filter(|e| e.1 > s.floor) {
            let w = w.min(1.0);
            match rows[v as usize].iter_mut().find(|e| e.0 == src.joint) {
                Some(e) => e.1 = e.1.max(w),
                None => rows[v as usize].push((src.joint, w)),
            }
        }
    }
    let ramp = |w: f32| if w >= 2.0 * s.floor { w } else { w * (w - s.floor) / s.floor.max(1e-12) };
    rows.iter_mut().for_each(|r| r.iter_mut().for_each(|e| e.1 = ramp(e.1)));
    let joints = sources.iter().map(|src| src.joint).zip(solved).collect();
    surface.last = Some(LastSolve { settings: *s, heat, nearest: nearest_joints, joints });
    rows
}

/// Source `k`'s share of a vertex heated by the sources `ks`.
fn source_share(ks: &[usize], k: usize) -> f32 {
    match ks.contains(&k) {
        true => 1.0 / ks.len() as f32,
        false => 0.0,
    }
}

/// Each welded vertex's heating distance and the sources (indices) that heat it, from each
/// source's [`measure`].
fn nearest_sources(surface: &HeatSurface, sources: &[JointSource], measured: &[Vec<(f32, bool)>]) -> Vec<(f32, Vec<usize>)> {
    let nearest: Vec<(f32, Vec<usize>)> = (0..surface.len())
        .into_par_iter()
        .map(|v| {
            let d_min = measured.iter().map(|m| m[v].0).fold(f32::MAX, f32::min);
            (d_min, measured.iter().enumerate().filter(|(_, m)| m[v].0 <= d_min * (1.0 + TIE) && m[v].1).map(|(k, _)| k).collect())
        })
        .collect();
    let mut heated_component = vec![false; surface.component.iter().map(|&c| c as usize + 1).max().unwrap_or(0)];
    nearest.iter().zip(&surface.component).filter(|(e, _)| !e.1.is_empty()).for_each(|(_, &c)| heated_component[c as usize] = true);
    nearest
        .into_iter()
        .enumerate()
        .map(|(v, e)| if heated_component[surface.component[v] as usize] { e } else { nearest_through_solid(sources, v) })
        .collect()
}

/// Blender's distance from each vertex to `src`'s bones and whether the nearest is seen.
fn measure(surface: &HeatSurface, src: &JointSource, s: &HeatSettings) -> Vec<(f32, bool)> {
    (0..surface.len())
        .map(|v| {
            let p = surface.position[v];
            let (euclid, closest) = src
                .segments
                .iter()
                .map(|seg| {
                    let c = seg.closest_point(&p);
                    ((p - c).norm(), c)
                })
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .unwrap_or((f32::MAX, p));
            let cosine = (p - closest).try_normalize(1e-12).map_or(1.0, |d| d.dot(&surface.normal[v]));
            let dist = euclid / (0.5 * (cosine + 1.001));
            (dist, src.geodesic[v] <= s.visible_ratio * euclid + s.slack)
        })
        .collect()
}

/// The joint(s) nearest to vertex `v` through the solid.
fn nearest_through_solid(sources: &[JointSource], v: usize) -> (f32, Vec<usize>) {
    let d_min = sources.iter().map(|k| k.geodesic[v]).fold(f32::MAX, f32::min);
    (d_min, sources.iter().enumerate().filter(|(_, k)| k.geodesic[v] <= d_min * (1.0 + TIE)).map(|(k, _)| k).collect())
}

/// `(L + diag(heat)) w = heat * source` over `region`, with `w = 0` outside it, solved directly
/// (sparse Cholesky). `analysis` is the region's from an earlier solve, if the region is the
/// same; the one used is returned with the (vertex, weight) values. `None` when the system is
/// not positive definite (non-finite heat).
fn solve_region(
    surface: &HeatSurface,
    heat: &[f32],
    region: &[u32],
    source: impl Fn(usize) -> f32,
    analysis: Option<Analysis>,
) -> Option<(Vec<(u32, f32)>, Analysis)> {
    let system = RegionMatrix::new(surface, heat, region);
    let analysis = match analysis {
        Some(a) => a,
        None => system.analyse(region, surface.order.as_deref())?,
    };
    let b: Vec<f64> = region.iter().map(|&v| heat[v as usize] as f64 * source(v as usize) as f64).collect();
    let x = system.solve(b, &analysis)?;
    Some((region.iter().copied().zip(x.into_iter().map(|x| x as f32)).collect(), analysis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::Part;

    /// A `k` x `k` grid of vertices over the unit square in the z = 0 plane, split into triangles
    /// with alternating diagonals.
    fn sheet(k: usize) -> Mesh {
        let positions = (0..k * k).map(|i| [(i % k) as f32 / (k - 1) as f32, (i / k) as f32 / (k - 1) as f32, 0.0]).collect();
        let mut triangles = Vec::new();
        for y in 0..k - 1 {
            for x in 0..k - 1 {
                let [a, b, c, d] = [y * k + x, y * k + x + 1, (y + 1) * k + x, (y + 1) * k + x + 1].map(|i| i as u32);
                triangles.extend(if (x + y) % 2 == 0 { [[a, b, d], [a, d, c]] } else { [[a, b, c], [b, d, c]] });
            }
        }
        let part = Part {
            name: "sheet".into(),
            group: 0,
            material: None,
            vertices: 0..(k * k) as u32,
            triangles: 0..triangles.len() as u32,
            skinned: true,
            morph_targets: vec![],
        };
        Mesh { positions, triangles, parts: vec![part], ..Default::default() }
    }

    fn identity_weld(mesh: &Mesh) -> Vec<u32> {
        (0..mesh.vertex_count() as u32).collect()
    }

    /// Gaussian elimination on the dense matrix `L + diag(heat)` restricted to `region`.
    fn dense_solve(surface: &HeatSurface, heat: &[f32], region: &[u32], b: &[f64]) -> Vec<f64> {
        let m = region.len();
        let index = |v: usize| region.iter().position(|&r| r as usize == v);
        let mut a = vec![vec![0f64; m + 1]; m];
        for (i, &v) in region.iter().enumerate() {
            a[i][i] = surface.row(v as usize).map(|(_, w)| w as f64).sum::<f64>() + heat[v as usize] as f64;
            for (u, w) in surface.row(v as usize) {
                if let Some(j) = index(u) {
                    a[i][j] -= w as f64;
                }
            }
            a[i][m] = b[i];
        }
        for col in 0..m {
            let pivot = (col..m).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs())).unwrap();
            a.swap(col, pivot);
            for row in 0..m {
                if row != col {
                    let f = a[row][col] / a[col][col];
                    (col..=m).for_each(|c| a[row][c] -= f * a[col][c]);
                }
            }
        }
        (0..m).map(|i| a[i][m] / a[i][i]).collect()
    }

    #[test]
    fn the_sparse_cholesky_matches_a_dense_solve_on_a_region() {
        let mesh = sheet(12);
        let surface = HeatSurface::new(&mesh, &identity_weld(&mesh), mesh.vertex_count());
        let n = surface.len();
        // Heat along the left edge only; the region leaves out the right third (w = 0 there).
        let heat: Vec<f32> = (0..n).map(|v| if v % 12 < 2 { 50.0 * surface.area[v] } else { 0.0 }).collect();
        let source = |v: usize| if v.is_multiple_of(12) { 1.0 } else { 0.5 };
        let region: Vec<u32> = (0..n as u32).filter(|v| v % 12 < 8).collect();
        let (solved, symbolic) = solve_region(&surface, &heat, &region, source, None).unwrap();
        let b: Vec<f64> = region.iter().map(|&v| (heat[v as usize] * source(v as usize)) as f64).collect();
        let reference = dense_solve(&surface, &heat, &region, &b);
        let worst = solved.iter().zip(&reference).map(|(&(_, w), r)| (w as f64 - r).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-6, "largest difference {worst}");
        // Heat at 1 on the left edge and 0.5 beside it, none elsewhere: the solution lies between.
        assert!(reference.iter().all(|&r| (-1e-9..=1.0 + 1e-9).contains(&r)));
        // The region's analysis reused for other heat gives that heat's solution.
        let hotter: Vec<f32> = heat.iter().map(|h| 3.0 * h).collect();
        let (again, _) = solve_region(&surface, &hotter, &region, source, Some(symbolic)).unwrap();
        let (fresh, _) = solve_region(&surface, &hotter, &region, source, None).unwrap();
        assert_eq!(again, fresh);
        assert_ne!(again, solved);
    }

    #[test]
    fn a_piece_without_heat_inside_a_region_solves_to_zero() {
        // Two sheets side by side, not connected: the left one heated, the right one not.
        let mut mesh = sheet(6);
        let offset = mesh.vertex_count() as u32;
        let right: Vec<[f32; 3]> = mesh.positions.iter().map(|p| [p[0] + 2.0, p[1], p[2]]).collect();
        let right_triangles: Vec<[u32; 3]> = mesh.triangles.iter().map(|t| t.map(|i| i + offset)).collect();
        mesh.positions.extend(right);
        mesh.triangles.extend(right_triangles);
        let n = mesh.vertex_count();
        let surface = HeatSurface::new(&mesh, &identity_weld(&mesh), n);
        let heat: Vec<f32> = (0..n).map(|v| if v < offset as usize { 10.0 * surface.area[v] } else { 0.0 }).collect();
        let region: Vec<u32> = (0..n as u32).collect();
        let (solved, _) = solve_region(&surface, &heat, &region, |_| 1.0, None).expect("the ridge keeps the system definite");
        assert!(solved.iter().all(|e| e.1.is_finite()));
        assert!(solved[..offset as usize].iter().all(|e| (e.1 - 1.0).abs() < 1e-4), "the heated sheet takes its source");
        assert!(solved[offset as usize..].iter().all(|e| e.1.abs() < 1e-6), "the unheated sheet stays at 0");
    }

    #[test]
    fn the_cotangent_operator_is_symmetric_and_has_the_sheet_area() {
        let mesh = sheet(9);
        let surface = HeatSurface::new(&mesh, &identity_weld(&mesh), mesh.vertex_count());
        for v in 0..surface.len() {
            for (u, w) in surface.row(v) {
                let back = surface.row(u).find(|e| e.0 == v).map(|e| e.1);
                assert_eq!(back, Some(w), "edge {v}-{u}");
            }
        }
        let area: f32 = surface.area.iter().sum();
        assert!((area - 1.0).abs() < 1e-4, "area {area}");
        assert!(surface.normal.iter().all(|n| (n.z.abs() - 1.0).abs() < 1e-6));
    }

    /// Two bones along the sheet's x axis meeting at x = 0.5, just under it.
    fn two_bones(n: usize, mesh: &Mesh) -> Vec<JointSource> {
        let bone = |joint: u32, x0: f32, x1: f32| {
            let seg = BoneSegment { joint: joint as usize, a: Vector3::new(x0, 0.5, -0.1), b: Vector3::new(x1, 0.5, -0.1) };
            let geodesic = (0..n).map(|v| seg.distance(&Vector3::from(mesh.positions[v]))).collect();
            JointSource { joint, segments: vec![seg], geodesic }
        };
        vec![bone(0, 0.0, 0.5), bone(1, 0.5, 1.0)]
    }

    fn settings() -> HeatSettings {
        HeatSettings { strength: 4.0, region: 100.0, floor: 0.025, visible_ratio: 1.05, slack: 0.0 }
    }

    #[test]
    fn two_bones_blend_across_their_joint_and_own_their_ends() {
        let mesh = sheet(21);
        let n = mesh.vertex_count();
        let mut surface = HeatSurface::new(&mesh, &identity_weld(&mesh), n);
        let rows = heat_rows(&mut surface, &two_bones(n, &mesh), &settings());
        let weight = |v: usize, j: u32| rows[v].iter().find(|e| e.0 == j).map_or(0.0, |e| e.1);
        let at = |x: usize| 10 * 21 + x; // middle row, column x
        assert!(weight(at(0), 0) > 0.95 && weight(at(0), 1) < 0.05, "{:?}", rows[at(0)]);
        assert!(weight(at(20), 1) > 0.95 && weight(at(20), 0) < 0.05, "{:?}", rows[at(20)]);
        let (a, b) = (weight(at(10), 0), weight(at(10), 1));
        assert!((a - b).abs() < 0.05 && a > 0.3, "at the joint: {:?}", rows[at(10)]);
        // Weight falls monotonically along the row, away from bone 0.
        let along: Vec<f32> = (0..21).map(|x| weight(at(x), 0)).collect();
        assert!(along.windows(2).all(|w| w[1] <= w[0] + 1e-4), "{along:?}");
    }

    #[test]
    fn a_piece_no_bone_sees_is_heated_by_its_nearest_joint_through_the_solid() {
        let mesh = sheet(11);
        let n = mesh.vertex_count();
        let mut surface = HeatSurface::new(&mesh, &identity_weld(&mesh), n);
        let mut sources = two_bones(n, &mesh);
        // Through the solid, bone 1 is far further than the straight line everywhere: never seen.
        // Bone 0 is seen nowhere either, so the sheet falls back to the nearest through the solid.
        sources[0].geodesic.iter_mut().for_each(|d| *d = *d * 3.0 + 1.0);
        sources[1].geodesic.iter_mut().for_each(|d| *d = *d * 3.0 + 2.0);
        let rows = heat_rows(&mut surface, &sources, &settings());
        assert!(rows.iter().all(|r| !r.is_empty()), "a vertex left unweighted");
        assert!(rows.iter().all(|r| r.iter().any(|e| e.0 == 0 && e.1 > 0.9)), "bone 0 is the nearest through the solid everywhere");
    }

    #[test]
    fn a_vertex_only_in_zero_area_triangles_gets_a_finite_weight() {
        let mut mesh = sheet(6);
        // A vertex on the line between two corners: its only triangle has no area.
        mesh.positions.push([0.5, 0.0, 0.0]);
        let extra = mesh.positions.len() as u32 - 1;
        mesh.triangles.push([0, 5, extra]);
        let n = mesh.vertex_count();
        let mut surface = HeatSurface::new(&mesh, &identity_weld(&mesh), n);
        let rows = heat_rows(&mut surface, &two_bones(n, &mesh), &settings());
        assert!(rows.iter().flatten().all(|e| e.1.is_finite()), "a weight is not finite");
        assert!(!rows[extra as usize].is_empty(), "the extra vertex is unweighted");
    }
}
