//! Skeletons from a bare mesh. The generic method follows the volume: geodesic distance bands
//! from the thickest point of the solid, split into connected pieces, give one joint per piece
//! at its centroid (centred in the cross-section); a piece's parent is the touching piece one
//! band closer to the root. Short side branches (bumps) are pruned; the root becomes a trunk
//! through the body (the bands around the root are shells that all centre on it, so the body
//! itself would get no chain); chain joints with no vertices near them go (a low-poly limb
//! bends only at its vertex loops); chain tips become end markers.

mod bands;
pub mod biped;
mod fingers;
mod loops;
mod orient;
mod props;
pub mod quadruped;
mod slices;

use nalgebra::{UnitQuaternion, Vector3};
use rayon::prelude::*;

use crate::autoskin::geodesic::{SolidGraph, UNREACHED};
use crate::autoskin::voxel::VoxelGrid;
use crate::mesh::Mesh;
use crate::skeleton::{Joint, Skeleton};
use crate::task::Task;
use crate::transform::Trs;
use crate::Mat4;

/// Which skeleton to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SkeletonKind {
    /// The biped template when it fits the shape, else the quadruped one, else generic.
    #[default]
    Auto,
    /// The biped template (fails when the shape has no two legs and two arms).
    Biped,
    /// The quadruped template (fails when the shape does not stand on four legs).
    Quadruped,
    /// A joint chain along every limb of the volume, named by chain.
    Generic,
}

/// Settings of the skeleton generator.
#[derive(Debug, Clone)]
pub struct AutoSkeletonOptions {
    pub kind: SkeletonKind,
    /// Mesh-space up direction of the character; templates stand on the nearest axis. `None`:
    /// the file's own up (`Rig::up_direction`) where a rig is at hand (`rig_in_place`), else +Y.
    pub up: Option<[f32; 3]>,
    /// Voxels along the longest side for the volume analysis.
    pub resolution: usize,
    /// Joint spacing along limbs, as a fraction of the longest side of the mesh.
    pub spacing: f32,
    /// Side branches with fewer joints than this are pruned.
    pub min_branch_joints: usize,
    /// A side branch shorter than this many times the body's radius at its fork is a bump
    /// (spikes, bellies, noses) and is pruned.
    pub bump_factor: f32,
    /// Biped hands whose fingers are not apart in the mesh get one chain each (named as the
    /// middle finger) instead of none. Off by default: the artists' rigs of such hands among
    /// the evaluation characters have none (mean CD-J2J on the 28: 4.79 without, 5.02 with).
    pub mitten: bool,
}

impl Default for AutoSkeletonOptions {
    fn default() -> Self {
        Self { kind: SkeletonKind::Auto, up: None, resolution: 96, spacing: 0.07, min_branch_joints: 2, bump_factor: 3.0, mitten: false }
    }
}

/// A generated joint tree before naming: positions and parents (parents first).
#[derive(Debug, Clone, Default)]
pub struct JointTree {
    pub positions: Vec<Vector3<f32>>,
    pub parents: Vec<Option<usize>>,
}

/// A skeleton from a joint tree (mesh space, parents first), joints named by chain
/// (`root`, `chain_01_01`, ...), rest pose = bind pose. For skeletons from other generators.
pub fn skeleton_from_tree(tree: &JointTree) -> Skeleton {
    build(tree, &chain_names(tree))
}

/// A skeleton from a joint tree (mesh space, parents first) with the given joint names, rest
/// pose = bind pose, bones oriented as the generator orients them.
pub fn skeleton_with_names(tree: &JointTree, names: &[String]) -> Skeleton {
    build(tree, names)
}

/// Moves every position that is outside `mesh` (generalised winding number under 0.5) to the
/// nearest centre of a solid voxel (at `resolution` voxels along the longest side) that is
/// inside by the same test (the solid's outer layer can lie just outside the surface), or, when
/// none of the nearest 400 is (open or flat meshes), to the nearest solid voxel. Returns how many moved.
pub fn move_inside(mesh: &Mesh, positions: &mut [Vector3<f32>], resolution: usize) -> usize {
    if mesh.triangles.is_empty() {
        return 0;
    }
    move_inside_grid(mesh, &VoxelGrid::from_mesh(&mesh.positions, &mesh.triangles, resolution), positions)
}

/// [`move_inside`] with the mesh's solid already voxelised.
fn move_inside_grid(mesh: &Mesh, grid: &VoxelGrid, positions: &mut [Vector3<f32>]) -> usize {
    const TRIES: usize = 400;
    let inside = |p: &Vector3<f32>| crate::metrics::winding_number(p, &mesh.positions, &mesh.triangles).abs() > 0.5;
    let solid = grid.solid_centres();
    // Each position on its own thread: the winding numbers run over every triangle.
    let move_one = |p: &mut Vector3<f32>| {
        if solid.is_empty() || inside(p) {
            return false;
        }
        let mut near: Vec<(f32, usize)> = solid.iter().enumerate().map(|(i, q)| ((q - *p).norm_squared(), i)).collect();
        let k = TRIES.min(near.len());
        near.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
        near.truncate(k);
        near.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let pick = near.iter().find(|(_, i)| inside(&solid[*i])).unwrap_or(&near[0]);
        *p = solid[pick.1];
        true
    };
    positions.par_iter_mut().with_max_len(1).map(move_one).filter(|&m| m).count()
}

