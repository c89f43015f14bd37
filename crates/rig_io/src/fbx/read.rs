//! Binary FBX 7.x import: models, the LimbNode skeleton with its bind pose, skinned meshes
//! with their blend shapes, materials with embedded textures, and animation stacks,
//! converted to Y-up metres.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;

use fbxcel::tree::any::AnyTree;
use rig_core::{Joint, Rig, Skeleton, Trs};

use super::doc::{child_i32s, child_numbers, invalid, Doc, Object};
use super::transform::{local_matrix, ours_from_file, M4};
use super::{read_anim, read_mesh};
use crate::error::IoError;
use crate::Imported;

/// Reads a binary FBX file's bytes.
pub fn from_bytes(bytes: &[u8], name: &str) -> Result<Imported, IoError> {
    let version = check_header(bytes)?;
    super::layout::check(bytes, version)?;
    let tree = match AnyTree::from_seekable_reader(Cursor::new(bytes)) {
        Ok(AnyTree::V7400(_, tree, _)) => tree,
        Ok(_) => return Err(IoError::Unsupported("this FBX version is not supported; re-export as binary FBX 7.4".into())),
        Err(e) => return Err(invalid(format!("the file is damaged or truncated ({e})"))),
    };
    let doc = Doc::new(&tree)?;
    let mut warnings = Vec::new();
    let (ours_from_file, _) = ours_from_file(doc.root.first_child_by_name("GlobalSettings"));
    let scene = Scene::new(&doc, ours_from_file)?;
    let skeleton = scene.skeleton(&doc);
    let (mesh, weights, materials) = read_mesh::meshes(&doc, &scene, &skeleton, &mut warnings)?;
    let clips = read_anim::clips(&doc, &scene, &skeleton, &mut warnings);
    let skeleton = skeleton.skeleton;
    // The geometry is read as its model places it: the stored mesh is in scene space.
    let rig = Rig { name: name.to_string(), mesh, skeleton, weights, clips, materials, scene_from_mesh: Some(rig_core::Mat4::identity()) };
    rig.validate()?;
    Ok(Imported { rig, warnings })
}

const MAGIC: &[u8] = b"Kaydara FBX Binary  \0";

fn check_header(bytes: &[u8]) -> Result<u32, IoError> {
    if !bytes.starts_with(MAGIC) {
        let text = bytes.iter().take(256).all(|b| b.is_ascii());
        return Err(if text && bytes.windows(3).take(4096).any(|w| w == b"FBX") {
            IoError::Unsupported("this is an ASCII FBX file; Rigsmith reads binary FBX 7.1 or later (re-export as binary, e.g. Blender's FBX exporter or the FBX Converter)".into())
        } else {
            invalid("not an FBX file (no \"Kaydara FBX Binary\" header)")
        });
    }
    let version = bytes
        .get(23..27)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| invalid("the file ends inside its header"))?;
    if version < 7100 {
        return Err(IoError::Unsupported(format!(
            "FBX version {}.{} is too old; Rigsmith reads binary FBX 7.1 or later (re-export with a current FBX exporter)",
            version / 1000,
            version % 1000 / 100
        )));
    }
    if version >= 8000 {
        return Err(IoError::Unsupported(format!(
            "FBX version {}.{} is newer than Rigsmith knows (7.x)",
            version / 1000,
            version % 1000 / 100
        )));
    }
    Ok(version)
}

/// The model hierarchy: parents and rest world matrices (in our space).
pub struct Scene {
    pub ours_from_file: M4,
    pub parent: HashMap<i64, i64>,
    /// World matrices of every model at rest, in the file's space.
    pub world_file: HashMap<i64, M4>,
}

impl Scene {
    fn new(doc: &Doc, ours_from_file: M4) -> Result<Scene, IoError> {
        let models: Vec<i64> = doc.of_kind("Model").map(|o| o.id).collect();
        let mut parent = HashMap::new();
        for &m in &models {
            if let Some((p, _)) = doc.parents_of(m).find(|(p, prop)| p.kind == "Model" && prop.is_none()) {
                parent.insert(m, p.id);
            }
        }
        let mut world_file = HashMap::new();
        for &m in &models {
            let mut chain = vec![m];
            while let Some(p) = parent.get(chain.last().unwrap_or(&m)) {
                if chain.contains(p) || chain.len() > models.len() {
                    return Err(invalid(format!(
                        "model {:?} is its own ancestor (a cycle in Connections)",
                        doc.get(m).map_or("", |o| o.name)
                    )));
                }
                chain.push(*p);
            }
            let mut w = M4::identity();
            for id in chain.iter().rev() {
                w *= doc.get(*id).map_or_else(M4::identity, |o| local_matrix(o.node, None, None, None));
            }
            world_file.insert(m, w);
        }
        Ok(Scene { ours_from_file, parent, world_file })
    }

