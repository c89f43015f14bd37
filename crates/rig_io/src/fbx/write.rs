//! Binary FBX 7.4 export: one Mesh model per mesh object (see `objects`: with its geometry,
//! materials, a Skin deformer holding a cluster per deforming joint and a BlendShape deformer
//! holding its morph targets; see `write_shapes`), the joints as LimbNode models, a bind pose,
//! and every clip as an animation stack. Y-up, metres (UnitScaleFactor 100), as glTF.

use nalgebra::{UnitQuaternion, Vector3};
use rig_core::animation::{Channel, ChannelValues, Clip, Interpolation};
use rig_core::{Mat4, Part, Rig, Skeleton};

use super::node::{object_name, prop, prop_enum, prop_f64, prop_int, prop_string, prop_time, prop_vec3, properties70, Attr, Node};
use super::objects::MeshObject;
use super::write_shapes::{blend_shape_node, channel_node, shape_node, shape_targets};
use super::TICKS_PER_SECOND;
use crate::error::IoError;

/// Builds the file's top-level nodes. Returns them with warnings about what FBX output drops.
pub fn document(rig: &Rig) -> Result<(Vec<Node>, Vec<String>), IoError> {
    let mut doc = Doc::default();
    let joint_ids = doc.skeleton(rig);
    for object in super::objects::mesh_objects(rig) {
        doc.mesh_object(rig, &object, &joint_ids)?;
    }
    doc.bind_pose(rig, &joint_ids);
    for clip in &rig.clips {
        doc.clip(clip, &joint_ids);
    }
    if rig.clips.iter().any(|c| !c.morph_channels.is_empty()) {
        doc.warnings.push("morph weight animation is not written to FBX yet; it was left out".into());
    }
    let top = vec![
        header_extension(&rig.name),
        Node::leaf("FileId", Attr::Bytes(FILE_ID.to_vec())),
        Node::leaf("CreationTime", "1970-01-01 10:00:00:000"),
        Node::leaf("Creator", CREATOR),
        global_settings(doc.clip_end_ticks),
        documents(),
        Node::new("References", vec![]),
        definitions(&doc.counts),
        Node { name: "Objects".into(), attrs: vec![], children: doc.objects },
        Node { name: "Connections".into(), attrs: vec![], children: doc.connections },
        takes(&rig.clips),
    ];
    Ok((top, doc.warnings))
}

const CREATOR: &str = concat!("Rigsmith ", env!("CARGO_PKG_VERSION"));
/// The FileId every FBX writer stores (a fixed magic value).
const FILE_ID: [u8; 16] = [0x28, 0xb3, 0x2a, 0xeb, 0xb6, 0x24, 0xcc, 0xc2, 0xbf, 0xc8, 0xb0, 0x2a, 0xa9, 0x2b, 0xfc, 0xf1];

#[derive(Default)]
struct Doc {
    next_id: i64,
    objects: Vec<Node>,
    connections: Vec<Node>,
    /// Objects written per FBX class, for Definitions.
    counts: Vec<(&'static str, i32)>,
    mesh_models: Vec<i64>,
    /// Joints that get a cluster (see `clustered_joints`) and joints written as Null models
    /// (see `Rig::transform_nodes`); both set by `skeleton`.
    clustered_joints: Vec<bool>,
    null_joints: Vec<bool>,
    clip_end_ticks: i64,
    warnings: Vec<String>,
}

impl Doc {
    fn id(&mut self) -> i64 {
        self.next_id += 1;
        1_000_000 + self.next_id
    }

    fn add(&mut self, class: &'static str, node: Node) {
        match self.counts.iter_mut().find(|c| c.0 == class) {
            Some(c) => c.1 += 1,
            None => self.counts.push((class, 1)),
        }
        self.objects.push(node);
    }

    fn connect(&mut self, child: i64, parent: i64) {
        self.connections.push(Node::new("C", vec!["OO".into(), child.into(), parent.into()]));
    }

    fn connect_prop(&mut self, child: i64, parent: i64, property: &str) {
        self.connections.push(Node::new("C", vec!["OP".into(), child.into(), parent.into(), property.into()]));
    }

