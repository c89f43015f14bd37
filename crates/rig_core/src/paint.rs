//! Weight painting: brushes that change one joint's weights near a point of the mesh while
//! keeping every touched vertex normalised. Locked joints keep their weights; the weight a
//! brush adds or removes is taken from or given to the vertex's other unlocked influences.

use crate::mesh::Mesh;
use crate::weights::SkinWeights;

/// What a brush stroke does to the painted joint's weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrushMode {
    /// Towards 1.
    Add,
    /// Towards 0.
    Subtract,
    /// Towards the average of the neighbouring vertices.
    Smooth,
    /// Rescale each touched vertex's unlocked weights so the row sums to 1.
    Normalize,
}

/// A brush: mode, radius (mesh units) and strength (0..=1 per dab at the centre).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Brush {
    pub mode: BrushMode,
    pub radius: f32,
    pub strength: f32,
}

/// Why a dab was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PaintError {
    #[error("joint {0} is locked: unlock it to paint it")]
    Locked(String),
    #[error("joint {0} does not exist")]
    NoSuchJoint(u32),
}

/// Vertex neighbours through the triangles (for the smooth brush).
pub fn neighbours(mesh: &Mesh) -> Vec<Vec<u32>> {
    let mut adj = vec![Vec::new(); mesh.vertex_count()];
    for t in &mesh.triangles {
        for k in 0..3 {
            let (a, b) = (t[k] as usize, t[(k + 1) % 3]);
            if a < adj.len() && (b as usize) < adj.len() {
                if !adj[a].contains(&b) {
                    adj[a].push(b);
                }
                if !adj[b as usize].contains(&t[k]) {
                    adj[b as usize].push(t[k]);
                }
            }
        }
    }
    adj
}

/// One dab of `brush` on `joint` centred at `centre` (mesh space). `locked[j]` keeps joint j's
/// weights; `neighbours` comes from [`neighbours`]. Returns how many vertices changed.
#[allow(clippy::too_many_arguments)]
pub fn dab(
    weights: &mut SkinWeights,
    mesh: &Mesh,
    neighbours: &[Vec<u32>],
    joint: u32,
    joint_name: &str,
    centre: [f32; 3],
    brush: &Brush,
    locked: &[bool],
) -> Result<usize, PaintError> {
    if locked.get(joint as usize).copied().unwrap_or(false) {
        return Err(PaintError::Locked(joint_name.to_string()));
    }
    if joint as usize >= locked.len() {
        return Err(PaintError::NoSuchJoint(joint));
    }
    let is_locked = |j: u32| locked.get(j as usize).copied().unwrap_or(false);
    let mut rows: Vec<Vec<(u32, f32)>> = (0..weights.vertex_count()).map(|v| weights.row_pairs(v)).collect();
    let r2 = brush.radius * brush.radius;
    let mut changed = 0;
    let before = rows.clone();
    for (v, p) in mesh.positions.iter().enumerate().take(rows.len()) {
        let d2: f32 = (0..3).map(|k| (p[k] - centre[k]).powi(2)).sum();
        if d2 > r2 {
            continue;
        }
        let falloff = (1.0 - d2.sqrt() / brush.radius.max(1e-12)).powi(2) * brush.strength.clamp(0.0, 1.0);
        let current = weight_in(&before[v], joint);
        let target = match brush.mode {
            BrushMode::Add => current + falloff * (1.0 - current),
            BrushMode::Subtract => current - falloff * current,
            BrushMode::Smooth => {
                let n = &neighbours[v];
                if n.is_empty() {
                    current
                } else {
                    let avg = n.iter().map(|&u| weight_in(&before[u as usize], joint)).sum::<f32>() / n.len() as f32;
                    current + falloff * (avg - current)
                }
            }
            BrushMode::Normalize => {
                if normalize_unlocked(&mut rows[v], &is_locked) {
                    changed += 1;
                }
                continue;
            }
        };
        let donors = neighbour_mix(&before, &neighbours[v], joint, &is_locked);
        if set_weight(&mut rows[v], joint, target, &donors, &is_locked) {
            changed += 1;
        }
    }
    *weights = SkinWeights::from_rows(rows);
    Ok(changed)
}

