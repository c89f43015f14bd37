//! The quadruped template, fitted to the voxelised solid: the four legs are followed from the
//! feet up to where they join the body (by cross-sections, as the biped's legs are); the spine
//! runs through the torso from above the back legs to above the front legs; neck and head, and
//! the tail where there is one, follow the centre of the solid from the body to its farthest
//! point ahead of the front legs and behind the back legs. Which end is the head is read from
//! the shape (more of the solid lies ahead of the front legs than behind the back legs), not
//! from the file's axes. Names follow the biped's scheme (`pelvis`, `spine_01`, `thigh_l`,
//! `upperarm_l` for the front legs, ...), with `tail_01`, `tail_02`, ... at the end.

use nalgebra::Vector3;

use super::biped::{along, layers_from, solid_top, Frame, MIN_FOOT_CELLS, MIN_LEG};
use super::slices::{Layer, Piece};
use super::JointTree;
use crate::autoskin::geodesic::{SolidGraph, UNREACHED};
use crate::autoskin::voxel::VoxelGrid;

/// Front and back legs closer than this share of the body's length (or than the two sides
/// are apart) are not two pairs.
const MIN_PAIR_GAP: f32 = 0.1;
/// A tail shorter than this many times the body's radius at the hips is a rump, not a tail.
const MIN_TAIL: f32 = 1.0;
/// Feet may start in the lowest this share of the solid's height.
const FEET_SHARE: f32 = 0.4;
/// Toes of one foot are closer together than this share of the solid's longest horizontal extent.
const TOE_SPREAD: f32 = 0.25;
/// Legs followed for fewer layers than this are still feet that may merge into one.
const YOUNG: usize = 4;
/// The head joint sits this far along the centre line from the base of the neck to the
/// farthest point of the head (the skull's base on the six animals of the evaluation set:
/// 0.5 -> CD-J2J 4.49, 0.65 -> 4.23, 0.8 -> 4.24), the second neck joint halfway to it.
const HEAD_AT: f32 = 0.65;
/// Tail joints are about this share of the body's length apart (the generic chains' spacing).
const TAIL_SPACING: f32 = 0.07;
/// Width of the distance bands whose centroids make the centre line of the neck and tail, in
/// tenths of a voxel.
const PATH_BAND: u32 = 20;
/// Most joints a tail gets.
const MAX_TAIL_JOINTS: usize = 6;

/// Joints before the tail, parents first: spine, neck and head, front legs, back legs.
const NAMES: [&str; 21] = [
    "pelvis",
    "spine_01",
    "spine_02",
    "spine_03",
    "neck_01",
    "neck_02",
    "head",
    "upperarm_l",
    "lowerarm_l",
    "hand_l",
    "upperarm_r",
    "lowerarm_r",
    "hand_r",
    "thigh_l",
    "calf_l",
    "foot_l",
    "ball_l",
    "thigh_r",
    "calf_r",
    "foot_r",
    "ball_r",
];

const PARENTS: [Option<usize>; 21] = [
    None,
    Some(0),
    Some(1),
    Some(2),
    Some(3),
    Some(4),
    Some(5),
    Some(3),
    Some(7),
    Some(8),
    Some(3),
    Some(10),
    Some(11),
    Some(0),
    Some(13),
    Some(14),
    Some(15),
    Some(0),
    Some(17),
    Some(18),
    Some(19),
];

/// A leg followed from the ground up: its centroid in each layer, lowest first.
struct Leg {
    track: Vec<Vector3<f32>>,
    /// Grid indices of the voxels of its cross-sections.
    cells: Vec<usize>,
}

impl Leg {
    fn top(&self) -> Vector3<f32> {
        self.track.last().copied().unwrap_or_default()
    }

    /// The track point nearest to `fraction` of the way from the leg's lowest to its top point.
    fn at(&self, f: &Frame, fraction: f32) -> Vector3<f32> {
        let (lo, hi) = (f.height(&self.track[0]), f.height(&self.top()));
        f.nearest_at_height(&self.track, lo + fraction * (hi - lo)).unwrap_or_default()
    }
}

