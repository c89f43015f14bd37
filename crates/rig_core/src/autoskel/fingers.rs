//! Fingers of the biped template, where the mesh has them apart: the hand is voxelised
//! finely on its own, cut across its length from the wrist to the arm's outer end, and the
//! cross-sections that split into four or five pieces give one finger each, followed out to
//! its tip. A hand whose fingers are one mass (a mitten, a fist, a glove) gets none, or on
//! request one chain named as the middle finger, so every naming preset maps it ([`mitten`]).

use nalgebra::Vector3;

use super::biped::{along, Frame};
use super::slices::{Layer, Piece};
use crate::autoskin::voxel::VoxelGrid;
use crate::mesh::Mesh;

/// One finger: its digit's name in the Unreal scheme and three joints, knuckle first.
#[derive(Debug, Clone)]
pub struct Finger {
    pub digit: &'static str,
    pub joints: [Vector3<f32>; 3],
}

/// Voxels along the hand's length (wrist to tip) in the fine grid.
const VOXELS_PER_HAND: f32 = 80.0;
/// Part of the mesh taken as the hand: within this many hand lengths of its axis.
const HAND_RADIUS: f32 = 0.6;
/// Fewer separate pieces than this across the hand: no fingers to rig.
const MIN_FINGERS: usize = 4;
/// A piece smaller than this share of the largest in its cross-section is a stray fold.
const MIN_PIECE_SHARE: f32 = 0.15;
/// The knuckle lies behind the point where a finger separates by this share of its free length.
const WEB_DEPTH: f32 = 0.35;

/// The fingers of the hand that runs from `wrist` to `tip` (the arm's outer end), or none
/// when the mesh does not show them apart.
pub fn fingers(mesh: &Mesh, f: &Frame, wrist: Vector3<f32>, tip: Vector3<f32>) -> Vec<Finger> {
    let along_hand = tip - wrist;
    let length = along_hand.norm();
    if length <= f32::EPSILON {
        return Vec::new();
    }
    let dir = along_hand / length;
    let Some(grid) = hand_grid(mesh, wrist, dir, length) else { return Vec::new() };
    let axis = (0..3).max_by(|&a, &b| dir[a].abs().total_cmp(&dir[b].abs())).unwrap_or(0);
    let outward = dir[axis].signum();
    let near_axis = |p: &Vector3<f32>| {
        let v = p - wrist;
        (v - dir * v.dot(&dir)).norm() <= HAND_RADIUS * length
    };
    let layers: Vec<Layer> = ordered(grid.dims[axis], outward).map(|i| Layer::new(&grid, axis, i)).collect();
    let pieces_of = |layer: &Layer| -> Vec<usize> {
        let largest = layer.pieces.iter().map(|p| p.cells.len()).max().unwrap_or(0) as f32;
        (0..layer.pieces.len())
            .filter(|&k| {
                let p = &layer.pieces[k];
                p.cells.len() as f32 >= MIN_PIECE_SHARE * largest && p.cells.len() >= 2 && near_axis(&p.centroid)
            })
            .collect()
    };
    let counts: Vec<usize> = layers.iter().map(|l| pieces_of(l).len()).collect();
    let best = counts.iter().copied().max().unwrap_or(0);
    if !(MIN_FINGERS..=5).contains(&best) {
        return Vec::new();
    }
    let split = counts.iter().position(|&c| c == best).unwrap_or(0);
    let tracks: Vec<Vec<Vector3<f32>>> =
        pieces_of(&layers[split]).into_iter().map(|k| follow_out(&layers[split..], &layers[split].pieces[k])).collect();
    let thumb =
        (best == MIN_FINGERS).then(|| thumb_before(&layers, &counts[..split], &pieces_of, &|p| (p - wrist).cross(&dir).norm())).flatten();
    name_fingers(f, dir, tracks, thumb)
}

/// One chain for a hand whose fingers are not apart: three joints from the middle of the hand
/// (where the knuckles of a flat hand lie) towards its outer end, named as the middle finger.
pub fn mitten(wrist: Vector3<f32>, tip: Vector3<f32>) -> Finger {
    Finger { digit: "middle", joints: MITTEN_AT.map(|t| wrist + (tip - wrist) * t) }
}

/// Where the mitten chain's joints lie, as shares of the way from the wrist to the hand's end.
const MITTEN_AT: [f32; 3] = [0.45, 0.65, 0.85];

/// A thumb that parts from the palm nearer the wrist than the fingers do and ends before
/// they part: the longest run of cross-sections (before the fingers') cut in two or more,
/// its piece furthest from the hand's axis (`off_axis`) followed out to its tip.
fn thumb_before(
    layers: &[Layer],
    counts: &[usize],
    pieces_of: &dyn Fn(&Layer) -> Vec<usize>,
    off_axis: &dyn Fn(&Vector3<f32>) -> f32,
) -> Option<Vec<Vector3<f32>>> {
    let (mut best, mut run) = (None::<(usize, usize)>, None::<usize>);
    for (i, &c) in counts.iter().enumerate().chain(std::iter::once((counts.len(), &0))) {
        match (c >= 2, run) {
            (true, None) => run = Some(i),
            (false, Some(start)) => {
                if best.is_none_or(|(s, e)| e - s < i - start) {
                    best = Some((start, i));
                }
                run = None;
            }
            _ => {}
        }
    }
    let (start, end) = best?;
    if end - start < MIN_THUMB_LAYERS {
        return None;
    }
    let first = &layers[start];
    let k = pieces_of(first)
        .into_iter()
        .max_by(|&a, &b| off_axis(&first.pieces[a].centroid).total_cmp(&off_axis(&first.pieces[b].centroid)))?;
    Some(follow_out(&layers[start..], &first.pieces[k]))
}

