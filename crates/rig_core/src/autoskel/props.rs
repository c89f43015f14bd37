//! Held props: a sword, an axe or a gun held out from the body is followed as the arm, and the
//! biped template then finds no arm on that side. Where the mesh is made of several source
//! meshes, those that could be props (nearly all on one side of the symmetry plane, a small
//! share of the vertices) are left out one at a time, farthest out first, and the template
//! fitted again: one whose removal lets the fit get further stays out, and once it fits, so
//! does every further one it still fits without.

use super::biped::{self, Fitted, Frame, Refusal};
use crate::autoskin::voxel::VoxelGrid;
use crate::mesh::Mesh;
use crate::task::Task;

/// A source mesh with more than this share of the vertices is part of the body, not a prop.
const MAX_PROP_SHARE: f32 = 0.25;
/// A prop lies on one side of the symmetry plane, this share of the mesh's size clear of it
/// (all but a handle or a strap that may cross: [`ONE_SIDED`] of its vertices).
const PLANE_CLEARANCE: f32 = 0.02;
const ONE_SIDED: f32 = 0.9;

/// The body without the props that kept the biped from fitting, voxelised, its frame and the
/// fit; `refusal` (the whole mesh's) when leaving out props does not make it fit, or when
/// `task` is cancelled before it does.
pub(super) fn fit_without_props(
    mesh: &Mesh,
    frame: &Frame,
    resolution: usize,
    up: [f32; 3],
    refusal: Refusal,
    task: &Task,
) -> Result<(Mesh, VoxelGrid, Frame, Fitted), Refusal> {
    // Symmetry and legs come before the arms: props are not what stopped such a fit.
    if refusal.progress == 0 {
        return Err(refusal);
    }
    let mut dropped: Vec<usize> = Vec::new();
    let mut best = refusal.progress;
    let mut fit: Option<(Mesh, VoxelGrid, Frame, Fitted)> = None;
    for group in candidates(mesh, frame) {
        if task.is_cancelled() {
            return Err(refusal);
        }
        let trial: Vec<usize> = dropped.iter().copied().chain([group]).collect();
        let body = without_groups(mesh, &trial);
        if body.triangles.is_empty() {
            continue;
        }
        let grid = VoxelGrid::from_mesh(&body.positions, &body.triangles, resolution);
        let body_frame = super::frame_for(&grid, up);
        match biped::fit(&grid, &body_frame) {
            // Once it fits, every further prop that it still fits without is left out too (a
            // character may hold several); a body part (an arm) it needs stays in.
            Ok(fitted) => {
                dropped = trial;
                fit = Some((body, grid, body_frame, fitted));
            }
            Err(r) if fit.is_none() && r.progress > best => {
                best = r.progress;
                dropped = trial;
            }
            Err(_) => {}
        }
    }
    fit.ok_or(refusal)
}

/// Source meshes that could be held props, farthest from the symmetry plane first.
fn candidates(mesh: &Mesh, f: &Frame) -> Vec<usize> {
    if mesh.groups.len() < 2 {
        return Vec::new();
    }
    let size = mesh.bounds().map_or(0.0, |b| b.size().into_iter().fold(0.0, f32::max));
    let clear = PLANE_CLEARANCE * size;
    let mut found: Vec<(usize, f32)> = Vec::new();
    for group in 0..mesh.groups.len() {
        let offsets: Vec<f32> = vertices_of(mesh, group).map(|v| mesh.positions[v][f.lateral] - f.centre).collect();
        if offsets.is_empty() || offsets.len() as f32 > MAX_PROP_SHARE * mesh.positions.len() as f32 {
            continue;
        }
        let beyond = |side: f32| offsets.iter().filter(|&&o| o * side > clear).count() as f32;
        let reach = offsets.iter().fold(0.0f32, |m, o| m.max(o.abs()));
        if beyond(1.0).max(beyond(-1.0)) >= ONE_SIDED * offsets.len() as f32 {
            found.push((group, reach));
        }
    }
    found.sort_by(|a, b| b.1.total_cmp(&a.1));
    found.into_iter().map(|(g, _)| g).collect()
}

/// The vertices of the parts that came from source mesh `group`.
fn vertices_of(mesh: &Mesh, group: usize) -> impl Iterator<Item = usize> + '_ {
    mesh.parts.iter().filter(move |p| p.group == group).flat_map(|p| p.vertices.start as usize..p.vertices.end as usize)
}

/// The mesh's positions and triangles without the source meshes in `groups`.
fn without_groups(mesh: &Mesh, groups: &[usize]) -> Mesh {
    let mut dropped = vec![false; mesh.positions.len()];
    for &g in groups {
        vertices_of(mesh, g).for_each(|v| dropped[v] = true);
    }
    let mut remap = vec![u32::MAX; mesh.positions.len()];
    let mut positions = Vec::new();
    for (v, p) in mesh.positions.iter().enumerate().filter(|(v, _)| !dropped[*v]) {
        remap[v] = positions.len() as u32;
        positions.push(*p);
    }
    let triangles =
        mesh.triangles.iter().filter(|t| t.iter().all(|&i| !dropped[i as usize])).map(|t| t.map(|i| remap[i as usize])).collect();
    Mesh { positions, triangles, ..Default::default() }
}