    /// Joint models and their attributes; returns each joint's model id. Helper joints above
    /// the deforming skeleton (an armature node) are Null models, the rest LimbNodes: Blender
    /// makes a Null parent of a skeleton its armature object, which can carry a scale that
    /// its bones cannot (a LimbNode root scaled by 0.3 came back with every bone misplaced).
    fn skeleton(&mut self, rig: &Rig) -> Vec<i64> {
        self.clustered_joints = clustered_joints(&rig.skeleton);
        // Transform nodes (`Rig::transform_nodes`) are Null models. Such a Null may still get a
        // cluster (`clustered_joints`) for the FBX SDK: Blender reads clusters of LimbNodes only,
        // so it still makes the Null its armature object rather than a bone.
        self.null_joints = rig.transform_nodes();
        let mut ids = Vec::with_capacity(rig.skeleton.len());
        for (index, j) in rig.skeleton.joints.iter().enumerate() {
            let (model, attr) = (self.id(), self.id());
            let (class, flags) = if self.null_joints[index] { ("Null", "Null") } else { ("LimbNode", "Skeleton") };
            let attr_node = Node::new("NodeAttribute", vec![attr.into(), object_name(&j.name, "NodeAttribute"), class.into()])
                .with(Node::leaf("TypeFlags", flags));
            self.add("NodeAttribute", attr_node);
            let t = &j.rest_local;
            let props = vec![
                prop_vec3("Lcl Translation", "Lcl Translation", "", "A", v3(&t.translation)),
                prop_vec3("Lcl Rotation", "Lcl Rotation", "", "A", euler_degrees(&t.rotation)),
                prop_vec3("Lcl Scaling", "Lcl Scaling", "", "A", v3(&t.scale)),
                prop_enum("InheritType", 1),
                prop_int("DefaultAttributeIndex", 0),
            ];
            self.add("Model", model_node(model, &j.name, class, props));
            self.connect(attr, model);
            self.connect(model, j.parent.map_or(0, |p| ids[p]));
            ids.push(model);
        }
        ids
    }

    fn mesh_object(&mut self, rig: &Rig, object: &MeshObject, joint_ids: &[i64]) -> Result<(), IoError> {
        let (model, geometry) = (self.id(), self.id());
        let parts: Vec<&Part> = object.parts.iter().map(|&p| &rig.mesh.parts[p]).collect();
        let props = vec![
            prop_vec3("Lcl Translation", "Lcl Translation", "", "A", [0.0; 3]),
            prop_vec3("Lcl Rotation", "Lcl Rotation", "", "A", [0.0; 3]),
            prop_vec3("Lcl Scaling", "Lcl Scaling", "", "A", [1.0; 3]),
            prop_enum("InheritType", 1),
            prop_int("DefaultAttributeIndex", 0),
        ];
        self.add("Model", model_node(model, &object.name, "Mesh", props));
        self.add("Geometry", super::write_mesh::geometry(geometry, &object.name, &rig.mesh, &parts)?);
        self.connect(model, 0);
        self.connect(geometry, model);
        self.mesh_models.push(model);
        for m in parts.iter().filter_map(|p| p.material.filter(|&m| m < rig.materials.materials.len())) {
            let material = self.material(rig, m);
            self.connect(material, model);
        }
        if parts.iter().all(|p| p.skinned) && !rig.skeleton.is_empty() {
            self.skin(rig, &parts, geometry, joint_ids);
        }
        self.blend_shapes(rig, &parts, geometry, &object.name);
        Ok(())
    }

    /// A BlendShape deformer on `geometry` (made of `parts`, their vertices in order) with a
    /// channel and a shape per morph target; nothing when the parts have no targets.
    fn blend_shapes(&mut self, rig: &Rig, parts: &[&Part], geometry: i64, name: &str) {
        let (targets, non_finite) = shape_targets(&rig.mesh, parts);
        if targets.is_empty() {
            return;
        }
        if non_finite > 0 {
            self.warnings.push(format!("mesh {name:?}: {non_finite} morph target offsets were not finite numbers; written as zero"));
        }
        let deformer = self.id();
        self.add("Deformer", blend_shape_node(deformer, name));
        self.connect(deformer, geometry);
        for target in &targets {
            let (channel, shape) = (self.id(), self.id());
            self.add("Deformer", channel_node(channel, target));
            self.add("Geometry", shape_node(shape, target));
            self.connect(channel, deformer);
            self.connect(shape, channel);
        }
    }

    fn material(&mut self, rig: &Rig, index: usize) -> i64 {
        let m = &rig.materials.materials[index];
        let id = self.id();
        let c = m.base_color;
        let props = vec![
            prop_string("ShadingModel", "Phong"),
            prop_vec3("DiffuseColor", "Color", "", "A", [c[0] as f64, c[1] as f64, c[2] as f64]),
            prop_f64("DiffuseFactor", 1.0),
            prop_f64("TransparencyFactor", 1.0 - c[3] as f64),
            prop_f64("Opacity", c[3] as f64),
        ];
        let node = Node::new("Material", vec![id.into(), object_name(&m.name, "Material"), "".into()])
            .with(Node::leaf("Version", 102))
            .with(Node::leaf("ShadingModel", "phong"))
            .with(Node::leaf("MultiLayer", 0))
            .with(properties70(props));
        self.add("Material", node);
        if let Some(image) = m.base_color_texture.and_then(|t| texture_image(rig, t)) {
            let texture = self.texture(image);
            self.connect_prop(texture, id, "DiffuseColor");
        }
        id
    }