/// Generates a skeleton for `mesh` (mesh space). An empty mesh gives an empty skeleton; a
/// template that was asked for and does not fit the shape gives the reason.
pub fn skeleton_for_mesh(mesh: &Mesh, options: &AutoSkeletonOptions) -> Result<Skeleton, String> {
    skeleton_for_mesh_in(mesh, options, &Task::silent())
}

/// [`skeleton_for_mesh`], giving up early once `task` is cancelled (between the biped's
/// fits without props; the caller checks the task and drops what comes back).
pub fn skeleton_for_mesh_in(mesh: &Mesh, options: &AutoSkeletonOptions, task: &Task) -> Result<Skeleton, String> {
    if mesh.positions.is_empty() || mesh.triangles.is_empty() {
        return Ok(Skeleton::default());
    }
    let grid = VoxelGrid::from_mesh(&mesh.positions, &mesh.triangles, options.resolution);
    let frame = || frame_for(&grid, options.up.unwrap_or(Y_UP));
    let skeleton = match options.kind {
        SkeletonKind::Generic => generic(mesh, &grid, options),
        SkeletonKind::Biped => fit_biped(mesh, &grid, &frame(), options, task)?,
        SkeletonKind::Quadruped => fit_quadruped(&grid, &frame())?,
        SkeletonKind::Auto => {
            let frame = frame();
            match fit_biped(mesh, &grid, &frame, options, task) {
                Ok(s) => s,
                Err(_) if task.is_cancelled() => return Ok(Skeleton::default()),
                Err(_) => fit_quadruped(&grid, &frame).unwrap_or_else(|_| generic(mesh, &grid, options)),
            }
        }
    };
    Ok(pulled_inside(mesh, &grid, skeleton))
}

/// `skeleton` with the joints that fell outside the mesh (the voxelised solid's outer layer
/// can lie just outside a thin limb's surface) moved to the nearest solid voxel inside, see
/// [`move_inside`] (`grid`: the mesh's solid, as the generator voxelised it); names,
/// hierarchy and deform flags kept.
fn pulled_inside(mesh: &Mesh, grid: &VoxelGrid, skeleton: Skeleton) -> Skeleton {
    let mut positions = crate::autoskin::bones::bind_positions(&skeleton);
    // Joints that deform nothing (the biped's root on the ground) stay where they are.
    let deforming: Vec<usize> = (0..skeleton.len()).filter(|&j| skeleton.joints[j].deform).collect();
    let mut inside: Vec<Vector3<f32>> = deforming.iter().map(|&j| positions[j]).collect();
    if move_inside_grid(mesh, grid, &mut inside) == 0 {
        return skeleton;
    }
    deforming.iter().zip(inside).for_each(|(&j, p)| positions[j] = p);
    let tree = JointTree { positions, parents: skeleton.joints.iter().map(|j| j.parent).collect() };
    let names: Vec<String> = skeleton.joints.iter().map(|j| j.name.clone()).collect();
    let mut moved = build(&tree, &names);
    moved.joints.iter_mut().zip(&skeleton.joints).for_each(|(m, j)| m.deform = j.deform);
    moved
}

/// Joints of the generic skeleton's trunk (the chain through the body that replaces the band
/// tree's root). Mean CD-J2J on the 28 test characters / the 76 held-out train/ rigs: 3 ->
/// 6.18 / 9.35, 4 -> 5.71 / 8.75, 5 -> 5.91 / 8.59, 6 -> 5.71 / 8.39 (no trunk: 6.27 / 10.03).
const TRUNK_JOINTS: usize = 6;

/// glTF's up, the default for a bare mesh.
const Y_UP: [f32; 3] = [0.0, 1.0, 0.0];

/// The character's frame standing on the axis nearest to `up`.
fn frame_for(grid: &VoxelGrid, up: [f32; 3]) -> biped::Frame {
    let axis = (0..3).max_by(|&a, &b| up[a].abs().total_cmp(&up[b].abs())).unwrap_or(1);
    biped::Frame::for_up(grid, axis, if up[axis] < 0.0 { -1.0 } else { 1.0 })
}

/// The quadruped template standing in `frame`.
fn fit_quadruped(grid: &VoxelGrid, frame: &biped::Frame) -> Result<Skeleton, String> {
    let fitted = quadruped::fit(grid, frame).map_err(|e| format!("the quadruped template does not fit: {e}"))?;
    Ok(build(&fitted.tree, &fitted.names))
}

/// The biped template standing in `frame` (on the axis nearest to the options' up), with
/// fingers where the mesh shows them apart (else, with `mitten`, one chain per hand); its
/// `root` on the ground deforms nothing. Where props held out from the body keep it from
/// fitting, it is fitted to the body without them ([`props`]).
fn fit_biped(mesh: &Mesh, grid: &VoxelGrid, frame: &biped::Frame, options: &AutoSkeletonOptions, task: &Task) -> Result<Skeleton, String> {
    let up = options.up.unwrap_or(Y_UP);
    match biped::fit(grid, frame) {
        Ok(fitted) => Ok(biped_skeleton(mesh, frame, fitted, options.mitten)),
        Err(refusal) => {
            let (body, grid, frame, fitted) = props::fit_without_props(mesh, frame, options.resolution, up, refusal, task)
                .map_err(|e| format!("the biped template does not fit: {e}"))?;
            Ok(pulled_inside(&body, &grid, biped_skeleton(&body, &frame, fitted, options.mitten)))
        }
    }
}