fn weight_in(row: &[(u32, f32)], joint: u32) -> f32 {
    row.iter().filter(|e| e.0 == joint).map(|e| e.1).sum()
}

/// The other unlocked joints of the neighbouring vertices, with their average share (summing
/// to 1): where a vertex's weight goes when the painted joint was its only influence.
fn neighbour_mix(rows: &[Vec<(u32, f32)>], neighbours: &[u32], joint: u32, is_locked: &dyn Fn(u32) -> bool) -> Vec<(u32, f32)> {
    let mut mix: Vec<(u32, f32)> = Vec::new();
    for &u in neighbours {
        for &(j, w) in rows[u as usize].iter().filter(|e| e.0 != joint && !is_locked(e.0)) {
            match mix.iter_mut().find(|e| e.0 == j) {
                Some(e) => e.1 += w,
                None => mix.push((j, w)),
            }
        }
    }
    let total: f32 = mix.iter().map(|e| e.1).sum();
    mix.iter_mut().for_each(|e| e.1 /= total.max(1e-12));
    mix
}

/// Sets `joint`'s weight in `row` to `target` (clamped to what the locked joints leave) and
/// scales the other unlocked influences so the row sums to 1. When the joint was the only
/// unlocked influence, the weight it gives up goes to `donors` (the neighbours' joints); with
/// no donors it cannot lose weight. Returns whether the row changed.
fn set_weight(row: &mut Vec<(u32, f32)>, joint: u32, target: f32, donors: &[(u32, f32)], is_locked: &dyn Fn(u32) -> bool) -> bool {
    let locked_sum: f32 = row.iter().filter(|e| e.0 != joint && is_locked(e.0)).map(|e| e.1).sum();
    let free = (1.0 - locked_sum).max(0.0);
    let others: f32 = row.iter().filter(|e| e.0 != joint && !is_locked(e.0)).map(|e| e.1).sum();
    let mut target = target.clamp(0.0, free);
    let present = row.iter().any(|e| e.0 == joint);
    if others <= 1e-9 && donors.is_empty() && (target > 1e-6 || present) {
        // The joint is (or becomes) the only unlocked influence: it holds the whole free share.
        target = free;
    }
    let old = weight_in(row, joint);
    if (old - target).abs() < 1e-7 {
        return false;
    }
    row.retain(|e| e.0 != joint);
    if others > 1e-9 {
        let scale = (free - target) / others;
        row.iter_mut().filter(|e| !is_locked(e.0)).for_each(|e| e.1 *= scale);
    } else {
        for &(j, share) in donors {
            row.push((j, (free - target) * share));
        }
    }
    if target > 1e-6 {
        row.push((joint, target));
    }
    row.retain(|e| e.1 > 1e-6);
    true
}

