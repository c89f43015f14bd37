//! Procedural creatures for training the learned models on shapes the artists' files do not
//! cover: a random skeleton graph ([`body`]), a surface grown around it ([`surface`]), and
//! skin weights from that construction: each vertex follows the bone whose capsule it lies on,
//! blended with the bones that meet it at a joint by how much nearer that bone's capsule is.

pub mod body;
pub mod motion;
pub mod surface;

use nalgebra::Vector3;
use rayon::prelude::*;

use crate::autoskel::skeleton_from_tree;
use crate::limit::InfluenceLimit;
use crate::mesh::{Mesh, MeshGroup, Part};
use crate::metrics::SplitMix;
use crate::rig::Rig;
use crate::weights::SkinWeights;
use body::{random_body, self_intersects, Bone};
use surface::{grow_surface, Capsule, Surface};

/// Settings of the creature generator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CreatureOptions {
    /// Grid cells along the longest side of the creature (sets the vertex count: 64 gives a
    /// few thousand vertices, 128 about four times more).
    pub resolution: usize,
    /// Influences kept per vertex.
    pub max_influences: usize,
}

impl Default for CreatureOptions {
    fn default() -> Self {
        CreatureOptions { resolution: 72, max_influences: 4 }
    }
}

/// Bodies drawn before one without touching limbs is accepted.
const TRIES: usize = 200;

/// The creature of `seed`: the same seed gives the same rig. Joints are named by chain
/// (`root`, `chain_01_01`, ...); end joints carry no weight and do not deform.
pub fn creature(seed: u64, options: &CreatureOptions) -> Rig {
    let mut rng = SplitMix(seed);
    let mut body = random_body(&mut rng);
    for _ in 1..TRIES {
        if !self_intersects(&body) {
            break;
        }
        body = random_body(&mut rng);
    }
    let bones = body.bones();
    let capsules: Vec<Capsule> = bones.iter().map(|b| Capsule::of(&body, b)).collect();
    let Surface { positions, normals, triangles } = grow_surface(&capsules, options.resolution);
    // How wide the blend at a joint is, in units of the local radius: artists differ.
    let blend = 0.15 + 0.35 * rng.unit();
    let weights = construction_weights(&bones, &capsules, &positions, blend, options.max_influences);
    let (n, t) = (positions.len() as u32, triangles.len() as u32);
    let name = format!("creature_{seed}");
    let part = Part { name: name.clone(), group: 0, material: None, vertices: 0..n, triangles: 0..t, skinned: true, morph_targets: vec![] };
    let mesh = Mesh {
        positions,
        normals,
        triangles,
        parts: vec![part],
        groups: vec![MeshGroup { name: name.clone(), ..Default::default() }],
        ..Default::default()
    };
    let mut rig = Rig { name, mesh, skeleton: skeleton_from_tree(&body.tree), weights, ..Default::default() };
    rig.mark_unweighted_joints_non_deforming();
    rig
}

/// Per vertex: the bone whose capsule surface is nearest, and the bones sharing a joint with
/// it, each weighted by `exp(-(d - d_nearest) / (blend * radius))`; a bone's weight goes to
/// its parent joint (the joint that turns it), rows limited to `max_influences` (shares under 0.1 % dropped) by [`InfluenceLimit`].
fn construction_weights(bones: &[Bone], capsules: &[Capsule], positions: &[[f32; 3]], blend: f32, max_influences: usize) -> SkinWeights {
    let limit = InfluenceLimit { max_influences: max_influences.max(1), min_weight: 1e-3 };
    let neighbours: Vec<Vec<usize>> = bones
        .iter()
        .map(|a| {
            let joints = [a.parent, a.child];
            (0..bones.len()).filter(|&k| joints.contains(&bones[k].parent) || joints.contains(&bones[k].child)).collect()
        })
        .collect();
    let rows: Vec<Vec<(u32, f32)>> = positions
        .par_iter()
        .map(|p| {
            let p = Vector3::from(*p);
            let distances: Vec<(f32, f32)> = capsules.iter().map(|c| c.distance(&p)).collect();
            let nearest = (0..bones.len()).min_by(|&a, &b| distances[a].0.total_cmp(&distances[b].0)).unwrap_or(0);
            let (d0, t0) = distances[nearest];
            let c = &capsules[nearest];
            let scale = blend * (c.ra + (c.rb - c.ra) * t0).max(1e-6);
            let mut row: Vec<(u32, f32)> = Vec::new();
            for &k in &neighbours[nearest] {
                let w = (-(distances[k].0 - d0) / scale).exp();
                let owner = bones[k].parent as u32;
                match row.iter_mut().find(|(j, _)| *j == owner) {
                    Some(entry) => entry.1 = entry.1.max(w),
                    None => row.push((owner, w)),
                }
            }
            limit.limit_row(row)
        })
        .collect();
    SkinWeights::from_rows(rows)
}

#[cfg(test)]
mod tests;