/// The fitted template as a skeleton: the root on the ground, fingers or mittens appended.
fn biped_skeleton(mesh: &Mesh, frame: &biped::Frame, fitted: biped::Fitted, mitten: bool) -> Skeleton {
    let mut tree = fitted.tree;
    // The voxels' centres sit half a voxel above the soles: the root goes to the lowest vertex.
    let ground = mesh.positions.iter().map(|p| frame.height(&Vector3::from(*p))).fold(f32::INFINITY, f32::min);
    if ground.is_finite() {
        tree.positions[0] = frame.at_height(tree.positions[0], ground);
    }
    let mut names: Vec<String> = biped::NAMES.map(String::from).to_vec();
    for (hand, (tip, side)) in biped::HANDS.into_iter().zip(fitted.arm_tips.into_iter().zip(["l", "r"])) {
        let wrist = tree.positions[hand];
        let mut digits = fingers::fingers(mesh, frame, wrist, tip);
        if mitten && digits.is_empty() && (tip - wrist).norm() > f32::EPSILON {
            digits.push(fingers::mitten(wrist, tip));
        }
        for finger in digits {
            let mut parent = hand;
            for (k, p) in finger.joints.into_iter().enumerate() {
                tree.positions.push(p);
                tree.parents.push(Some(parent));
                names.push(format!("{}_0{}_{side}", finger.digit, k + 1));
                parent = tree.positions.len() - 1;
            }
        }
    }
    let mut skeleton = build(&tree, &names);
    skeleton.joints[0].deform = false;
    skeleton
}

/// The generic skeleton: rooted at the point of the solid deepest below the surface, one
/// joint per band piece, named by chain, chain joints only where the mesh has vertices to bend.
fn generic(mesh: &Mesh, grid: &VoxelGrid, options: &AutoSkeletonOptions) -> Skeleton {
    let graph = SolidGraph::new(grid);
    let depth = surface_depth(grid, &graph);
    let Some(root) = deepest_voxel(grid, &graph, &depth) else { return Skeleton::default() };
    let from_root = graph.distances(&[root]);
    let step = ((options.spacing * options.resolution as f32) * 10.0).max(10.0) as u32;
    let tree = bands::band_tree(grid, &graph, &from_root, step);
    let tree = bands::merge_close_joints(tree, 0.25 * step as f32 * grid.size / 10.0);
    let tree = bands::prune_short_branches(tree, options.min_branch_joints);
    let radius = |p: &Vector3<f32>| {
        let id = graph.id_of_cell[grid.index(grid.cell_of(p))];
        if id == UNREACHED || depth[id as usize] == UNREACHED {
            0.0
        } else {
            depth[id as usize] as f32 * grid.size / 10.0
        }
    };
    let tree = bands::prune_bumps(tree, &radius, options.bump_factor);
    let up = options.up.unwrap_or(Y_UP);
    let axis = (0..3).max_by(|&a, &b| up[a].abs().total_cmp(&up[b].abs())).unwrap_or(1);
    let min_trunk = 3.0 * options.spacing * grid.size * options.resolution as f32;
    // A sheet one voxel thick has no depth: its band joints still lie on the trunk's column.
    let root_radius = tree.positions.first().map_or(0.0, radius).max(grid.size);
    let tree = bands::with_trunk(grid, tree, axis, TRUNK_JOINTS, root_radius, min_trunk);
    let tree = loops::at_vertex_loops(tree, &mesh.positions);
    let mut skeleton = build(&tree, &chain_names(&tree));
    mark_tips_as_ends(&mut skeleton);
    skeleton
}

/// Leaf joints with a parent become end markers (non-deforming, like the `_end` joints glTF
/// exporters write): a generic chain's last joint sits at the limb's far end, so the bone
/// reaching it from its parent already covers the end of the limb.
fn mark_tips_as_ends(skeleton: &mut Skeleton) {
    let tips: Vec<usize> =
        (0..skeleton.len()).filter(|&j| skeleton.joints[j].parent.is_some() && skeleton.children(j).next().is_none()).collect();
    tips.into_iter().for_each(|j| skeleton.joints[j].deform = false);
}

/// Distance of every solid voxel from the surface, in tenths of a voxel.
pub(super) fn surface_depth(grid: &VoxelGrid, graph: &SolidGraph) -> Vec<u32> {
    let boundary: Vec<u32> = (0..graph.len() as u32).filter(|&v| is_boundary(grid, graph, v)).collect();
    graph.distances(&boundary)
}

