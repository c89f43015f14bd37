//! Expression transfer: each input part is matched to a part of the registered template
//! (skin, teeth, an eyeball, ...) by where most of its vertices lie; each vertex then takes
//! the shapes' offsets at its closest point on that template part (the skin's only where the
//! normals agree, so the upper lip does not take the lower lip's offsets), turned and scaled
//! into the input's frame. Skin farther from the template than a few percent of the head
//! (a body under the head) does not move.

use nalgebra::Vector3;
use rayon::prelude::*;

use super::align::Similarity;
use super::nearest::TriangleGrid;
use super::template::{Class, FaceTemplate};
use crate::autoskin::smooth::connected_components;

/// Input skin up to this share of the head's diagonal from the template takes the full
/// offsets; beyond twice this it takes none.
const NEAR: f32 = 0.015;

/// Where an input vertex reads the template's offsets: a template triangle, the barycentric
/// weights of the point there, and how much of the offsets it takes (skin far from the
/// template fades to none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    pub triangle: usize,
    pub bary: [f32; 3],
    pub fade: f32,
}

/// Per input vertex: the template part it was matched to, and its offset in each shape.
pub struct Transferred {
    pub class: Vec<Option<Class>>,
    pub matches: Vec<Option<Match>>,
    /// `deltas[shape][vertex]`, in the input's frame.
    pub deltas: Vec<Vec<Vector3<f32>>>,
}

/// Offsets of every template shape at the input's vertices. `registered`: the template's
/// vertices after registration (input frame); `s`: the placement, to turn offsets.
pub fn transfer(
    template: &FaceTemplate,
    registered: &[Vector3<f32>],
    s: &Similarity,
    positions: &[Vector3<f32>],
    triangles: &[[u32; 3]],
) -> Transferred {
    let grid = TriangleGrid::new(registered, &template.triangles, |_| true);
    let tri_class: Vec<Class> = template.triangles.iter().map(|t| template.class[t[0] as usize]).collect();
    let reach = s.scale * template.diagonal();
    let near = NEAR * reach;
    let normals = super::register::vertex_normals(positions, triangles);
    let class = classify(positions, &normals, triangles, &grid, &tri_class, 2.0 * near);
    let matches: Vec<Option<Match>> = (0..positions.len())
        .into_par_iter()
        .map(|i| {
            let c = class[i]?;
            let same = |t: usize| tri_class[t] == c;
            let agree = |t: usize| same(t) && (c != Class::Skin || grid.normals[t].dot(&normals[i]) > 0.0);
            let h = grid.closest(&positions[i], agree).or_else(|| grid.closest(&positions[i], same))?;
            let fade = if c == Class::Skin { 1.0 - smoothstep(near, 2.0 * near, h.distance) } else { 1.0 };
            Some(Match { triangle: h.triangle, bary: h.bary, fade })
        })
        .collect();
    let deltas = template
        .shapes
        .par_iter()
        .map(|shape| {
            matches
                .iter()
                .map(|m| match m {
                    Some(m) if m.fade > 0.0 => s.vector(&template.offset_at(shape, m.triangle, &m.bary)) * m.fade,
                    _ => Vector3::zeros(),
                })
                .collect()
        })
        .collect();
    Transferred { class, matches, deltas }
}

/// The template part each input vertex belongs to: its connected piece's most common
/// nearest part (facing the same way) among the piece's vertices within `cut` of the
/// template; `None` for pieces with none that near. Facing keeps a tooth behind the lips
/// from taking the inside of the lip for itself.
fn classify(
    positions: &[Vector3<f32>],
    normals: &[Vector3<f32>],
    triangles: &[[u32; 3]],
    grid: &TriangleGrid,
    tri_class: &[Class],
    cut: f32,
) -> Vec<Option<Class>> {
    let piece = pieces(positions.len(), triangles);
    let nearest: Vec<Option<Class>> = (0..positions.len())
        .into_par_iter()
        .map(|i| grid.closest_within(&positions[i], cut, |t| grid.normals[t].dot(&normals[i]) > 0.0).map(|h| tri_class[h.triangle]))
        .collect();
    let count = piece.iter().copied().max().map_or(0, |m| m + 1);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (i, &p) in piece.iter().enumerate() {
        members[p].push(i);
    }
    // Among the parts any of its vertices is nearest to, the piece takes the one it lies
    // closest to on average (vertices facing the other way, or farther than `cut`, count as
    // `cut` away): a tooth near the inside of the lip is still nearer the teeth overall.
    let winner: Vec<Option<Class>> = members
        .par_iter()
        .map(|m| {
            let mut candidates: Vec<Class> = m.iter().filter_map(|&i| nearest[i]).collect();
            candidates.sort_by_key(|c| *c as u8);
            candidates.dedup();
            let sample: Vec<usize> = m.iter().copied().step_by((m.len() / 200).max(1)).collect();
            let mean = |c: Class| {
                sample
                    .iter()
                    .map(|&i| {
                        grid.closest_within(&positions[i], cut, |t| tri_class[t] == c && grid.normals[t].dot(&normals[i]) > 0.0)
                            .map_or(cut, |h| h.distance)
                    })
                    .sum::<f32>()
            };
            candidates.into_iter().map(|c| (mean(c), c)).min_by(|a, b| a.0.total_cmp(&b.0)).map(|(_, c)| c)
        })
        .collect();
    piece.iter().map(|&p| winner[p]).collect()
}

/// Connected pieces of the mesh (by shared vertices): a piece index per vertex.
pub fn pieces(n: usize, triangles: &[[u32; 3]]) -> Vec<usize> {
    let neighbours = super::register::adjacency(n, triangles);
    connected_components(n, |v| neighbours[v].iter().map(|&u| u as usize)).into_iter().map(|c| c as usize).collect()
}

fn smoothstep(lo: f32, hi: f32, x: f32) -> f32 {
    let t = ((x - lo) / (hi - lo)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}
