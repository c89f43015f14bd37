//! glTF 2.0 / GLB import into one [`Rig`]: every mesh instance becomes parts of one mesh,
//! every skin's joints one skeleton. Skinned primitives stay in mesh space; unskinned
//! meshes under a joint are bound rigidly to it; other unskinned meshes stay static.

mod accessor;
mod animation;
mod container;
mod glb;
mod materials;
mod nodes;
mod primitive;
mod skin;

use std::path::Path;

use gltf::json::Root;
use nalgebra::{Matrix3, Point3, Vector3};
use rig_core::{Mat4, Mesh, MeshGroup, MorphTarget, Part, Rig, SkinWeights};
use serde_json::Value;

pub use container::Container;
pub use materials::sniff_mime;
pub use skin::rigsmith_extras;

use crate::error::IoError;
use crate::Imported;
use accessor::Accessors;
use nodes::NodeForest;
use primitive::PrimitiveData;
use skin::SkinSetup;

/// Tolerance on a weight sum before a renormalisation is reported.
const WEIGHT_SUM_TOLERANCE: f32 = 1e-3;

/// Reads a .glb / .gltf / .vrm file.
pub fn load(path: &Path) -> Result<Imported, IoError> {
    let bytes = std::fs::read(path).map_err(|source| IoError::Read { path: path.to_path_buf(), source })?;
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    load_bytes(&bytes, path.parent(), &name)
}

/// Reads glTF from memory. External URIs resolve against `base_dir` when given.
pub fn load_bytes(bytes: &[u8], base_dir: Option<&Path>, name: &str) -> Result<Imported, IoError> {
    let container = Container::parse(bytes, base_dir)?;
    let mut warnings = Vec::new();
    let rig = build_rig(&container, name, &mut warnings)?;
    Ok(Imported { rig, warnings })
}

fn build_rig(c: &Container, name: &str, warnings: &mut Vec<String>) -> Result<Rig, IoError> {
    let acc = Accessors { root: &c.root, buffers: &c.buffers };
    let forest = NodeForest::build(&c.root, warnings)?;
    let setup = skin::build(&acc, &c.raw, &forest, warnings)?;
    let mut b = Builder {
        acc: &acc,
        raw: &c.raw,
        forest: &forest,
        setup: &setup,
        mesh: Mesh::default(),
        rows: Vec::new(),
        node_group: vec![None; c.root.nodes.len()],
    };
    for &node in &forest.order {
        b.add_node(node, warnings)?;
    }
    let Builder { mut mesh, rows, node_group, .. } = b;
    if mesh.triangles.is_empty() {
        return Err(IoError::Invalid("the file contains no triangle mesh (no primitive with triangles)".into()));
    }
    check_degenerate(&mesh, warnings)?;
    let mut weights = SkinWeights::from_rows(rows);
    report_normalization(&mut weights, warnings);
    let materials = materials::read(c, warnings);
    clamp_material_indices(&mut mesh, materials.materials.len(), warnings);
    let targets = animation::Targets { node_joint: &setup.node_joint, node_group: &node_group };
    let clips = animation::read_all(&acc, &targets, warnings)?;
    let mut rig = Rig { name: name.to_string(), mesh, skeleton: setup.skeleton.clone(), weights, clips, materials, scene_from_mesh: None };
    static_parts_into_mesh_space(&mut rig);
    let mut skin_from_mesh = Mat4::identity();
    if let Some(mesh_from_armature) = written_mesh_space(&c.raw) {
        if rig.change_mesh_space(&mesh_from_armature) {
            skin_from_mesh = mesh_from_armature.try_inverse().unwrap_or_else(Mat4::identity);
        }
    }
    let adopted = rig.adopt_skeleton_scale();
    if let Some(source) = &mut rig.skeleton.source_skin {
        source.skin_from_mesh = skin_from_mesh * Mat4::new_scaling(1.0 / adopted.unwrap_or(1.0));
    }
    if let Some(scale) = adopted {
        warnings.push(format!(
            "the skin binds the mesh at 1/{scale:.4} of its skeleton's scale (its inverse bind matrices leave out a scale of the \
             nodes above the joints); the mesh is stored at the skeleton's scale, posed results are unchanged"
        ));
    }
    rig.validate()?;
    let unweighted = rig.unweighted_skinned_vertices();
    if unweighted > 0 {
        warnings.push(format!("{unweighted} skinned vertices have no weight and will not follow the skeleton"));
    }
    Ok(rig)
}