/// The fitted template: joint positions and parents, and the joint names.
pub struct Fitted {
    pub tree: JointTree,
    pub names: Vec<String>,
}

/// Fits the quadruped template with `f` as the frame (its `up` is used; which horizontal end
/// is the head is found from the shape), or says why it does not fit.
pub fn fit(grid: &VoxelGrid, f: &Frame) -> Result<Fitted, String> {
    f.check_symmetric()?;
    let legs = find_legs(grid, f)?;
    let ground = legs.iter().map(|l| f.height(&l.track[0])).fold(f32::MAX, f32::min);
    let height = solid_top(grid, f) - ground;
    if legs.iter().any(|l| f.height(&l.top()) - f.height(&l.track[0]) < MIN_LEG * height) {
        return Err("the legs are too short".into());
    }
    let mut in_leg = vec![false; grid.solid.len()];
    legs.iter().flat_map(|l| &l.cells).for_each(|&c| in_leg[c] = true);
    let not_leg = |p: &Vector3<f32>| !grid.contains(p) || !in_leg[grid.index(grid.cell_of(p))];
    let body = Body::of(grid, f, &legs, &not_leg)?;
    let beyond = |p: &Vector3<f32>, from: &Vector3<f32>, dir: f32| (p[f.front] - from[f.front]) * dir > 0.0;

    let belly = |pair: &[&Leg; 2]| f.height(&pair[0].top()).min(f.height(&pair[1].top()));
    let torso = |p: Vector3<f32>, top: f32| torso_centre(grid, f, p, top, body.half_width);
    let pelvis = torso(mid_top(&body.back), belly(&body.back));
    let chest = torso(mid_top(&body.front), belly(&body.front));
    let spine_top = belly(&body.front).min(belly(&body.back));
    let spine = [1.0 / 3.0, 2.0 / 3.0].map(|t| torso(pelvis.lerp(&chest, t), spine_top));

    let graph = SolidGraph::new(grid);
    let depth = super::surface_depth(grid, &graph);
    let head = end_path(grid, &graph, &depth, chest, |p| beyond(p, &chest, body.dir) && not_leg(p))
        .ok_or("no head or neck ahead of the front legs")?;
    let neck = &head.beyond_body;
    let mut positions = vec![pelvis, spine[0], spine[1], chest, along(neck, 0.0), along(neck, 0.5 * HEAD_AT), along(neck, HEAD_AT)];
    for leg in body.front {
        let shoulder = f.at_height(leg.top(), 0.5 * (f.height(&leg.top()) + f.height(&chest)));
        positions.extend([shoulder, leg.at(f, 0.5), leg.at(f, 0.15)]);
    }
    for leg in body.back {
        let hip = f.at_height(leg.top(), 0.5 * (f.height(&leg.top()) + f.height(&pelvis)));
        positions.extend([hip, leg.at(f, 0.6), leg.at(f, 0.3), leg.at(f, 0.03)]);
    }
    let mut tree = JointTree { positions, parents: PARENTS.to_vec() };
    let mut names: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    let tail = end_path(grid, &graph, &depth, pelvis, |p| beyond(p, &pelvis, -body.dir) && not_leg(p));
    if let Some(tail) = tail.filter(|t| t.length >= MIN_TAIL * t.body_radius) {
        let count = ((tail.length / (TAIL_SPACING * body.length)).round() as usize).clamp(1, MAX_TAIL_JOINTS);
        for k in 0..count {
            tree.parents.push(Some(if k == 0 { 0 } else { tree.positions.len() - 1 }));
            tree.positions.push(along(&tail.beyond_body, k as f32 / count as f32));
            names.push(format!("tail_{:02}", k + 1));
        }
    }
    Ok(Fitted { tree, names })
}

/// Midpoint of the tops of a pair of legs.
fn mid_top(pair: &[&Leg; 2]) -> Vector3<f32> {
    0.5 * (pair[0].top() + pair[1].top())
}