    /// A Texture with its image embedded in a Video object.
    fn texture(&mut self, image: &rig_core::Image) -> i64 {
        let (texture, video) = (self.id(), self.id());
        let ext = if image.mime_type.contains("jpeg") { "jpg" } else { "png" };
        let file = format!("{}.{ext}", if image.name.is_empty() { "texture" } else { &image.name });
        let video_node = Node::new("Video", vec![video.into(), object_name(&image.name, "Video"), "Clip".into()])
            .with(Node::leaf("Type", "Clip"))
            .with(properties70(vec![prop("Path", "KString", "XRefUrl", "", vec![file.as_str().into()])]))
            .with(Node::leaf("UseMipMap", 0))
            .with(Node::leaf("Filename", file.as_str()))
            .with(Node::leaf("RelativeFilename", file.as_str()))
            .with(Node::leaf("Content", Attr::Bytes(image.bytes.clone())));
        self.add("Video", video_node);
        let texture_node = Node::new("Texture", vec![texture.into(), object_name(&image.name, "Texture"), "".into()])
            .with(Node::leaf("Type", "TextureVideoClip"))
            .with(Node::leaf("Version", 202))
            .with(Node::leaf("TextureName", object_name(&image.name, "Texture")))
            .with(properties70(vec![prop_enum("CurrentTextureBlendMode", 0), prop_string("UVSet", "UVMap")]))
            .with(Node::leaf("Media", object_name(&image.name, "Video")))
            .with(Node::leaf("FileName", file.as_str()))
            .with(Node::leaf("RelativeFilename", file.as_str()));
        self.add("Texture", texture_node);
        self.connect(video, texture);
        texture
    }

    /// A Skin deformer on `geometry` (made of `parts`, their vertices in order) with one
    /// cluster per deforming joint.
    fn skin(&mut self, rig: &Rig, parts: &[&Part], geometry: i64, joint_ids: &[i64]) {
        let skin = self.id();
        let skin_node = Node::new("Deformer", vec![skin.into(), object_name("Skin", "Deformer"), "Skin".into()])
            .with(Node::leaf("Version", 101))
            .with(Node::leaf("Link_DeformAcuracy", 50.0));
        self.add("Deformer", skin_node);
        self.connect(skin, geometry);
        let joints = rig.skeleton.len();
        let (mut indexes, mut weights) = (vec![Vec::new(); joints], vec![Vec::new(); joints]);
        // A skinned vertex without weight is bound to the root joint, as the glTF export does:
        // left out of every cluster, readers divide by a zero weight sum (FBX2glTF wrote NaN).
        let root = (0..joints).find(|&j| self.clustered_joints[j] && rig.skeleton.joints[j].deform);
        let mut unweighted = 0;
        let vertices = parts.iter().flat_map(|p| p.vertices.clone());
        for (point, v) in vertices.enumerate() {
            let (js, ws) = rig.weights.row(v as usize);
            let before = indexes.iter().map(Vec::len).sum::<usize>();
            for (&j, &w) in js.iter().zip(ws) {
                if w > 0.0 && (j as usize) < joints {
                    indexes[j as usize].push(point as i32);
                    weights[j as usize].push(w as f64);
                }
            }
            if let Some(r) = root.filter(|_| indexes.iter().map(Vec::len).sum::<usize>() == before) {
                indexes[r].push(point as i32);
                weights[r].push(1.0);
                unweighted += 1;
            }
        }
        if unweighted > 0 {
            let name = root.map_or("", |r| rig.skeleton.joints[r].name.as_str());
            self.warnings.push(format!("{unweighted} skinned vertices had no weight; bound to the root joint {name:?} in the file"));
        }
        for (j, joint) in rig.skeleton.joints.iter().enumerate() {
            if !self.clustered_joints[j] && indexes[j].is_empty() {
                continue;
            }
            let cluster = self.id();
            let bind = bind_matrix(rig, j);
            let node = Node::new("Deformer", vec![cluster.into(), object_name(&joint.name, "SubDeformer"), "Cluster".into()])
                .with(Node::leaf("Version", 100))
                .with(Node::new("UserData", vec!["".into(), "".into()]))
                .with(Node::leaf("Indexes", Attr::ArrI32(std::mem::take(&mut indexes[j]))))
                .with(Node::leaf("Weights", Attr::ArrF64(std::mem::take(&mut weights[j]))))
                .with(Node::leaf("Transform", matrix(&joint_from_mesh(rig, j, &bind))))
                .with(Node::leaf("TransformLink", matrix(&bind)));
            // Blender takes the bind matrix of the Null it turns into the armature from here;
            // without it, it uses that Null's local matrix, wrong under a rotated parent.
            let armature = std::iter::successors(joint.parent, |&p| rig.skeleton.joints[p].parent).find(|&a| self.null_joints[a]);
            let node = match armature {
                Some(a) => node.with(Node::leaf("TransformAssociateModel", matrix(&bind_matrix(rig, a)))),
                None => node,
            };
            self.add("Deformer", node);
            self.connect(cluster, skin);
            self.connect(joint_ids[j], cluster);
        }
    }