/// Static parts are read where the scene places them; the rig keeps every part in its mesh
/// space, which [`Rig::display_from_mesh`] shows as the scene does, so they move by its inverse.
fn static_parts_into_mesh_space(rig: &mut Rig) {
    if rig.mesh.parts.iter().all(|p| p.skinned) {
        return;
    }
    let Some(mesh_from_scene) = rig.display_from_mesh().try_inverse() else { return };
    if (mesh_from_scene - Mat4::identity()).abs().max() <= 1e-7 {
        return;
    }
    rig.mesh.move_parts(&mesh_from_scene, |p| !p.skinned);
}

/// The map back to the rig's own mesh space that Rigsmith's writer records on a skin it wrote
/// in its armature's space (`extras.rigsmith.mesh_from_armature`).
fn written_mesh_space(raw: &Value) -> Option<Mat4> {
    let m = raw.get("skins")?.get(0)?.get("extras")?.get("rigsmith")?.get(crate::gltf_write::MESH_FROM_ARMATURE)?.as_array()?;
    let values: Vec<f32> = m.iter().map(|v| v.as_f64().map(|x| x as f32)).collect::<Option<_>>()?;
    (values.len() == 16 && values.iter().all(|v| v.is_finite()))
        .then(|| Mat4::from_column_slice(&values))
        .filter(|m| m.try_inverse().is_some())
}

fn check_degenerate(mesh: &Mesh, warnings: &mut Vec<String>) -> Result<(), IoError> {
    let degenerate = mesh.degenerate_triangle_count();
    if degenerate == mesh.triangle_count() {
        return Err(IoError::Invalid(format!("all {degenerate} triangles are degenerate (zero area or repeated corners): nothing to rig")));
    }
    if degenerate > 0 {
        warnings.push(format!("{degenerate} of {} triangles are degenerate (zero area)", mesh.triangle_count()));
    }
    Ok(())
}

fn report_normalization(weights: &mut SkinWeights, warnings: &mut Vec<String>) {
    let report = weights.normalize(WEIGHT_SUM_TOLERANCE);
    if report.renormalized > 0 {
        warnings.push(format!(
            "{} vertices had weights not summing to 1 (largest error {:.3e}); renormalised",
            report.renormalized, report.max_error
        ));
    }
}

fn clamp_material_indices(mesh: &mut Mesh, count: usize, warnings: &mut Vec<String>) {
    for p in mesh.parts.iter_mut() {
        if let Some(m) = p.material.filter(|&m| m >= count) {
            warnings.push(format!("part {:?} uses material {m}, but the file has {count}; material dropped", p.name));
            p.material = None;
        }
    }
}

/// How a node's vertices are placed and bound.
enum Binding {
    /// Skinned by skin `s`; positions pre-multiplied by `mesh_from_skin` (identity unless the
    /// skin's bind differs from the skeleton's canonical one).
    Skinned { skin: usize, mesh_from_skin: Mat4 },
    /// Moves rigidly with one joint.
    Rigid { joint: usize, mesh_from_node: Mat4 },
    /// Follows no joint: placed in model space.
    Static { model_from_node: Mat4 },
}

struct Builder<'a> {
    acc: &'a Accessors<'a>,
    raw: &'a Value,
    forest: &'a NodeForest,
    setup: &'a SkinSetup,
    mesh: Mesh,
    rows: Vec<Vec<(u32, f32)>>,
    node_group: Vec<Option<(usize, usize)>>,
}