/// A thumb is apart from the palm over at least this many cross-sections of the fine grid.
const MIN_THUMB_LAYERS: usize = 6;

/// Layer indices along an axis of `n` layers, the `sign` < 0 end first reversed: from the
/// wrist side towards the tip.
fn ordered(n: usize, sign: f32) -> Box<dyn Iterator<Item = usize>> {
    if sign >= 0.0 {
        Box::new(0..n)
    } else {
        Box::new((0..n).rev())
    }
}

/// The hand's part of the mesh voxelised finely: triangles with a corner within the hand's
/// reach of the wrist-to-tip axis (from a little before the wrist to a little past the tip).
fn hand_grid(mesh: &Mesh, wrist: Vector3<f32>, dir: Vector3<f32>, length: f32) -> Option<VoxelGrid> {
    let in_hand = |p: &[f32; 3]| {
        let v = Vector3::from(*p) - wrist;
        let t = v.dot(&dir);
        (-0.05 * length..=1.3 * length).contains(&t) && (v - dir * t).norm() <= HAND_RADIUS * length
    };
    let mut remap = vec![u32::MAX; mesh.positions.len()];
    let mut positions: Vec<[f32; 3]> = Vec::new();
    let mut triangles: Vec<[u32; 3]> = Vec::new();
    for t in mesh.triangles.iter().filter(|t| t.iter().any(|&i| in_hand(&mesh.positions[i as usize]))) {
        let mut local = [0u32; 3];
        for (k, &i) in t.iter().enumerate() {
            if remap[i as usize] == u32::MAX {
                remap[i as usize] = positions.len() as u32;
                positions.push(mesh.positions[i as usize]);
            }
            local[k] = remap[i as usize];
        }
        triangles.push(local);
    }
    if triangles.is_empty() {
        return None;
    }
    let (lo, hi) = positions.iter().fold(([f32::MAX; 3], [f32::MIN; 3]), |(lo, hi), p| {
        (std::array::from_fn(|k| lo[k].min(p[k])), std::array::from_fn(|k| hi[k].max(p[k])))
    });
    let longest = (0..3).map(|k| hi[k] - lo[k]).fold(0.0, f32::max);
    let resolution = ((longest / length) * VOXELS_PER_HAND).ceil().clamp(8.0, 256.0) as usize;
    Some(VoxelGrid::from_mesh(&positions, &triangles, resolution))
}

/// A finger's centroids from its piece in the first of `layers` outwards, until it ends or
/// runs into another piece.
fn follow_out(layers: &[Layer], start: &Piece) -> Vec<Vector3<f32>> {
    let mut track = vec![start.centroid];
    let mut current = start.clone();
    for layer in &layers[1..] {
        let Some(k) = layer.follow(&current) else { break };
        let next = &layer.pieces[k];
        // Grown much bigger: this finger ran into a neighbour or the other hand's prop.
        if next.cells.len() > 3 * current.cells.len().max(4) {
            break;
        }
        track.push(next.centroid);
        current = next.clone();
    }
    track
}

/// The digits named across the hand: the thumb is the piece furthest to the front (or up,
/// for a hand whose fingers stack vertically) when there are five, then index to pinky.
fn name_fingers(f: &Frame, dir: Vector3<f32>, tracks: Vec<Vec<Vector3<f32>>>, thumb: Option<Vec<Vector3<f32>>>) -> Vec<Finger> {
    let starts: Vec<Vector3<f32>> = tracks.iter().map(|t| t[0]).collect();
    let mut front = Vector3::zeros();
    front[f.front] = f.front_sign;
    let mut up = Vector3::zeros();
    up[f.up] = f.up_sign;
    // Across the hand: the side direction (front or up, made square to the hand) along which
    // the fingers spread most.
    let spread = |a: Vector3<f32>| {
        let a = (a - dir * a.dot(&dir)).try_normalize(1e-6).unwrap_or(a);
        let values: Vec<f32> = starts.iter().map(|p| p.dot(&a)).collect();
        let (lo, hi) = values.iter().fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
        (hi - lo, a)
    };
    let (sf, across_front) = spread(front);
    let (su, across_up) = spread(up);
    let across = if sf >= su { across_front } else { across_up };
    let mut order: Vec<usize> = (0..tracks.len()).collect();
    order.sort_by(|&a, &b| starts[b].dot(&across).total_cmp(&starts[a].dot(&across)));
    let digits: &[&str] =
        if tracks.len() == 5 { &["thumb", "index", "middle", "ring", "pinky"] } else { &["index", "middle", "ring", "pinky"] };
    let mut out: Vec<Finger> = thumb.map(|t| finger("thumb", &t, dir)).into_iter().collect();
    out.extend(order.into_iter().zip(digits).map(|(k, &digit)| finger(digit, &tracks[k], dir)));
    out
}

/// Three joints along a finger whose free part (from where it parts) is `track`.
fn finger(digit: &'static str, track: &[Vector3<f32>], dir: Vector3<f32>) -> Finger {
    let free = super::biped::length(track);
    let knuckle = track[0] - dir * (WEB_DEPTH * free);
    let mut chain = vec![knuckle];
    chain.extend_from_slice(track);
    Finger { digit, joints: [knuckle, along(&chain, 0.45), along(&chain, 0.75)] }
}