/// The legs sorted into front and back pairs, each left then right.
struct Body<'a> {
    front: [&'a Leg; 2],
    back: [&'a Leg; 2],
    /// +1 when the head is towards +front, else -1.
    dir: f32,
    /// Extent of the solid along the front axis.
    length: f32,
    /// How far from the symmetry plane the torso's cross-sections reach: the legs' spacing.
    half_width: f32,
}

impl<'a> Body<'a> {
    /// `legs` as `find_legs` orders them. The head is at the end with more of the solid (not
    /// counting the legs) beyond its pair of legs: the head and neck outweigh a tail.
    fn of(grid: &VoxelGrid, f: &Frame, legs: &'a [Leg], not_leg: &dyn Fn(&Vector3<f32>) -> bool) -> Result<Body<'a>, String> {
        let (mut front, mut back) = ([&legs[1], &legs[3]], [&legs[0], &legs[2]]);
        let length = solid_extent(grid, f.front);
        let spacing = |pair: &[&Leg; 2]| (pair[0].top() - pair[1].top())[f.lateral].abs();
        let lateral = 0.5 * (spacing(&front) + spacing(&back));
        let gap = mid_top(&front)[f.front] - mid_top(&back)[f.front];
        if gap.abs() < (0.5 * lateral).max(MIN_PAIR_GAP * length) {
            return Err("the front and back legs are too close together for a four-legged body".into());
        }
        let (fm, bm) = (mid_top(&front)[f.front], mid_top(&back)[f.front]);
        let ahead = count_solid(grid, |p| p[f.front] > fm && not_leg(p));
        let behind = count_solid(grid, |p| p[f.front] < bm && not_leg(p));
        if behind > ahead {
            std::mem::swap(&mut front, &mut back);
        }
        let dir = (mid_top(&front)[f.front] - mid_top(&back)[f.front]).signum();
        // The character's left, facing `dir` along the front axis.
        let (mut up, mut facing) = (Vector3::zeros(), Vector3::zeros());
        up[f.up] = f.up_sign;
        facing[f.front] = dir;
        let left_sign = up.cross(&facing)[f.lateral].signum();
        for pair in [&mut front, &mut back] {
            if (pair[1].top()[f.lateral] - f.centre) * left_sign > 0.0 {
                pair.swap(0, 1);
            }
        }
        Ok(Body { front, back, dir, length, half_width: lateral })
    }
}

/// A leg being followed up through the layers.
struct Tracking {
    track: Vec<Vector3<f32>>,
    cells: Vec<usize>,
    /// Its cross-section in the last layer; `None` once it has joined the body.
    piece: Option<Piece>,
}

/// The four legs: left ones then right ones, each pair ordered towards +front. Feet need not
/// touch the same ground layer (a raised paw): a new foot may start in any layer of the lowest
/// `FEET_SHARE` of the solid. Pieces that start a few layers apart and merge soon after are
/// one foot (heel and toe, split hooves).
fn find_legs(grid: &VoxelGrid, f: &Frame) -> Result<Vec<Leg>, String> {
    let order = layers_from(grid, f.up, f.up_sign);
    let first = order.iter().position(|&i| !Layer::new(grid, f.up, i).pieces.is_empty()).ok_or("the mesh has no volume")?;
    let last_solid = order.iter().rposition(|&i| !Layer::new(grid, f.up, i).pieces.is_empty()).unwrap_or(first);
    let feet_until = first + ((last_solid - first) as f32 * FEET_SHARE) as usize;
    let toe_spread = TOE_SPREAD * solid_extent(grid, f.front).max(solid_extent(grid, f.lateral));
    let mut legs: Vec<Tracking> = Vec::new();
    for (k, &i) in order.iter().enumerate().skip(first) {
        let layer = Layer::new(grid, f.up, i);
        let mut follow: Vec<Option<usize>> = legs.iter().map(|l| l.piece.as_ref().and_then(|p| layer.follow(p))).collect();
        if k <= feet_until {
            (legs, follow) = merge_toes(grid, f, toe_spread, legs, follow, &layer.pieces);
        }
        let drop = merged_or_stray(&legs, &follow)?;
        let follow: Vec<Option<usize>> = follow.iter().zip(&drop).map(|(f, d)| if *d { None } else { *f }).collect();
        let mut kept = Vec::new();
        for (leg, (mut l, next)) in legs.drain(..).zip(follow.iter().copied()).enumerate() {
            if drop[leg] {
                continue;
            }
            if let (Some(prev), Some(next)) = (l.piece.take(), next) {
                let shared = follow.iter().enumerate().any(|(o, fo)| o != leg && *fo == Some(next));
                if !shared && !grows_into_body(grid, f, &prev, &layer.pieces[next]) {
                    l.track.push(layer.pieces[next].centroid);
                    l.cells.extend(layer.pieces[next].cells.iter().map(|c| grid.index(*c)));
                    l.piece = Some(layer.pieces[next].clone());
                }
            }
            kept.push(l);
        }
        legs = kept;
        if k <= feet_until {
            legs.extend(new_feet(grid, f, &layer.pieces, &follow).into_iter().map(|p| Tracking {
                track: vec![p.centroid],
                cells: p.cells.iter().map(|c| grid.index(*c)).collect(),
                piece: Some(p),
            }));
        }
        if k > feet_until && legs.iter().all(|l| l.piece.is_none()) {
            break;
        }
    }
    order_legs(f, legs)
}

/// Legs followed for `YOUNG` layers or more that reach the same piece on one side of the
/// symmetry plane, low down and close together, are the toes or claws of one foot: they become
/// one leg whose track is the mean of theirs, layer by layer (a body's cross-section spans both
/// sides), and which goes on into that piece. `spread`: how far apart toes may be.
fn merge_toes(
    grid: &VoxelGrid,
    f: &Frame,
    spread: f32,
    legs: Vec<Tracking>,
    follow: Vec<Option<usize>>,
    pieces: &[Piece],
) -> (Vec<Tracking>, Vec<Option<usize>>) {
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (l, next) in follow.iter().enumerate() {
        match next {
            Some(next) if legs[l].track.len() >= YOUNG && legs[l].piece.is_some() => groups.entry(*next).or_default().push(l),
            _ => {}
        }
    }
    groups.retain(|&next, g| {
        let tops: Vec<Vector3<f32>> = g.iter().filter_map(|&l| legs[l].track.last().copied()).collect();
        g.len() > 1 && !pieces[next].crosses(grid, f.lateral, f.centre) && close_together(f, &tops, spread)
    });
    if groups.is_empty() {
        return (legs, follow);
    }
    let mut slots: Vec<Option<Tracking>> = legs.into_iter().map(Some).collect();
    let mut merged = Vec::new();
    for (&next, group) in &groups {
        let toes: Vec<Tracking> = group.iter().filter_map(|&l| slots[l].take()).collect();
        merged.push((toes_as_one(toes, &pieces[next]), Some(next)));
    }
    let rest = slots.into_iter().zip(follow).filter_map(|(l, next)| l.map(|l| (l, next)));
    rest.chain(merged).unzip()
}

/// Whether the points are nearer each other (across the up axis) than `spread`: the toes of one
/// foot, not a front and a back leg.
fn close_together(f: &Frame, points: &[Vector3<f32>], spread: f32) -> bool {
    points.iter().all(|a| {
        points.iter().all(|b| {
            let mut d = a - b;
            d[f.up] = 0.0;
            d.norm() < spread
        })
    })
}

/// One leg from several toes that end in the same layer: the mean of their tracks, aligned at
/// the top, over the layers where any of them was followed. Its last cross-section is taken to
/// be `foot`, the piece they all reach next: bigger than any toe, but not the body.
fn toes_as_one(toes: Vec<Tracking>, foot: &Piece) -> Tracking {
    let longest = toes.iter().map(|t| t.track.len()).max().unwrap_or(0);
    let track = (0..longest)
        .map(|from_top| {
            let points: Vec<Vector3<f32>> =
                toes.iter().filter(|t| t.track.len() > from_top).map(|t| t.track[t.track.len() - 1 - from_top]).collect();
            points.iter().sum::<Vector3<f32>>() / points.len() as f32
        })
        .rev()
        .collect();
    Tracking { track, cells: toes.into_iter().flat_map(|t| t.cells).collect(), piece: Some(foot.clone()) }
}

/// Which legs stop being followed at this layer (`follow`: the piece each reaches in it): a
/// young leg (followed for fewer than `YOUNG` layers) whose piece vanished is a stray bit of
/// the lowest layers; legs reaching the same piece are one foot when all are young (the
/// longest followed is kept), and young ones fold into an old one (two or more old ones have
/// joined the body, which the caller sees). An old leg whose piece vanished is an error.
fn merged_or_stray(legs: &[Tracking], follow: &[Option<usize>]) -> Result<Vec<bool>, String> {
    let mut drop = vec![false; legs.len()];
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for leg in (0..legs.len()).filter(|&l| legs[l].piece.is_some()) {
        match follow[leg] {
            Some(next) => groups.entry(next).or_default().push(leg),
            None if legs[leg].track.len() >= YOUNG => return Err("a leg ends before it joins the body".into()),
            None => drop[leg] = true,
        }
    }
    for group in groups.values().filter(|g| g.len() > 1) {
        let old = group.iter().filter(|&&l| legs[l].track.len() >= YOUNG).count();
        let keep = group.iter().copied().max_by_key(|&l| (legs[l].track.len(), std::cmp::Reverse(l)));
        for &l in group {
            drop[l] = if old == 0 { Some(l) != keep } else { legs[l].track.len() < YOUNG };
        }
    }
    Ok(drop)
}

/// Pieces of this layer that no leg reached and that could be feet: big enough next to the
/// other pieces (or the legs already followed) and on one side of the symmetry plane.
fn new_feet(grid: &VoxelGrid, f: &Frame, pieces: &[Piece], followed: &[Option<usize>]) -> Vec<Piece> {
    let reached: Vec<usize> = followed.iter().flatten().copied().collect();
    let reference = if reached.is_empty() {
        pieces.iter().map(|p| p.cells.len()).max().unwrap_or(0)
    } else {
        reached.iter().map(|&i| pieces[i].cells.len()).sum::<usize>() / reached.len()
    };
    pieces
        .iter()
        .enumerate()
        .filter(|(i, p)| !reached.contains(i) && p.cells.len() >= MIN_FOOT_CELLS && p.cells.len() * 5 >= reference)
        .filter(|(_, p)| !p.crosses(grid, f.lateral, f.centre)) // across the middle: a tail or a chin
        .map(|(_, p)| p.clone())
        .collect()
}

/// Exactly two legs on each side of the symmetry plane: left pair then right pair, each
/// ordered towards +front; or why not.
fn order_legs(f: &Frame, legs: Vec<Tracking>) -> Result<Vec<Leg>, String> {
    if legs.iter().any(|l| l.piece.is_some()) {
        return Err("the legs never join the body".into());
    }
    let (mut left, mut right): (Vec<Leg>, Vec<Leg>) = legs
        .into_iter()
        .map(|l| Leg { track: l.track, cells: l.cells })
        .partition(|l| (l.track[0][f.lateral] - f.centre) * f.left_sign > 0.0);
    if left.len() != 2 || right.len() != 2 {
        return Err(format!("not four separate feet near the ground ({} on the left, {} on the right)", left.len(), right.len()));
    }
    for side in [&mut left, &mut right] {
        side.sort_by(|a, b| a.track[0][f.front].total_cmp(&b.track[0][f.front]));
    }
    Ok(left.into_iter().chain(right).collect())
}

/// Whether a leg's cross-section `next`, one layer above `prev`, is no longer the leg but the
/// body it joins: three times the area, or its centroid moved sideways by more than three voxels.
fn grows_into_body(grid: &VoxelGrid, f: &Frame, prev: &Piece, next: &Piece) -> bool {
    let mut shift = next.centroid - prev.centroid;
    shift[f.up] = 0.0;
    next.cells.len() > 3 * prev.cells.len().max(MIN_FOOT_CELLS) || shift.norm() > 3.0 * grid.size
}

/// Extent of the solid along `axis`.
fn solid_extent(grid: &VoxelGrid, axis: usize) -> f32 {
    let (lo, hi) = grid
        .solid
        .iter()
        .enumerate()
        .filter(|(_, s)| **s)
        .map(|(i, _)| grid.center(grid.coords(i))[axis])
        .fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    (hi - lo).max(0.0) + grid.size
}

/// Solid voxels whose centre satisfies `keep`.
fn count_solid(grid: &VoxelGrid, keep: impl Fn(&Vector3<f32>) -> bool) -> usize {
    grid.solid.iter().enumerate().filter(|(i, s)| **s && keep(&grid.center(grid.coords(*i)))).count()
}

/// Centroid of the torso's cross-section across the front axis at `p`: the solid at or above
/// height `top` (above the legs) within `half_width` of the symmetry plane. `p` raised into the
/// torso when that cross-section is empty.
fn torso_centre(grid: &VoxelGrid, f: &Frame, p: Vector3<f32>, top: f32, half_width: f32) -> Vector3<f32> {
    if !grid.contains(&p) {
        return p;
    }
    let layer = Layer::new(grid, f.front, grid.cell_of(&p)[f.front]);
    layer
        .centroid_where(grid, |q| f.height(q) >= top && (q[f.lateral] - f.centre).abs() <= half_width)
        .unwrap_or_else(|| f.at_height(p, top))
}

/// The centre line from a body point out to an extremity (head or tail tip).
struct EndPath {
    /// Centred points from where the path leaves the body to the tip.
    beyond_body: Vec<Vector3<f32>>,
    /// Length of `beyond_body`.
    length: f32,
    /// Depth of the start point below the surface.
    body_radius: f32,
}

/// From the solid voxel nearest `start` to the farthest (through the solid) voxel that
/// satisfies `candidate`: the centroids of the distance bands (`PATH_BAND` tenths of a voxel wide)
/// that the shortest path crosses, each band cut to its connected piece around the path.
fn end_path(
    grid: &VoxelGrid,
    graph: &SolidGraph,
    depth: &[u32],
    start: Vector3<f32>,
    candidate: impl Fn(&Vector3<f32>) -> bool,
) -> Option<EndPath> {
    let step = PATH_BAND;
    let source = nearest_solid(grid, graph, start)?;
    let dist = graph.distances(&[source]);
    let centre = |v: u32| grid.center(grid.coords(graph.cell_of_id[v as usize] as usize));
    let tip =
        (0..graph.len() as u32).filter(|&v| dist[v as usize] != UNREACHED && candidate(&centre(v))).max_by_key(|&v| dist[v as usize])?;
    // Walk downhill from the tip back to the source.
    let mut path = vec![tip];
    let mut v = tip;
    while dist[v as usize] > 0 {
        let mut best = v;
        graph.for_each_neighbor(v, |n| {
            if dist[n as usize] < dist[best as usize] {
                best = n;
            }
        });
        if best == v {
            break;
        }
        path.push(best);
        v = best;
    }
    path.reverse();
    let radius = depth[source as usize].min(dist[tip as usize]);
    let mut points = Vec::new();
    let mut last_band = u32::MAX;
    for &v in &path {
        let d = dist[v as usize];
        let band = d / step;
        if band == last_band || d < radius {
            continue;
        }
        last_band = band;
        points.push(band_piece_centroid(grid, graph, &dist, v, band, step));
    }
    if points.is_empty() {
        points.push(centre(tip));
    }
    points.push(centre(tip));
    let scale = grid.size / 10.0;
    let length = (dist[tip as usize] - radius) as f32 * scale;
    Some(EndPath { beyond_body: points, length, body_radius: radius as f32 * scale })
}

/// The solid voxel whose centre is nearest to `p`.
fn nearest_solid(grid: &VoxelGrid, graph: &SolidGraph, p: Vector3<f32>) -> Option<u32> {
    (0..graph.len() as u32).min_by(|&a, &b| {
        let da = (grid.center(grid.coords(graph.cell_of_id[a as usize] as usize)) - p).norm_squared();
        let db = (grid.center(grid.coords(graph.cell_of_id[b as usize] as usize)) - p).norm_squared();
        da.total_cmp(&db)
    })
}

/// Centroid of the connected piece of band `band` (distances `[band * step, (band + 1) * step)`)
/// that contains voxel `v`.
fn band_piece_centroid(grid: &VoxelGrid, graph: &SolidGraph, dist: &[u32], v: u32, band: u32, step: u32) -> Vector3<f32> {
    let in_band = |n: u32| dist[n as usize] != UNREACHED && dist[n as usize] / step == band;
    let mut seen = std::collections::HashSet::from([v]);
    let mut stack = vec![v];
    let mut sum = Vector3::zeros();
    while let Some(u) = stack.pop() {
        sum += grid.center(grid.coords(graph.cell_of_id[u as usize] as usize));
        graph.for_each_neighbor(u, |n| {
            if in_band(n) && seen.insert(n) {
                stack.push(n);
            }
        });
    }
    sum / seen.len() as f32
}

#[cfg(test)]
mod tests {
    use super::super::{skeleton_for_mesh, AutoSkeletonOptions, SkeletonKind};
    use crate::autoskin::bones::bind_positions;
    use crate::mesh::Mesh;
    use crate::skeleton::Skeleton;
    use nalgebra::Vector3;

    /// A box animal standing on Y, head and neck towards +Z, a long tail towards -Z; `raise`
    /// lifts the front left foot off the ground.
    fn animal(raise: f32) -> Mesh {
        crate::test_shapes::box_mesh(&[
            ([-0.4, 1.0, -1.2], [0.4, 1.6, 1.2]),     // torso
            ([0.15, raise, 0.7], [0.35, 1.1, 0.9]),   // front left leg
            ([-0.35, 0.0, 0.7], [-0.15, 1.1, 0.9]),   // front right leg
            ([0.15, 0.0, -1.0], [0.35, 1.1, -0.8]),   // back left leg
            ([-0.35, 0.0, -1.0], [-0.15, 1.1, -0.8]), // back right leg
            ([-0.15, 1.3, 1.1], [0.15, 2.2, 1.4]),    // neck
            ([-0.2, 2.0, 1.3], [0.2, 2.4, 2.0]),      // head
            ([-0.07, 1.35, -2.4], [0.07, 1.5, -1.1]), // tail
        ])
    }

    /// The box animal with each leg raised off the ground on two claws (a crab's or a bird's
    /// foot: the claws are followed first and meet where the leg starts).
    fn clawed_animal() -> Mesh {
        let mut boxes = vec![
            ([-0.4, 1.0, -1.2], [0.4, 1.6, 1.2]),
            ([-0.15, 1.3, 1.1], [0.15, 2.2, 1.4]),
            ([-0.2, 2.0, 1.3], [0.2, 2.4, 2.0]),
            ([-0.07, 1.35, -2.4], [0.07, 1.5, -1.1]),
        ];
        for (x, z) in [(0.2, 0.7), (-0.4, 0.7), (0.2, -1.0), (-0.4, -1.0)] {
            boxes.push(([x, 0.3, z], [x + 0.2, 1.1, z + 0.2]));
            boxes.push(([x - 0.1, 0.0, z], [x, 0.45, z + 0.2]));
            boxes.push(([x + 0.2, 0.0, z], [x + 0.3, 0.45, z + 0.2]));
        }
        crate::test_shapes::box_mesh(&boxes)
    }

    fn mirrored_front_to_back(mut mesh: Mesh) -> Mesh {
        mesh.positions.iter_mut().for_each(|p| *p = [-p[0], p[1], -p[2]]);
        mesh
    }

    fn at(s: &Skeleton, name: &str) -> Vector3<f32> {
        bind_positions(s)
            [s.find(name).unwrap_or_else(|| panic!("no joint {name}: {:?}", s.joints.iter().map(|j| &j.name).collect::<Vec<_>>()))]
    }

    /// Checks the template on `mesh` whose head points along `facing` (+1 or -1 on Z), whose
    /// left is towards `left` (+1 or -1 on X).
    fn check_animal(mesh: &Mesh, facing: f32, left: f32) {
        let s = skeleton_for_mesh(mesh, &AutoSkeletonOptions::default()).expect("auto never fails");
        s.validate().expect("parents first");
        assert_eq!(s.joints[0].name, "pelvis", "auto picks the quadruped template");
        let z = |n: &str| at(&s, n).z * facing;
        assert!(
            z("pelvis") < -0.6 && z("spine_03") > 0.6,
            "pelvis over the back legs, chest over the front: {} {}",
            z("pelvis"),
            z("spine_03")
        );
        assert!(at(&s, "pelvis").y > 1.0 && at(&s, "pelvis").y < 1.6, "pelvis in the torso: {:?}", at(&s, "pelvis"));
        assert!(at(&s, "head").y > 1.9 && z("head") > 1.2, "head in the head: {:?}", at(&s, "head"));
        for (name, want_left) in [("hand_l", true), ("hand_r", false), ("foot_l", true), ("foot_r", false)] {
            assert_eq!(at(&s, name).x * left > 0.0, want_left, "{name} on its side: {:?}", at(&s, name));
        }
        assert!(z("hand_l") > 0.6 && z("foot_l") < -0.6, "front legs in front: {} {}", z("hand_l"), z("foot_l"));
        assert!(at(&s, "hand_r").y < 0.4 && at(&s, "ball_r").y < 0.2, "feet near the ground");
        let tail: Vec<_> = s.joints.iter().filter(|j| j.name.starts_with("tail_")).map(|j| j.name.clone()).collect();
        assert!(tail.len() >= 2, "the tail gets a chain: {tail:?}");
        assert!(z(tail.last().unwrap()) < -1.6, "along the tail: {}", z(tail.last().unwrap()));
        let inside = crate::metrics::joints_inside(&s, &mesh.positions, &mesh.triangles);
        assert!(inside >= 0.95, "{inside}");
    }

    #[test]
    fn a_four_legged_box_animal_gets_the_quadruped_template() {
        check_animal(&animal(0.0), 1.0, 1.0);
    }

    #[test]
    fn the_head_end_is_found_from_the_shape_not_the_file_axes() {
        // Turned to face -Z: its left is now -X.
        check_animal(&mirrored_front_to_back(animal(0.0)), -1.0, -1.0);
    }

    #[test]
    fn a_raised_paw_is_still_a_foot() {
        check_animal(&animal(0.3), 1.0, 1.0);
    }

    #[test]
    fn the_claws_of_a_foot_are_one_leg() {
        let options = AutoSkeletonOptions { kind: SkeletonKind::Quadruped, ..Default::default() };
        skeleton_for_mesh(&clawed_animal(), &options).expect("fits");
        check_animal(&clawed_animal(), 1.0, 1.0);
    }

    #[test]
    fn two_legs_do_not_fit_the_quadruped_template_and_say_why() {
        let biped = super::super::tests::creature();
        let options = AutoSkeletonOptions { kind: SkeletonKind::Quadruped, ..Default::default() };
        let err = skeleton_for_mesh(&biped, &options).expect_err("two legs");
        assert!(err.contains("quadruped template does not fit") && err.contains("feet"), "{err}");
    }
}