    /// The model's parent, grandparent and so on (`new` rejects cycles, so this ends).
    pub fn ancestors(&self, model: i64) -> impl Iterator<Item = i64> + '_ {
        std::iter::successors(self.parent.get(&model).copied(), |p| self.parent.get(p).copied())
    }

    /// A model's rest world matrix in the file's space (identity for an id that is no model).
    pub fn world_of(&self, model: i64) -> M4 {
        self.world_file.get(&model).copied().unwrap_or_else(M4::identity)
    }

    /// A file-space matrix in our space (conjugated by the axis and unit change).
    pub fn to_ours(&self, m: &M4) -> M4 {
        self.ours_from_file * m * self.ours_from_file.try_inverse().unwrap_or_else(M4::identity)
    }

    fn skeleton(&self, doc: &Doc) -> SkeletonMap {
        // A Null model linked by an empty cluster (Rigsmith links the armature above two
        // deforming subtrees so that the FBX SDK sees one skeleton) is no bone: Blender makes
        // it the armature object, and so does this reader.
        let null = |m: i64| doc.get(m).is_some_and(|o| matches!(o.class, "Null" | "Root"));
        let linked: Vec<i64> = doc
            .of_kind("Deformer")
            .filter(|o| o.class == "Cluster")
            .flat_map(|c| {
                let weighted = child_i32s(c.node, "Indexes").is_some_and(|i| !i.is_empty());
                cluster_models(doc, c).into_iter().filter(move |&m| weighted || !null(m))
            })
            .collect();
        let is_bone = |o: &Object| o.kind == "Model" && (o.class == "LimbNode" || linked.contains(&o.id));
        // Null models above the bones (an armature, a scaled group) are helper joints, as the
        // glTF reader keeps the non-joint nodes above a skin's joints.
        let mut helpers = HashSet::new();
        for o in doc.order.iter().filter_map(|id| doc.get(*id)).filter(|o| is_bone(o)) {
            for q in self.ancestors(o.id) {
                if helpers.contains(&q) {
                    break; // the rest of the chain was walked from an earlier bone
                }
                if doc.get(q).is_some_and(|m| m.kind == "Model" && matches!(m.class, "Null" | "Root")) {
                    helpers.insert(q);
                }
            }
        }
        let is_joint = |o: &Object| is_bone(o) || helpers.contains(&o.id);
        let joint_ids: Vec<i64> = doc.order.iter().copied().filter(|id| doc.get(*id).is_some_and(is_joint)).collect();
        let joint_parent = |id: i64| self.ancestors(id).find(|q| joint_ids.contains(q));
        // Parents first: depth-first from the roots, in file order.
        let mut order = Vec::new();
        let mut stack: Vec<i64> = joint_ids.iter().rev().copied().filter(|&j| joint_parent(j).is_none()).collect();
        while let Some(j) = stack.pop() {
            order.push(j);
            stack.extend(joint_ids.iter().rev().copied().filter(|&c| joint_parent(c) == Some(j)));
        }
        let index: HashMap<i64, usize> = order.iter().enumerate().map(|(i, &id)| (id, i)).collect();
        let bind = bind_matrices(doc);
        let world = |id: i64| self.to_ours(&self.world_file[&id]);
        // Bind matrices of joints that neither a cluster nor the bind pose lists (prop slots,
        // end markers): the file's Lcl is its current pose (Blender writes the active action's
        // first frame), so such a joint keeps its current offset from its parent, placed on the
        // parent's bind matrix, instead of sitting where the pose put it.
        let mut bind_worlds: Vec<M4> = Vec::with_capacity(order.len());
        for &id in &order {
            let b = match (bind.get(&id), joint_parent(id)) {
                (Some(b), _) => self.to_ours(b),
                (None, Some(p)) => bind_worlds[index[&p]] * world(p).try_inverse().unwrap_or_else(M4::identity) * world(id),
                (None, None) => world(id),
            };
            bind_worlds.push(b);
        }
        let joints = order
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                let parent = joint_parent(id).map(|p| index[&p]);
                let local = joint_parent(id).map_or_else(|| world(id), |p| world(p).try_inverse().unwrap_or_else(M4::identity) * world(id));
                let bind_world = bind_worlds[i];
                Joint {
                    name: doc.get(id).map_or("", |o| o.name).to_string(),
                    parent,
                    rest_local: Trs::from_matrix(&local.cast::<f32>()).unwrap_or(Trs::IDENTITY),
                    joint_from_mesh: bind_world.try_inverse().unwrap_or_else(M4::identity).cast::<f32>(),
                    deform: linked.contains(&id),
                    in_skin: linked.contains(&id) || doc.get(id).is_some_and(|o| o.class == "LimbNode"),
                }
            })
            .collect();
        SkeletonMap { skeleton: Skeleton { joints, ..Default::default() }, index, model_of_joint: order }
    }
}

/// The skeleton with the FBX model id of each joint.
pub struct SkeletonMap {
    pub skeleton: Skeleton,
    pub index: HashMap<i64, usize>,
    /// The FBX model id of each joint (the inverse of `index`).
    pub model_of_joint: Vec<i64>,
}

/// Models a cluster deforms with (normally one LimbNode).
pub fn cluster_models(doc: &Doc, cluster: &Object) -> Vec<i64> {
    doc.children_of(cluster.id).filter(|(o, _)| o.kind == "Model").map(|(o, _)| o.id).collect()
}

/// Bind-time world matrices (file space) of models: from clusters' TransformLink, else from
/// the bind pose.
fn bind_matrices(doc: &Doc) -> HashMap<i64, M4> {
    let mut out = HashMap::new();
    for pose in doc.of_kind("Pose").filter(|o| o.class == "BindPose") {
        for pn in pose.node.children_by_name("PoseNode") {
            let node = pn.first_child_by_name("Node").and_then(|n| n.attributes().first()).and_then(|a| a.get_i64());
            if let (Some(id), Some(m)) = (node, child_numbers(pn, "Matrix").and_then(matrix)) {
                out.insert(id, m);
            }
        }
    }
    for cluster in doc.of_kind("Deformer").filter(|o| o.class == "Cluster") {
        if let Some(link) = child_numbers(cluster.node, "TransformLink").and_then(matrix) {
            for m in cluster_models(doc, cluster) {
                out.insert(m, link);
            }
        }
    }
    out
}

/// A column-major 4x4 matrix from 16 numbers.
pub fn matrix(v: Vec<f64>) -> Option<M4> {
    (v.len() == 16 && v.iter().all(|x| x.is_finite())).then(|| M4::from_column_slice(&v))
}