/// The solid voxel furthest from the surface: the root of the skeleton. Where several are
/// (a box-shaped body), the one nearest to their centroid, so the root sits mid-body.
fn deepest_voxel(grid: &VoxelGrid, graph: &SolidGraph, depth: &[u32]) -> Option<u32> {
    let max = depth.iter().copied().filter(|&d| d != UNREACHED).max()?;
    let deepest: Vec<u32> = (0..depth.len() as u32).filter(|&v| depth[v as usize] == max).collect();
    let centre_of = |v: u32| grid.center(grid.coords(graph.cell_of_id[v as usize] as usize));
    let centroid = deepest.iter().map(|&v| centre_of(v)).sum::<Vector3<f32>>() / deepest.len() as f32;
    deepest.into_iter().min_by(|&a, &b| (centre_of(a) - centroid).norm_squared().total_cmp(&(centre_of(b) - centroid).norm_squared()))
}

fn is_boundary(grid: &VoxelGrid, graph: &SolidGraph, v: u32) -> bool {
    let c = grid.coords(graph.cell_of_id[v as usize] as usize);
    (0..3).any(|k| {
        [-1i64, 1].iter().any(|&d| {
            let q = c[k] as i64 + d;
            if q < 0 || q as usize >= grid.dims[k] {
                return true;
            }
            let mut n = c;
            n[k] = q as usize;
            !grid.solid[grid.index(n)]
        })
    })
}

/// Names joints by chain: `root`, then `chain_A_01`, `chain_A_02`, ... along each branch.
fn chain_names(tree: &JointTree) -> Vec<String> {
    let n = tree.positions.len();
    let mut children = vec![0usize; n];
    tree.parents.iter().flatten().for_each(|&p| children[p] += 1);
    let mut names = Vec::with_capacity(n);
    let mut chain_of = vec![(0usize, 0usize); n];
    let mut chains = 0;
    for i in 0..n {
        let name = match tree.parents[i] {
            None => "root".to_string(),
            Some(p) => {
                let (chain, index) = if tree.parents[p].is_some() && children[p] == 1 {
                    (chain_of[p].0, chain_of[p].1 + 1)
                } else {
                    chains += 1;
                    (chains, 1)
                };
                chain_of[i] = (chain, index);
                format!("chain_{chain:02}_{index:02}")
            }
        };
        names.push(name);
    }
    names
}