/// Rescales the unlocked weights so the row sums to 1. Returns whether it changed.
fn normalize_unlocked(row: &mut [(u32, f32)], is_locked: &dyn Fn(u32) -> bool) -> bool {
    let total: f32 = row.iter().map(|e| e.1).sum();
    let locked: f32 = row.iter().filter(|e| is_locked(e.0)).map(|e| e.1).sum();
    let free = total - locked;
    if row.is_empty() || (total - 1.0).abs() < 1e-6 || free <= 1e-9 {
        return false;
    }
    let scale = (1.0 - locked).max(0.0) / free;
    row.iter_mut().filter(|e| !is_locked(e.0)).for_each(|e| e.1 *= scale);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::{MeshGroup, Part};

    /// A strip of 11 vertices along x (0..10), triangles between consecutive ones and a lifted copy.
    fn strip() -> (Mesh, SkinWeights) {
        let mut positions = Vec::new();
        for i in 0..11 {
            positions.push([i as f32, 0.0, 0.0]);
        }
        for i in 0..11 {
            positions.push([i as f32, 1.0, 0.0]);
        }
        let triangles: Vec<[u32; 3]> = (0..10).flat_map(|i| [[i, i + 1, i + 11], [i + 1, i + 12, i + 11]]).collect();
        let part =
            Part { name: "s".into(), group: 0, material: None, vertices: 0..22, triangles: 0..20, skinned: true, morph_targets: vec![] };
        let mesh = Mesh { positions, triangles, parts: vec![part], groups: vec![MeshGroup::default()], ..Default::default() };
        // Joint 0 on the left half, joint 1 on the right half, joint 2 a little everywhere.
        let rows = (0..22).map(|v| {
            let x = (v % 11) as f32 / 10.0;
            vec![(0, 0.8 * (1.0 - x)), (1, 0.8 * x), (2, 0.2)]
        });
        (mesh, SkinWeights::from_rows(rows.collect::<Vec<_>>()))
    }

    fn sums_are_one(w: &SkinWeights) -> bool {
        w.sums().iter().all(|s| (s - 1.0).abs() < 1e-5)
    }

    #[test]
    fn add_raises_the_joint_near_the_centre_only_and_keeps_rows_normalised() {
        let (mesh, mut w) = strip();
        let before = w.clone();
        let n = neighbours(&mesh);
        let brush = Brush { mode: BrushMode::Add, radius: 2.5, strength: 0.5 };
        let changed = dab(&mut w, &mesh, &n, 1, "b", [2.0, 0.0, 0.0], &brush, &[false; 3]).unwrap();
        assert!(changed > 0);
        assert!(w.weight(2, 1) > before.weight(2, 1) + 0.1, "centre rises");
        assert_eq!(w.weight(8, 1), before.weight(8, 1), "outside the radius nothing changes");
        assert!(sums_are_one(&w));
    }

    #[test]
    fn locked_joints_keep_their_weights_and_cannot_be_painted() {
        let (mesh, mut w) = strip();
        let before = w.clone();
        let n = neighbours(&mesh);
        let brush = Brush { mode: BrushMode::Add, radius: 3.0, strength: 1.0 };
        let locked = [false, false, true];
        dab(&mut w, &mesh, &n, 1, "b", [1.0, 0.0, 0.0], &brush, &locked).unwrap();
        for v in 0..22 {
            assert!((w.weight(v, 2) - before.weight(v, 2)).abs() < 1e-6, "vertex {v}: locked joint changed");
        }
        assert!(sums_are_one(&w));
        assert_eq!(dab(&mut w, &mesh, &n, 2, "c", [1.0, 0.0, 0.0], &brush, &locked), Err(PaintError::Locked("c".into())));
    }

    #[test]
    fn subtract_lowers_and_smooth_evens_out() {
        let (mesh, mut w) = strip();
        let before = w.clone();
        let n = neighbours(&mesh);
        let sub = Brush { mode: BrushMode::Subtract, radius: 2.0, strength: 1.0 };
        dab(&mut w, &mesh, &n, 0, "a", [0.0, 0.0, 0.0], &sub, &[false; 3]).unwrap();
        assert!(w.weight(0, 0) < 0.1 * before.weight(0, 0));
        assert!(sums_are_one(&w));
        // A spike on vertex 5 (and 16 above it) is flattened by smoothing.
        let mut spiked = before.clone();
        let add = Brush { mode: BrushMode::Add, radius: 0.5, strength: 1.0 };
        dab(&mut spiked, &mesh, &n, 0, "a", [5.0, 0.0, 0.0], &add, &[false; 3]).unwrap();
        let spike = spiked.weight(5, 0);
        let smooth = Brush { mode: BrushMode::Smooth, radius: 0.5, strength: 1.0 };
        dab(&mut spiked, &mesh, &n, 0, "a", [5.0, 0.0, 0.0], &smooth, &[false; 3]).unwrap();
        assert!(spiked.weight(5, 0) < spike - 0.2, "{} vs {spike}", spiked.weight(5, 0));
        assert!(sums_are_one(&spiked));
    }

    #[test]
    fn normalize_fixes_rows_that_do_not_sum_to_one() {
        let (mesh, _) = strip();
        let mut w = SkinWeights::from_rows((0..22).map(|_| vec![(0u32, 0.3f32), (1, 0.3)]).collect::<Vec<_>>());
        let n = neighbours(&mesh);
        let brush = Brush { mode: BrushMode::Normalize, radius: 100.0, strength: 1.0 };
        assert_eq!(dab(&mut w, &mesh, &n, 0, "a", [0.0; 3], &brush, &[false; 3]).unwrap(), 22);
        assert!(sums_are_one(&w));
    }
}