    /// The bind pose: every mesh model at identity and every joint at its bind matrix.
    fn bind_pose(&mut self, rig: &Rig, joint_ids: &[i64]) {
        if rig.skeleton.is_empty() {
            return;
        }
        let id = self.id();
        let mut pose = Node::new("Pose", vec![id.into(), object_name("BindPose", "Pose"), "BindPose".into()])
            .with(Node::leaf("Type", "BindPose"))
            .with(Node::leaf("Version", 100))
            .with(Node::leaf("NbPoseNodes", (self.mesh_models.len() + joint_ids.len()) as i32));
        let pose_node =
            |node: i64, m: &Mat4| Node::new("PoseNode", vec![]).with(Node::leaf("Node", node)).with(Node::leaf("Matrix", matrix(m)));
        for &m in &self.mesh_models {
            pose.push(pose_node(m, &Mat4::identity()));
        }
        for (j, &model) in joint_ids.iter().enumerate() {
            pose.push(pose_node(model, &bind_matrix(rig, j)));
        }
        self.add("Pose", pose);
    }

    /// An animation stack with one layer; a curve node per animated joint property.
    fn clip(&mut self, clip: &Clip, joint_ids: &[i64]) {
        let (stack, layer) = (self.id(), self.id());
        let (start, stop) = clip_span(clip);
        self.clip_end_ticks = self.clip_end_ticks.max(stop);
        let props = vec![
            prop_time("LocalStart", start),
            prop_time("LocalStop", stop),
            prop_time("ReferenceStart", start),
            prop_time("ReferenceStop", stop),
        ];
        self.add(
            "AnimationStack",
            Node::new("AnimationStack", vec![stack.into(), object_name(&clip.name, "AnimStack"), "".into()]).with(properties70(props)),
        );
        // An empty Properties70 gives the layer the `{}` scope other readers require.
        let layer_node =
            Node::new("AnimationLayer", vec![layer.into(), object_name("BaseLayer", "AnimLayer"), "".into()]).with(properties70(vec![]));
        self.add("AnimationLayer", layer_node);
        self.connect(layer, stack);
        for channel in clip.channels.iter().filter(|c| c.joint < joint_ids.len() && !c.times.is_empty()) {
            let (property, short, keys) = channel_keys(channel);
            let node = self.id();
            let first = keys.first().map_or([0.0; 3], |k| k.1);
            let comps = ["d|X", "d|Y", "d|Z"];
            let props = (0..3).map(|k| prop(comps[k], "Number", "", "A", vec![Attr::F64(first[k])])).collect();
            self.add(
                "AnimationCurveNode",
                Node::new("AnimationCurveNode", vec![node.into(), object_name(short, "AnimCurveNode"), "".into()])
                    .with(properties70(props)),
            );
            self.connect(node, layer);
            self.connect_prop(node, joint_ids[channel.joint], property);
            for (k, comp) in comps.iter().enumerate() {
                let curve = self.id();
                let flag = if channel.interpolation == Interpolation::Step { KEY_CONSTANT } else { KEY_LINEAR };
                self.add("AnimationCurve", curve_node(curve, &keys, k, flag));
                self.connect_prop(curve, node, comp);
            }
        }
    }
}

/// Key flags: linear interpolation (with auto tangents), or constant.
const KEY_LINEAR: i32 = 0x0000_0104 | 0x6000;
const KEY_CONSTANT: i32 = 0x0000_0002 | 0x6000;

fn curve_node(id: i64, keys: &[(i64, [f64; 3])], component: usize, flag: i32) -> Node {
    Node::new("AnimationCurve", vec![id.into(), object_name("", "AnimCurve"), "".into()])
        .with(Node::leaf("Default", keys.first().map_or(0.0, |k| k.1[component])))
        .with(Node::leaf("KeyVer", 4008))
        .with(Node::leaf("KeyTime", Attr::ArrI64(keys.iter().map(|k| k.0).collect())))
        .with(Node::leaf("KeyValueFloat", Attr::ArrF32(keys.iter().map(|k| k.1[component] as f32).collect())))
        .with(Node::leaf("KeyAttrFlags", Attr::ArrI32(vec![flag])))
        .with(Node::leaf("KeyAttrDataFloat", Attr::ArrF32(vec![0.0, 0.0, f32::from_bits(218_434_821), 0.0])))
        .with(Node::leaf("KeyAttrRefCount", Attr::ArrI32(vec![keys.len() as i32])))
}

/// The FBX property a channel drives, its curve node name, and its keys (times in FBX
/// ticks; rotations as continuous XYZ Euler angles in degrees).
fn channel_keys(c: &Channel) -> (&'static str, &'static str, Vec<(i64, [f64; 3])>) {
    let at = |i: usize| if c.interpolation == Interpolation::CubicSpline { 3 * i + 1 } else { i };
    let times = c.times.iter().map(|&t| ticks(t));
    match &c.values {
        ChannelValues::Translation(v) => {
            ("Lcl Translation", "T", times.enumerate().map(|(i, t)| (t, v[at(i)].map(|x| x as f64))).collect())
        }
        ChannelValues::Scale(v) => ("Lcl Scaling", "S", times.enumerate().map(|(i, t)| (t, v[at(i)].map(|x| x as f64))).collect()),
        ChannelValues::Rotation(v) => {
            let mut keys: Vec<(i64, [f64; 3])> = Vec::with_capacity(c.times.len());
            for (i, t) in times.enumerate() {
                let q = v[at(i)];
                let q = UnitQuaternion::from_quaternion(nalgebra::Quaternion::new(q[3], q[0], q[1], q[2]));
                let mut e = euler_degrees(&q);
                if let Some(prev) = keys.last() {
                    e = closest_euler(e, prev.1);
                }
                keys.push((t, e));
            }
            ("Lcl Rotation", "R", keys)
        }
    }
}

/// Of the two XYZ Euler triples of the same rotation (and their 360-degree turns), the one
/// closest to `prev`, so that interpolated curves do not spin the long way round.
fn closest_euler(e: [f64; 3], prev: [f64; 3]) -> [f64; 3] {
    let alt = [e[0] + 180.0, 180.0 - e[1], e[2] + 180.0];
    let wrap = |a: f64, p: f64| a + 360.0 * ((p - a) / 360.0).round();
    let near = |c: [f64; 3]| {
        let w = [wrap(c[0], prev[0]), wrap(c[1], prev[1]), wrap(c[2], prev[2])];
        let d = (0..3).map(|k| (w[k] - prev[k]).powi(2)).sum::<f64>();
        (w, d)
    };
    let (a, da) = near(e);
    let (b, db) = near(alt);
    if db < da {
        b
    } else {
        a
    }
}

fn ticks(secs: f32) -> i64 {
    (secs as f64 * TICKS_PER_SECOND as f64).round() as i64
}

fn v3(v: &Vector3<f32>) -> [f64; 3] {
    [v.x as f64, v.y as f64, v.z as f64]
}

/// Euler angles in degrees for FBX's default XYZ order (R = Rz * Ry * Rx), computed with
/// `atan2` on every angle so that rotations near 90 degrees of pitch keep their precision.
pub fn euler_degrees(q: &UnitQuaternion<f32>) -> [f64; 3] {
    let r = UnitQuaternion::new_normalize(q.into_inner().cast::<f64>()).to_rotation_matrix().into_inner();
    let cos_y = (r[(2, 1)] * r[(2, 1)] + r[(2, 2)] * r[(2, 2)]).sqrt();
    let y = (-r[(2, 0)]).atan2(cos_y);
    let (x, z) = if cos_y > 1e-9 {
        (r[(2, 1)].atan2(r[(2, 2)]), r[(1, 0)].atan2(r[(0, 0)]))
    } else {
        // Gimbal lock: only x + z (or x - z) is defined; put it all in x.
        ((-r[(1, 2)]).atan2(r[(1, 1)]), 0.0)
    };
    [x.to_degrees(), y.to_degrees(), z.to_degrees()]
}

/// A column-major 4x4 matrix as FBX stores it.
fn matrix(m: &Mat4) -> Attr {
    Attr::ArrF64(m.as_slice().iter().map(|&x| x as f64).collect())
}

/// Joints that get a cluster: the deforming ones, plus the non-deforming joints between them
/// and their lowest common ancestor, so that the cluster links form one tree. The FBX SDK
/// (and FBX2glTF on top of it) takes the first link without a linked parent as the skin's
/// root; with several such links (a quadruped's body and its IK bones under a non-deforming
/// armature joint) its skeleton root would not contain them all.
fn clustered_joints(skeleton: &Skeleton) -> Vec<bool> {
    let mut clustered: Vec<bool> = skeleton.joints.iter().map(|j| j.deform).collect();
    let tops: Vec<usize> =
        (0..skeleton.len()).filter(|&j| clustered[j] && skeleton.joints[j].parent.is_none_or(|p| !clustered[p])).collect();
    if tops.len() < 2 {
        return clustered;
    }
    let chain = |mut j: usize| {
        let mut up = vec![j];
        while let Some(p) = skeleton.joints[j].parent {
            up.push(p);
            j = p;
        }
        up.reverse();
        up
    };
    let chains: Vec<Vec<usize>> = tops.iter().map(|&t| chain(t)).collect();
    let common = (0..chains[0].len()).take_while(|&i| chains.iter().all(|c| c.get(i) == Some(&chains[0][i]))).count();
    if common == 0 {
        return clustered; // several root joints: no single tree to make
    }
    for c in &chains {
        for &j in &c[common - 1..] {
            clustered[j] = true;
        }
    }
    clustered
}

/// The joint's world matrix at bind time: the inverse of its inverse bind matrix when it is
/// a deforming joint with a usable one, else its parent's bind matrix times its rest local.
fn bind_matrix(rig: &Rig, joint: usize) -> Mat4 {
    let j = &rig.skeleton.joints[joint];
    if j.deform {
        if let Some(m) = j.joint_from_mesh.try_inverse() {
            return m;
        }
    }
    let local = j.rest_local.to_matrix();
    j.parent.map_or(local, |p| bind_matrix(rig, p) * local)
}

fn joint_from_mesh(rig: &Rig, joint: usize, bind: &Mat4) -> Mat4 {
    let j = &rig.skeleton.joints[joint];
    if j.deform && j.joint_from_mesh.try_inverse().is_some() {
        j.joint_from_mesh
    } else {
        bind.try_inverse().unwrap_or_else(Mat4::identity)
    }
}

fn model_node(id: i64, name: &str, kind: &str, props: Vec<Node>) -> Node {
    Node::new("Model", vec![id.into(), object_name(name, "Model"), kind.into()])
        .with(Node::leaf("Version", 232))
        .with(properties70(props))
        .with(Node::leaf("Shading", Attr::Bool(true)))
        .with(Node::leaf("Culling", "CullingOff"))
}

fn header_extension(name: &str) -> Node {
    let stamp = Node::new("CreationTimeStamp", vec![])
        .with(Node::leaf("Version", 1000))
        .with(Node::leaf("Year", 1970))
        .with(Node::leaf("Month", 1))
        .with(Node::leaf("Day", 1))
        .with(Node::leaf("Hour", 10))
        .with(Node::leaf("Minute", 0))
        .with(Node::leaf("Second", 0))
        .with(Node::leaf("Millisecond", 0));
    let scene_info = Node::new("SceneInfo", vec![object_name("GlobalInfo", "SceneInfo"), "UserData".into()])
        .with(Node::leaf("Type", "UserData"))
        .with(Node::leaf("Version", 100))
        .with(Node::new("MetaData", vec![]).with(Node::leaf("Version", 100)).with(Node::leaf("Title", name)))
        .with(properties70(vec![prop("DocumentUrl", "KString", "Url", "", vec!["".into()])]));
    Node::new("FBXHeaderExtension", vec![])
        .with(Node::leaf("FBXHeaderVersion", 1003))
        .with(Node::leaf("FBXVersion", 7400))
        .with(Node::leaf("EncryptionType", 0))
        .with(stamp)
        .with(Node::leaf("Creator", CREATOR))
        .with(scene_info)
}

fn global_settings(end_ticks: i64) -> Node {
    let props = vec![
        prop_int("UpAxis", 1),
        prop_int("UpAxisSign", 1),
        prop_int("FrontAxis", 2),
        prop_int("FrontAxisSign", 1),
        prop_int("CoordAxis", 0),
        prop_int("CoordAxisSign", 1),
        prop_int("OriginalUpAxis", 1),
        prop_int("OriginalUpAxisSign", 1),
        prop_f64("UnitScaleFactor", 100.0),
        prop_f64("OriginalUnitScaleFactor", 100.0),
        prop_vec3("AmbientColor", "ColorRGB", "Color", "", [0.0; 3]),
        prop_string("DefaultCamera", "Producer Perspective"),
        prop_enum("TimeMode", 11),
        prop_time("TimeSpanStart", 0),
        prop_time("TimeSpanStop", end_ticks.max(TICKS_PER_SECOND)),
        prop_f64("CustomFrameRate", 24.0),
    ];
    Node::new("GlobalSettings", vec![]).with(Node::leaf("Version", 1000)).with(properties70(props))
}

fn documents() -> Node {
    let doc = Node::new("Document", vec![1_000_000i64.into(), "Scene".into(), "Scene".into()])
        .with(properties70(vec![prop("SourceObject", "object", "", "", vec![]), prop_string("ActiveAnimStackName", "")]))
        .with(Node::leaf("RootNode", 0i64));
    Node::new("Documents", vec![]).with(Node::leaf("Count", 1)).with(doc)
}

fn definitions(counts: &[(&'static str, i32)]) -> Node {
    let total: i32 = counts.iter().map(|c| c.1).sum::<i32>() + 1;
    let mut defs = Node::new("Definitions", vec![]).with(Node::leaf("Version", 100)).with(Node::leaf("Count", total));
    defs.push(Node::new("ObjectType", vec!["GlobalSettings".into()]).with(Node::leaf("Count", 1)));
    for (class, n) in counts {
        let mut object_type = Node::new("ObjectType", vec![(*class).into()]).with(Node::leaf("Count", *n));
        if let Some(template) = template(class) {
            object_type.push(template);
        }
        defs.push(object_type);
    }
    defs
}

/// Property templates Autodesk's reader needs to build some objects' properties.
fn template(class: &str) -> Option<Node> {
    let (name, props) = match class {
        "AnimationStack" => (
            "FbxAnimStack",
            vec![
                prop_string("Description", ""),
                prop_time("LocalStart", 0),
                prop_time("LocalStop", 0),
                prop_time("ReferenceStart", 0),
                prop_time("ReferenceStop", 0),
            ],
        ),
        "AnimationLayer" => (
            "FbxAnimLayer",
            vec![prop("Weight", "Number", "", "A", vec![Attr::F64(100.0)]), prop("Mute", "bool", "", "", vec![Attr::I32(0)])],
        ),
        // Curves connect to the d|X, d|Y, d|Z members of this compound.
        "AnimationCurveNode" => ("FbxAnimCurveNode", vec![prop("d", "Compound", "", "", vec![])]),
        _ => return None,
    };
    Some(Node::new("PropertyTemplate", vec![name.into()]).with(properties70(props)))
}

/// A clip's stack time span in ticks. A single-pose clip (a Godot "RESET") gets one frame at
/// 24 fps: assimp drops stacks whose stop equals their start.
fn clip_span(clip: &Clip) -> (i64, i64) {
    let start = ticks(clip.start_secs().min(0.0));
    (start, ticks(clip.duration_secs()).max(start + TICKS_PER_SECOND / 24))
}

fn takes(clips: &[Clip]) -> Node {
    let mut takes = Node::new("Takes", vec![]).with(Node::leaf("Current", ""));
    for c in clips {
        let (start, stop) = clip_span(c);
        takes.push(
            Node::new("Take", vec![c.name.as_str().into()])
                .with(Node::leaf("FileName", format!("{}.tak", c.name)))
                .with(Node::new("LocalTime", vec![start.into(), stop.into()]))
                .with(Node::new("ReferenceTime", vec![start.into(), stop.into()])),
        );
    }
    takes
}

/// The image behind glTF texture `t` of the material library.
fn texture_image(rig: &Rig, t: usize) -> Option<&rig_core::Image> {
    let json: serde_json::Value = serde_json::from_str(rig.materials.textures_json.get(t)?).ok()?;
    rig.materials.images.get(json.get("source")?.as_u64()? as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fbx::transform::euler;
    use std::f32::consts::FRAC_PI_2;

    #[test]
    fn euler_angles_rebuild_the_rotation_even_near_gimbal_lock() {
        let axes = [Vector3::x_axis(), Vector3::y_axis(), Vector3::z_axis()];
        let mut worst: f64 = 0.0;
        for (i, pitch) in [0.0f32, 0.7, FRAC_PI_2 - 1e-4, FRAC_PI_2, -FRAC_PI_2, 3.0].iter().enumerate() {
            let q = UnitQuaternion::from_axis_angle(&axes[i % 3], 0.3) * UnitQuaternion::from_euler_angles(0.4, *pitch, -1.1);
            let rebuilt = euler(euler_degrees(&q), 0);
            let exact = UnitQuaternion::new_normalize(q.into_inner().cast::<f64>()).to_homogeneous();
            worst = worst.max((rebuilt - exact).abs().max());
        }
        assert!(worst < 1e-9, "largest matrix difference {worst}");
    }

    fn skeleton(parents_and_deform: &[(Option<usize>, bool)]) -> Skeleton {
        let joints = parents_and_deform
            .iter()
            .enumerate()
            .map(|(i, &(parent, deform))| rig_core::Joint {
                name: format!("j{i}"),
                parent,
                rest_local: Default::default(),
                joint_from_mesh: Mat4::identity(),
                deform,
                in_skin: true,
            })
            .collect();
        Skeleton { joints, ..Default::default() }
    }

    #[test]
    fn an_armature_node_stays_a_null_even_when_it_joins_the_clusters() {
        // armature(0, not a bone) -> hips(1) -> spine(2); armature -> ik_target(3, a bone, no weights)
        let mut s = skeleton(&[(None, false), (Some(0), true), (Some(1), true), (Some(0), true)]);
        s.joints[0].in_skin = false;
        let rig = Rig { skeleton: s, ..Default::default() };
        let clustered = clustered_joints(&rig.skeleton);
        assert!(clustered[0], "the armature joins the two subtrees for the FBX SDK");
        // Blender makes bones of LimbNodes only: the armature must be a Null, the IK target a bone.
        assert_eq!(rig.transform_nodes(), vec![true, false, false, false]);
    }

    /// armature (a transform node) -> hips -> spine, armature -> ik (a bone without weights);
    /// a triangle on hips and spine, and a fourth vertex without weight.
    fn armature_rig() -> Rig {
        let mut skeleton = skeleton(&[(None, false), (Some(0), true), (Some(1), true), (Some(0), true)]);
        skeleton.joints[0].in_skin = false;
        for (j, y) in [(1, 1.0), (2, 1.0), (3, 0.5)] {
            skeleton.joints[j].rest_local.translation.y = y;
        }
        skeleton.bind_to_rest();
        let mesh = rig_core::Mesh {
            positions: vec![[0.0, 1.0, 0.0], [0.1, 2.0, 0.0], [-0.1, 2.0, 0.0], [0.0, 1.5, 0.1]],
            triangles: vec![[0, 1, 2], [0, 2, 3]],
            parts: vec![Part {
                name: "body".into(),
                group: 0,
                material: None,
                vertices: 0..4,
                triangles: 0..2,
                skinned: true,
                morph_targets: vec![],
            }],
            groups: vec![rig_core::MeshGroup { name: "body".into(), ..Default::default() }],
            ..Default::default()
        };
        let weights = rig_core::SkinWeights::from_rows(vec![vec![(1, 1.0)], vec![(2, 1.0)], vec![(1, 0.5), (2, 0.5)], vec![]]);
        Rig { mesh, skeleton, weights, ..Default::default() }
    }

    #[test]
    fn an_armature_read_back_is_no_bone_and_an_unweighted_vertex_follows_the_root() {
        let (top, warnings) = document(&armature_rig()).expect("writes");
        assert!(warnings.iter().any(|w| w.contains("1 skinned vertices had no weight")), "{warnings:?}");
        let back = crate::fbx::from_bytes(&super::super::node::to_binary(&top).expect("encodes"), "t").expect("reads").rig;
        let armature = &back.skeleton.joints[back.skeleton.find("j0").expect("armature kept")];
        assert!(!armature.deform && !armature.in_skin, "{armature:?}");
        let hips = back.skeleton.find("j1").expect("hips") as u32;
        assert_eq!(back.weights.row_pairs(3), vec![(hips, 1.0)]);
    }

    #[test]
    fn clusters_join_deforming_subtrees_at_their_common_ancestor() {
        // armature(0, helper) -> hips(1) -> spine(2); armature -> ik_group(3, helper) -> ik(4)
        let s = skeleton(&[(None, false), (Some(0), true), (Some(1), true), (Some(0), false), (Some(3), true)]);
        assert_eq!(clustered_joints(&s), vec![true, true, true, true, true]);
        // One deforming subtree under a helper: nothing added.
        let s = skeleton(&[(None, false), (Some(0), true), (Some(1), true), (Some(0), false)]);
        assert_eq!(clustered_joints(&s), vec![false, true, true, false]);
        // Two separate roots: no common ancestor to add.
        let s = skeleton(&[(None, true), (None, true)]);
        assert_eq!(clustered_joints(&s), vec![true, true]);
    }
}