/// A bound skeleton from joint positions, parents and names.
fn build(tree: &JointTree, names: &[String]) -> Skeleton {
    let n = tree.positions.len();
    let model = orient::orientations(tree);
    let mut skeleton = Skeleton {
        joints: (0..n)
            .map(|i| {
                let (origin, frame) =
                    tree.parents[i].map_or((Vector3::zeros(), UnitQuaternion::identity()), |p| (tree.positions[p], model[p]));
                let rotation = frame.inverse() * model[i];
                Joint {
                    name: names[i].clone(),
                    parent: tree.parents[i],
                    rest_local: Trs { translation: frame.inverse() * (tree.positions[i] - origin), rotation, ..Trs::IDENTITY },
                    joint_from_mesh: Mat4::identity(),
                    deform: true,
                    in_skin: true,
                }
            })
            .collect(),
        ..Default::default()
    };
    skeleton.bind_to_rest();
    skeleton
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A thick body with two long thin legs below it (overlapping boxes).
    pub(super) fn creature() -> Mesh {
        crate::test_shapes::box_mesh(&[
            ([-1.0, 2.0, -0.5], [1.0, 3.0, 0.5]),
            ([-0.9, 0.0, -0.2], [-0.5, 2.2, 0.2]),
            ([0.5, 0.0, -0.2], [0.9, 2.2, 0.2]),
        ])
    }

    #[test]
    fn a_two_legged_body_gets_a_root_in_the_body_and_a_chain_per_leg() {
        let s = skeleton_for_mesh(&creature(), &AutoSkeletonOptions::default()).expect("generic fallback");
        s.validate().expect("parents first");
        let pos = crate::autoskin::bones::bind_positions(&s);
        assert!(pos[0].y > 2.0 && pos[0].y < 3.0, "root in the body: {:?}", pos[0]);
        let tips: Vec<_> = (0..s.len()).filter(|&j| s.children(j).next().is_none()).map(|j| pos[j]).collect();
        let feet = tips.iter().filter(|p| p.y < 0.8).count();
        assert_eq!(feet, 2, "one chain reaches each foot: tips {tips:?}");
        assert!(tips.iter().filter(|p| p.y < 0.8).any(|p| p.x < 0.0) && tips.iter().filter(|p| p.y < 0.8).any(|p| p.x > 0.0));
    }

    #[test]
    fn a_cancelled_task_stops_the_auto_kind_before_its_fallbacks() {
        let flag = std::sync::atomic::AtomicBool::new(true);
        let task = Task::silent().with_cancel(&flag);
        let s = skeleton_for_mesh_in(&creature(), &AutoSkeletonOptions::default(), &task).expect("no template asked for");
        assert!(s.is_empty(), "cancelled: nothing generated after the biped refused");
        let err = crate::autorig::generate_skeleton(&creature(), &AutoSkeletonOptions::default(), task).expect_err("cancelled");
        assert!(matches!(err, crate::autorig::AutoRigError::Cancelled), "{err}");
    }

    #[test]
    fn move_inside_pulls_outside_points_into_the_nearest_part_and_leaves_inside_ones() {
        let mesh = creature();
        let mut p = vec![Vector3::new(0.0, 2.5, 0.0), Vector3::new(-0.7, 1.0, 0.6), Vector3::new(0.0, 1.0, 0.0)];
        let before = p[0];
        assert_eq!(move_inside(&mesh, &mut p, 48), 2);
        assert_eq!(p[0], before, "inside already");
        let inside = |q: &Vector3<f32>| crate::metrics::winding_number(q, &mesh.positions, &mesh.triangles).abs() > 0.5;
        assert!(p.iter().all(inside), "{p:?}");
        assert!(p[1].x < -0.4 && p[1].x > -1.0 && (p[1].y - 1.0).abs() < 0.2, "into the left leg it was beside: {:?}", p[1]);
    }

    /// A T-posed box figure, Y up, facing +Z: legs, torso, arms, head.
    fn figure() -> Mesh {
        crate::test_shapes::box_mesh(&figure_boxes())
    }

    fn figure_boxes() -> Vec<([f32; 3], [f32; 3])> {
        vec![
            ([0.1, 0.0, -0.1], [0.3, 0.9, 0.1]),
            ([-0.3, 0.0, -0.1], [-0.1, 0.9, 0.1]),
            ([-0.35, 0.85, -0.15], [0.35, 1.5, 0.15]),
            ([0.3, 1.3, -0.07], [1.1, 1.45, 0.07]),
            ([-1.1, 1.3, -0.07], [-0.3, 1.45, 0.07]),
            ([-0.15, 1.5, -0.12], [0.15, 1.8, 0.12]),
        ]
    }

    /// `body` and `prop` as one mesh of two source meshes (as a character file with a
    /// separate weapon is read).
    fn with_prop(body: Mesh, prop: Mesh) -> Mesh {
        let (n, t) = (body.positions.len() as u32, body.triangles.len() as u32);
        let mut mesh = body;
        mesh.positions.extend(prop.positions);
        mesh.triangles.extend(prop.triangles.iter().map(|tri| tri.map(|i| i + n)));
        let (vertices, triangles) = (n..mesh.positions.len() as u32, t..mesh.triangles.len() as u32);
        let part =
            crate::mesh::Part { name: "prop".into(), group: 1, material: None, vertices, triangles, skinned: true, morph_targets: vec![] };
        mesh.parts.push(part);
        mesh.groups.push(crate::mesh::MeshGroup::default());
        mesh
    }

    #[test]
    fn a_shield_held_out_in_one_hand_is_left_out_of_the_biped_fit() {
        // A tall slab beyond the right hand, from the hips to above the head.
        let slab = ([-1.2, 0.9, -0.2], [-1.1, 1.8, 0.2]);
        // Feet pointing forward: a body that is not front-back symmetric, as characters are.
        let feet = vec![([0.1, 0.0, 0.1], [0.3, 0.12, 0.4]), ([-0.3, 0.0, 0.1], [-0.1, 0.12, 0.4])];
        let body = [figure_boxes(), feet].concat();
        let options = AutoSkeletonOptions { kind: SkeletonKind::Biped, ..Default::default() };
        let one_piece = crate::test_shapes::box_mesh(&[body.clone(), vec![slab]].concat());
        let refused = skeleton_for_mesh(&one_piece, &options).expect_err("the slab keeps a one-piece mesh from fitting");
        assert!(refused.contains("right side"), "{refused}");
        let mesh = with_prop(crate::test_shapes::box_mesh(&body), crate::test_shapes::box_mesh(&[slab]));
        let s = skeleton_for_mesh(&mesh, &options).expect("fits without the prop");
        let pos = crate::autoskin::bones::bind_positions(&s);
        let at = |name: &str| pos[s.find(name).unwrap_or_else(|| panic!("no joint {name}"))];
        let (hand_l, hand_r) = (at("hand_l"), at("hand_r"));
        assert!(hand_r.x < -0.8 && hand_r.x > -1.1 && (hand_r.y - 1.375).abs() < 0.1, "right hand on the arm: {hand_r:?}");
        assert!((hand_l.x + hand_r.x).abs() < 0.1, "hands mirror each other: {hand_l:?} {hand_r:?}");
    }

    #[test]
    fn a_t_posed_figure_gets_the_biped_template_with_left_on_its_left() {
        let mesh = figure();
        let s = skeleton_for_mesh(&mesh, &AutoSkeletonOptions::default()).expect("auto never fails");
        s.validate().expect("parents first");
        let pos = crate::autoskin::bones::bind_positions(&s);
        let at = |name: &str| pos[s.find(name).unwrap_or_else(|| panic!("no joint {name}"))];
        assert!(at("pelvis").y > 0.8 && at("pelvis").y < 1.1, "pelvis {:?}", at("pelvis"));
        assert!(at("hand_l").x > 0.7 && at("hand_r").x < -0.7, "hands {:?} {:?}", at("hand_l"), at("hand_r"));
        assert!(at("foot_l").x > 0.0 && at("foot_l").y < 0.3, "foot_l {:?}", at("foot_l"));
        assert!(at("upperarm_l").x > 0.2 && at("upperarm_l").x < 0.5, "shoulder {:?}", at("upperarm_l"));
        assert!(at("head").y > at("neck_01").y && at("neck_01").y >= at("upperarm_l").y - 0.05, "head {:?}", at("head"));
        let inside = crate::metrics::joints_inside(&s, &mesh.positions, &mesh.triangles);
        assert!(inside >= 0.95, "{inside}");
    }

    #[test]
    fn the_biped_root_stands_on_the_ground_under_the_pelvis_and_deforms_nothing() {
        let mesh = figure();
        let s = skeleton_for_mesh(&mesh, &AutoSkeletonOptions::default()).expect("auto never fails");
        let pos = crate::autoskin::bones::bind_positions(&s);
        let (root, pelvis) = (s.find("root").expect("a root"), s.find("pelvis").expect("a pelvis"));
        assert_eq!((root, s.joints[pelvis].parent), (0, Some(0)));
        assert!(!s.joints[root].deform && s.joints.iter().skip(1).all(|j| j.deform));
        let lowest = mesh.positions.iter().map(|p| p[1]).fold(f32::MAX, f32::min);
        assert!(
            (pos[root].y - lowest).abs() < 1e-5 && (pos[root].x - pos[pelvis].x).abs() < 1e-4,
            "root {:?} pelvis {:?}",
            pos[root],
            pos[pelvis]
        );
    }

    #[test]
    fn legs_pressed_together_still_fit_the_biped() {
        // Each leg a thick column plus a thin strip that meets the other leg's at the middle:
        // one piece across the symmetry plane all the way up, notched there.
        let mut boxes: Vec<([f32; 3], [f32; 3])> = figure_boxes().into_iter().skip(2).collect();
        for side in [1.0f32, -1.0] {
            let x = |a: f32, b: f32| if side > 0.0 { (a, b) } else { (-b, -a) };
            let (a, b) = x(0.05, 0.3);
            boxes.push(([a, 0.0, -0.1], [b, 0.9, 0.1]));
            let (a, b) = x(0.0, 0.05);
            boxes.push(([a, 0.0, -0.02], [b, 0.9, 0.02]));
        }
        let options = AutoSkeletonOptions { kind: SkeletonKind::Biped, ..Default::default() };
        let s = skeleton_for_mesh(&crate::test_shapes::box_mesh(&boxes), &options).expect("fits");
        let pos = crate::autoskin::bones::bind_positions(&s);
        let at = |name: &str| pos[s.find(name).unwrap_or_else(|| panic!("no joint {name}"))];
        for (leg, side) in [("calf_l", 1.0), ("calf_r", -1.0), ("foot_l", 1.0), ("foot_r", -1.0)] {
            assert!(at(leg).x * side > 0.08, "{leg} in its own leg: {:?}", at(leg));
        }
        assert!(at("pelvis").y > 0.75, "pelvis above where the legs meet the body: {:?}", at("pelvis"));
    }

    /// The figure with a hand of four fingers and a thumb at the end of each arm.
    fn figure_with_hands() -> Mesh {
        let mut boxes = figure_boxes();
        for side in [1.0f32, -1.0] {
            let x = |a: f32, b: f32| if side > 0.0 { (a, b) } else { (-b, -a) };
            let mut add = |xa: f32, xb: f32, y: [f32; 2], z: [f32; 2]| {
                let (a, b) = x(xa, xb);
                boxes.push(([a, y[0], z[0]], [b, y[1], z[1]]));
            };
            add(1.08, 1.3, [1.32, 1.43], [-0.1, 0.1]);
            for z in [-0.085, -0.035, 0.015, 0.065] {
                add(1.28, 1.48, [1.35, 1.4], [z, z + 0.03]);
            }
            add(1.2, 1.24, [1.35, 1.4], [0.1, 0.15]);
            add(1.2, 1.36, [1.35, 1.4], [0.15, 0.19]);
        }
        crate::test_shapes::box_mesh(&boxes)
    }

    #[test]
    fn separate_fingers_get_three_joints_each_named_from_the_thumb_at_the_front() {
        let options = AutoSkeletonOptions { kind: SkeletonKind::Biped, ..Default::default() };
        let s = skeleton_for_mesh(&figure_with_hands(), &options).expect("fits");
        s.validate().expect("parents first");
        let pos = crate::autoskin::bones::bind_positions(&s);
        let at = |name: &str| {
            pos[s.find(name).unwrap_or_else(|| panic!("no joint {name} in {:?}", s.joints.iter().map(|j| &j.name).collect::<Vec<_>>()))]
        };
        for (side, sign) in [("l", 1.0f32), ("r", -1.0)] {
            let hand = s.find(&format!("hand_{side}")).expect("a hand");
            for digit in ["thumb", "index", "middle", "ring", "pinky"] {
                let first = s.find(&format!("{digit}_01_{side}")).expect("each finger");
                assert_eq!(s.joints[first].parent, Some(hand), "{digit} hangs from the hand");
                let (a, b) = (at(&format!("{digit}_02_{side}")), at(&format!("{digit}_03_{side}")));
                assert!(b.x * sign > a.x * sign && a.x * sign > 1.1, "{digit}_{side} runs outwards: {a:?} {b:?}");
            }
            let z = |d: &str| at(&format!("{d}_03_{side}")).z;
            assert!(z("thumb") > 0.13, "the thumb is the one at the front: {}", z("thumb"));
            assert!(z("index") > z("middle") && z("middle") > z("ring") && z("ring") > z("pinky"), "index to pinky from the front");
        }
    }

    #[test]
    fn a_hand_without_separate_fingers_gets_no_finger_or_one_mitten_chain_when_asked() {
        let options = AutoSkeletonOptions { kind: SkeletonKind::Biped, ..Default::default() };
        let plain = skeleton_for_mesh(&figure(), &options).expect("fits");
        assert_eq!(plain.len(), biped::NAMES.len());
        let options = AutoSkeletonOptions { mitten: true, ..options };
        let s = skeleton_for_mesh(&figure(), &options).expect("fits");
        let names: Vec<&str> = s.joints.iter().skip(biped::NAMES.len()).map(|j| j.name.as_str()).collect();
        assert_eq!(names, ["middle_01_l", "middle_02_l", "middle_03_l", "middle_01_r", "middle_02_r", "middle_03_r"]);
        let pos = crate::autoskin::bones::bind_positions(&s);
        for side in ["l", "r"] {
            let at = |name: String| pos[s.find(&name).unwrap_or_else(|| panic!("no joint {name}"))];
            let (hand, first, last) = (at(format!("hand_{side}")), at(format!("middle_01_{side}")), at(format!("middle_03_{side}")));
            assert_eq!(s.joints[s.find(&format!("middle_01_{side}")).expect("chain")].parent, s.find(&format!("hand_{side}")));
            // Each joint further from the body's middle than the one before it.
            assert!(hand.x.abs() < first.x.abs() && first.x.abs() < last.x.abs(), "{side}: {hand:?} {first:?} {last:?}");
        }
    }

    #[test]
    fn feet_joined_at_the_soles_still_reach_the_ground() {
        // Boots that touch in the middle: the legs are apart only from the ankles up.
        let raised = figure_boxes().into_iter().map(|(lo, hi)| ([lo[0], lo[1] + 0.15, lo[2]], [hi[0], hi[1] + 0.15, hi[2]]));
        let boots = [([-0.32, 0.0, -0.12], [0.0, 0.2, 0.3]), ([0.0, 0.0, -0.12], [0.32, 0.2, 0.3])];
        let mesh = crate::test_shapes::box_mesh(&raised.chain(boots).collect::<Vec<_>>());
        let options = AutoSkeletonOptions { kind: SkeletonKind::Biped, ..Default::default() };
        let s = skeleton_for_mesh(&mesh, &options).expect("fits");
        let pos = crate::autoskin::bones::bind_positions(&s);
        let at = |name: &str| pos[s.find(name).unwrap_or_else(|| panic!("no joint {name}"))];
        for (foot, ball, side) in [("foot_l", "ball_l", 1.0), ("foot_r", "ball_r", -1.0)] {
            assert!(at(foot).y < 0.2 && at(foot).x * side > 0.05, "{foot} in its boot: {:?}", at(foot));
            assert!(at(ball).y < 0.1 && at(ball).z > 0.05, "{ball} towards the toe: {:?}", at(ball));
        }
    }

    #[test]
    fn a_shape_without_arms_falls_back_to_generic_or_says_why_the_biped_does_not_fit() {
        let auto = skeleton_for_mesh(&creature(), &AutoSkeletonOptions::default()).expect("auto never fails");
        assert_eq!(auto.joints[0].name, "root");
        let forced = AutoSkeletonOptions { kind: SkeletonKind::Biped, ..Default::default() };
        let err = skeleton_for_mesh(&creature(), &forced).expect_err("no arms");
        assert!(err.contains("biped template does not fit"), "{err}");
    }

    #[test]
    fn a_z_up_figure_fits_when_told_where_up_is() {
        let mut mesh = figure();
        mesh.positions.iter_mut().for_each(|p| *p = [p[0], -p[2], p[1]]);
        let options = AutoSkeletonOptions { kind: SkeletonKind::Biped, up: Some([0.0, 0.0, 1.0]), ..Default::default() };
        let s = skeleton_for_mesh(&mesh, &options).expect("fits with Z up");
        let pos = crate::autoskin::bones::bind_positions(&s);
        let hand_l = pos[s.find("hand_l").expect("named")];
        assert!(hand_l.x > 0.7, "{hand_l:?}");
    }

    /// The deforming joints' positions and the end markers' positions.
    fn deforming_and_ends(s: &Skeleton) -> (Vec<Vector3<f32>>, Vec<Vector3<f32>>) {
        let pos = crate::autoskin::bones::bind_positions(s);
        let (d, e): (Vec<usize>, Vec<usize>) = (0..s.len()).partition(|&j| s.joints[j].deform);
        (d.iter().map(|&j| pos[j]).collect(), e.iter().map(|&j| pos[j]).collect())
    }

    #[test]
    fn a_limbless_blob_gets_a_trunk_through_its_body_along_its_up_axis() {
        // A tall body with two thin horns on top, Y up.
        let blob = crate::test_shapes::subdivided(
            crate::test_shapes::box_mesh(&[
                ([-0.6, 0.0, -0.6], [0.6, 2.0, 0.6]),
                ([-0.5, 1.9, -0.1], [-0.3, 3.0, 0.1]),
                ([0.3, 1.9, -0.1], [0.5, 3.0, 0.1]),
            ]),
            3,
        );
        let s = skeleton_for_mesh(&blob, &AutoSkeletonOptions { kind: SkeletonKind::Generic, ..Default::default() }).expect("generic");
        s.validate().expect("parents first");
        let (deforming, ends) = deforming_and_ends(&s);
        let trunk: Vec<_> = deforming.iter().filter(|p| p.x.abs() < 0.15 && p.z.abs() < 0.15).collect();
        assert!(trunk.len() >= TRUNK_JOINTS, "a chain up the middle: {deforming:?}");
        let (lo, hi) = trunk.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| (lo.min(p.y), hi.max(p.y)));
        assert!(lo < 0.3 && hi > 1.2, "from the bottom of the body upwards: {lo} .. {hi}");
        assert!(ends.iter().filter(|p| p.y > 2.5).count() >= 2, "each horn ends in an end marker: {ends:?}");
    }

    #[test]
    fn a_body_lying_along_another_axis_gets_its_trunk_along_that_axis() {
        // A fish-like body three times longer along Z than it is tall, Y up.
        let fish = crate::test_shapes::subdivided(crate::test_shapes::box_mesh(&[([-0.3, 0.0, -2.0], [0.3, 1.2, 2.0])]), 3);
        let s = skeleton_for_mesh(&fish, &AutoSkeletonOptions { kind: SkeletonKind::Generic, ..Default::default() }).expect("generic");
        let (deforming, _) = deforming_and_ends(&s);
        let (lo, hi) = deforming.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| (lo.min(p.z), hi.max(p.z)));
        assert!(lo < -1.0 && hi > 1.0, "the trunk runs along Z: {deforming:?}");
        assert!(deforming.iter().all(|p| p.x.abs() < 0.2 && p.y > 0.2 && p.y < 1.0), "not up and down: {deforming:?}");
    }

    #[test]
    fn a_low_poly_tube_gets_joints_at_its_vertex_rings_only() {
        // A square tube 4 long with rings of vertices at y 0, 2 and 4 only (two boxes).
        let tube = crate::test_shapes::box_mesh(&[([-0.2, 0.0, -0.2], [0.2, 2.0, 0.2]), ([-0.2, 2.0, -0.2], [0.2, 4.0, 0.2])]);
        let s = skeleton_for_mesh(&tube, &AutoSkeletonOptions { kind: SkeletonKind::Generic, ..Default::default() }).expect("generic");
        let (deforming, ends) = deforming_and_ends(&s);
        let mut ys: Vec<f32> = deforming.iter().map(|p| p.y).collect();
        ys.sort_by(f32::total_cmp);
        assert_eq!(ys.len(), 2, "a joint at the bottom ring and one at the middle ring: {deforming:?}");
        assert!(ys[0] < 0.2 && (ys[1] - 2.0).abs() < 0.2, "{ys:?}");
        assert!(ends.len() == 1 && ends[0].y > 3.8, "the tube ends in an end marker: {ends:?}");
    }

    #[test]
    fn a_flat_strip_gets_one_chain_up_its_middle() {
        // A sheet 1 wide and 2 tall with a row of two vertices every 0.5, no thickness.
        let rows = 5u32;
        let positions: Vec<[f32; 3]> = (0..rows).flat_map(|r| [[-0.5, 0.5 * r as f32, 0.0], [0.5, 0.5 * r as f32, 0.0]]).collect();
        let triangles: Vec<[u32; 3]> = (0..rows - 1).flat_map(|r| [[2 * r, 2 * r + 1, 2 * r + 3], [2 * r, 2 * r + 3, 2 * r + 2]]).collect();
        let mut sheet = crate::test_shapes::box_mesh(&[]);
        let (n, t) = (positions.len() as u32, triangles.len() as u32);
        (sheet.positions, sheet.triangles) = (positions, triangles);
        (sheet.parts[0].vertices, sheet.parts[0].triangles) = (0..n, 0..t);
        let s = skeleton_for_mesh(&sheet, &AutoSkeletonOptions { kind: SkeletonKind::Generic, ..Default::default() }).expect("generic");
        assert!((0..s.len()).all(|j| s.children(j).count() <= 1), "one chain, no branch lying along it: {:?}", s.joints);
        let (deforming, ends) = deforming_and_ends(&s);
        assert!(deforming.len() <= rows as usize, "no more joints than rows of vertices: {deforming:?}");
        assert!(deforming.iter().chain(&ends).all(|p| p.x.abs() < 0.05), "up the middle: {deforming:?}");
    }

    #[test]
    fn generated_joints_are_inside_the_volume() {
        let mesh = creature();
        let s = skeleton_for_mesh(&mesh, &AutoSkeletonOptions::default()).expect("generic fallback");
        let inside = crate::metrics::joints_inside(&s, &mesh.positions, &mesh.triangles);
        assert!(inside >= 0.95, "{inside}");
    }
}