impl<'a> Builder<'a> {
    fn root(&self) -> &'a Root {
        self.acc.root
    }

    fn add_node(&mut self, node: usize, warnings: &mut Vec<String>) -> Result<(), IoError> {
        let n = &self.root().nodes[node];
        let Some(mesh_index) = n.mesh.map(|m| m.value()) else { return Ok(()) };
        let gmesh = self.root().meshes.get(mesh_index).ok_or(IoError::BadIndex {
            what: format!("node {node}"),
            kind: "mesh",
            index: mesh_index,
            count: self.root().meshes.len(),
        })?;
        let binding = self.binding(node, warnings)?;
        let group = self.mesh.groups.len();
        let target_count = gmesh.primitives.first().and_then(|p| p.targets.as_ref()).map_or(0, Vec::len);
        self.mesh.groups.push(self.group(node, mesh_index, target_count));
        self.node_group[node] = Some((group, target_count));
        let mesh_name = gmesh.name.clone().unwrap_or_else(|| format!("mesh_{mesh_index}"));
        for (pi, p) in gmesh.primitives.iter().enumerate() {
            let label = format!("mesh {mesh_name:?} primitive {pi}");
            let Some(data) = primitive::read(self.acc, &label, p, warnings)? else { continue };
            let material = p.material.map(|m| m.value());
            let part_name = if gmesh.primitives.len() > 1 { format!("{mesh_name}.{pi}") } else { mesh_name.clone() };
            self.add_primitive(data, &binding, &label, part_name, group, material, target_count, warnings)?;
        }
        Ok(())
    }

    fn group(&self, node: usize, mesh: usize, target_count: usize) -> MeshGroup {
        let names = self
            .raw
            .get("meshes")
            .and_then(|m| m.get(mesh))
            .and_then(|m| m.get("extras"))
            .and_then(|e| e.get("targetNames"))
            .and_then(Value::as_array);
        let mut morph_target_names: Vec<String> = names.into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect();
        morph_target_names.truncate(target_count);
        while morph_target_names.len() < target_count {
            morph_target_names.push(format!("target_{}", morph_target_names.len()));
        }
        let defaults = self.root().nodes[node].weights.clone().or_else(|| self.root().meshes[mesh].weights.clone()).unwrap_or_default();
        let mut morph_default_weights = defaults;
        morph_default_weights.resize(target_count, 0.0);
        let name = self.root().nodes[node]
            .name
            .clone()
            .or_else(|| self.root().meshes[mesh].name.clone())
            .unwrap_or_else(|| format!("mesh_{mesh}"));
        MeshGroup { name, morph_target_names, morph_default_weights }
    }

    fn binding(&self, node: usize, warnings: &mut Vec<String>) -> Result<Binding, IoError> {
        let n = &self.root().nodes[node];
        if let Some(s) = n.skin.map(|s| s.value()) {
            if s >= self.setup.skin_joints.len() {
                return Err(IoError::BadIndex {
                    what: format!("node {node}"),
                    kind: "skin",
                    index: s,
                    count: self.setup.skin_joints.len(),
                });
            }
            return Ok(Binding::Skinned { skin: s, mesh_from_skin: self.mesh_from_skin(s, warnings) });
        }
        let joint_node = self.forest.ancestors_or_self(node).find(|&a| self.setup.node_joint[a].is_some());
        // A mesh under a transform node that no clip moves (a prop beside the armature under
        // the scene's root node) stays a static part: bound to that node, it would make a bone
        // of it in every export (Blender read Quaternius' tank with two extra bones).
        let carried = |jn: usize| {
            let joint = &self.setup.skeleton.joints[self.setup.node_joint[jn].unwrap_or(0)];
            joint.in_skin || self.forest.ancestors_or_self(jn).any(|a| self.animated(a))
        };
        Ok(match joint_node.filter(|&jn| carried(jn)) {
            Some(jn) => {
                let joint = self.setup.node_joint[jn].unwrap_or(0);
                let bind_from_joint = self.setup.skeleton.joints[joint].joint_from_mesh.try_inverse().unwrap_or_else(Mat4::identity);
                let joint_from_model = self.forest.world[jn].try_inverse().unwrap_or_else(Mat4::identity);
                Binding::Rigid { joint, mesh_from_node: bind_from_joint * joint_from_model * self.forest.world[node] }
            }
            None => Binding::Static { model_from_node: self.forest.world[node] },
        })
    }

    /// Whether an animation channel targets this node.
    fn animated(&self, node: usize) -> bool {
        self.root().animations.iter().flat_map(|a| &a.channels).any(|c| c.target.node.value() == node)
    }

    /// The matrix that maps skin `s`'s mesh space into the skeleton's canonical bind space.
    fn mesh_from_skin(&self, s: usize, warnings: &mut Vec<String>) -> Mat4 {
        let joints = &self.setup.skin_joints[s];
        let ibms = &self.setup.skin_ibms[s];
        let mut found: Option<Mat4> = None;
        for (&j, ibm) in joints.iter().zip(ibms) {
            let canonical = self.setup.skeleton.joints[j].joint_from_mesh;
            let a = canonical.try_inverse().unwrap_or_else(Mat4::identity) * ibm;
            match found {
                None => found = Some(a),
                Some(f) if (f - a).abs().max() > 1e-3 * (1.0 + f.abs().max()) => {
                    warnings.push(format!(
                        "skin {s} binds shared joints differently from an earlier skin; its mesh was re-bound approximately"
                    ));
                    return f;
                }
                _ => {}
            }
        }
        found.unwrap_or_else(Mat4::identity)
    }

    #[allow(clippy::too_many_arguments)]
    fn add_primitive(
        &mut self,
        mut d: PrimitiveData,
        binding: &Binding,
        label: &str,
        name: String,
        group: usize,
        material: Option<usize>,
        target_count: usize,
        warnings: &mut Vec<String>,
    ) -> Result<(), IoError> {
        let xf = match binding {
            Binding::Skinned { mesh_from_skin, .. } => *mesh_from_skin,
            Binding::Rigid { mesh_from_node, .. } => *mesh_from_node,
            Binding::Static { model_from_node } => *model_from_node,
        };
        transform_geometry(&mut d, &xf);
        let rows = self.weight_rows(&d, binding, label, warnings)?;
        if d.targets.len() != target_count {
            warnings.push(format!(
                "{label}: {} morph targets where the mesh's first primitive has {target_count}; targets dropped",
                d.targets.len()
            ));
            d.targets.clear();
        }
        let v0 = self.mesh.positions.len() as u32;
        let t0 = self.mesh.triangles.len() as u32;
        let part = Part {
            name,
            group: 0,
            material,
            vertices: 0..d.positions.len() as u32,
            triangles: 0..d.triangles.len() as u32,
            skinned: !matches!(binding, Binding::Static { .. }),
            morph_targets: d.targets.into_iter().map(|(p, n)| MorphTarget { position_deltas: p, normal_deltas: n }).collect(),
        };
        let piece = Mesh {
            positions: d.positions,
            normals: d.normals,
            uvs: d.uvs,
            colors: d.colors,
            extra_uvs: d.extra_uvs,
            extra_colors: d.extra_colors,
            triangles: d.triangles,
            parts: vec![part],
            groups: vec![],
        };
        self.mesh.append(&piece);
        if let Some(last) = self.mesh.parts.last_mut() {
            last.group = group;
            debug_assert_eq!(last.vertices.start, v0);
            debug_assert_eq!(last.triangles.start, t0);
        }
        self.rows.extend(rows);
        Ok(())
    }

    fn weight_rows(
        &self,
        d: &PrimitiveData,
        binding: &Binding,
        label: &str,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<Vec<(u32, f32)>>, IoError> {
        let n = d.positions.len();
        match binding {
            Binding::Static { .. } => Ok(vec![Vec::new(); n]),
            Binding::Rigid { joint, .. } => Ok(vec![vec![(*joint as u32, 1.0)]; n]),
            Binding::Skinned { skin, .. } => {
                if d.influences.is_empty() {
                    warnings.push(format!("{label}: skinned node but no JOINTS_0/WEIGHTS_0; its vertices are unweighted"));
                    return Ok(vec![Vec::new(); n]);
                }
                let map = &self.setup.skin_joints[*skin];
                let mut dropped = 0;
                let mut rows = Vec::with_capacity(n);
                for (v, row) in d.influences.iter().enumerate() {
                    let mut out = Vec::with_capacity(row.len());
                    for &(k, w) in row {
                        if !w.is_finite() || w < 0.0 {
                            dropped += 1;
                            continue;
                        }
                        if w == 0.0 {
                            continue;
                        }
                        let joint = map.get(k as usize).ok_or_else(|| {
                            IoError::Invalid(format!(
                                "{label}: vertex {v} is weighted to joint {k}, but skin {skin} has only {} joints",
                                map.len()
                            ))
                        })?;
                        out.push((*joint as u32, w));
                    }
                    rows.push(out);
                }
                if dropped > 0 {
                    warnings.push(format!("{label}: {dropped} NaN, infinite or negative weights dropped"));
                }
                Ok(rows)
            }
        }
    }
}

fn transform_geometry(d: &mut PrimitiveData, xf: &Mat4) {
    if *xf == Mat4::identity() {
        return;
    }
    let linear: Matrix3<f32> = xf.fixed_view::<3, 3>(0, 0).into_owned();
    let normal_xf = linear.try_inverse().map(|m| m.transpose()).unwrap_or(linear);
    for p in d.positions.iter_mut() {
        let q = xf.transform_point(&Point3::from(*p));
        *p = [q.x, q.y, q.z];
    }
    let apply = |m: &Matrix3<f32>, v: &mut [f32; 3], unit: bool| {
        let mut q = m * Vector3::from(*v);
        if unit {
            q = q.try_normalize(1e-12).unwrap_or(q);
        }
        *v = [q.x, q.y, q.z];
    };
    d.normals.iter_mut().for_each(|n| apply(&normal_xf, n, true));
    for (pos, nrm) in d.targets.iter_mut() {
        pos.iter_mut().for_each(|v| apply(&linear, v, false));
        nrm.iter_mut().for_each(|v| apply(&normal_xf, v, false));
    }
}
