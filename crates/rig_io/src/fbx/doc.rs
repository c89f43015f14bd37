//! The parsed FBX document: objects by id, connections, and typed property lookups.

use std::collections::HashMap;

use fbxcel::low::v7400::AttributeValue;
use fbxcel::tree::v7400::{NodeHandle, Tree};

use crate::error::IoError;

/// One object of the `Objects` section.
#[derive(Clone, Copy)]
pub struct Object<'a> {
    pub id: i64,
    /// The node name: Model, Geometry, Deformer, Pose, AnimationCurve, ...
    pub kind: &'a str,
    /// The object's name without FBX's `\x00\x01Class` suffix.
    pub name: &'a str,
    /// The sub-class: LimbNode, Mesh, Null, Skin, Cluster, BindPose, ...
    pub class: &'a str,
    pub node: NodeHandle<'a>,
}

/// A parent link of the `Connections` section.
#[derive(Clone, Debug)]
pub struct Link {
    pub child: i64,
    pub parent: i64,
    /// The property for object-to-property links ("Lcl Rotation", "d|X", ...).
    pub property: Option<String>,
}

pub struct Doc<'a> {
    pub root: NodeHandle<'a>,
    pub objects: HashMap<i64, Object<'a>>,
    /// Object ids in file order.
    pub order: Vec<i64>,
    pub links: Vec<Link>,
}

impl<'a> Doc<'a> {
    pub fn new(tree: &'a Tree) -> Result<Doc<'a>, IoError> {
        let root = tree.root();
        let objects_node = root.first_child_by_name("Objects").ok_or_else(|| invalid("the file has no Objects section"))?;
        let mut objects = HashMap::new();
        let mut order = Vec::new();
        for node in objects_node.children() {
            let a = node.attributes();
            let Some(id) = a.first().and_then(AttributeValue::get_i64) else { continue };
            let full = a.get(1).and_then(AttributeValue::get_string).unwrap_or("");
            let name = full.split("\u{0}\u{1}").next().unwrap_or("");
            let class = a.get(2).and_then(AttributeValue::get_string).unwrap_or("");
            if objects.insert(id, Object { id, kind: node.name(), name, class, node }).is_none() {
                order.push(id);
            }
        }
        let mut links = Vec::new();
        for c in root.first_child_by_name("Connections").into_iter().flat_map(|n| n.children_by_name("C")) {
            let a = c.attributes();
            let (Some(child), Some(parent)) = (a.get(1).and_then(AttributeValue::get_i64), a.get(2).and_then(AttributeValue::get_i64))
            else {
                continue;
            };
            let property = a.get(3).and_then(AttributeValue::get_string).map(str::to_string);
            links.push(Link { child, parent, property });
        }
        Ok(Doc { root, objects, order, links })
    }

    pub fn get(&self, id: i64) -> Option<&Object<'a>> {
        self.objects.get(&id)
    }

    /// Objects linked below `parent` (its children in the connection graph).
    pub fn children_of(&self, parent: i64) -> impl Iterator<Item = (&Object<'a>, Option<&str>)> + '_ {
        self.links.iter().filter(move |l| l.parent == parent).filter_map(|l| Some((self.get(l.child)?, l.property.as_deref())))
    }

    /// Objects `child` is linked to (its parents in the connection graph).
    pub fn parents_of(&self, child: i64) -> impl Iterator<Item = (&Object<'a>, Option<&str>)> + '_ {
        self.links.iter().filter(move |l| l.child == child).filter_map(|l| Some((self.get(l.parent)?, l.property.as_deref())))
    }

    /// Objects of one kind, in file order.
    pub fn of_kind(&self, kind: &'a str) -> impl Iterator<Item = &Object<'a>> + '_ {
        self.order.iter().filter_map(|id| self.get(*id)).filter(move |o| o.kind == kind)
    }
}

pub fn invalid(msg: impl Into<String>) -> IoError {
    IoError::Invalid(format!("FBX: {}", msg.into()))
}

/// The values of a `Properties70` entry `P: name, type, label, flags, values...`.
pub fn property<'a>(node: NodeHandle<'a>, name: &str) -> Option<&'a [AttributeValue]> {
    let props = node.first_child_by_name("Properties70")?;
    props
        .children_by_name("P")
        .map(|p| p.attributes())
        .find(|a| a.first().and_then(AttributeValue::get_string) == Some(name))
        .map(|a| &a[a.len().min(4)..])
}

pub fn number(v: &AttributeValue) -> Option<f64> {
    match v {
        AttributeValue::F64(x) => Some(*x),
        AttributeValue::F32(x) => Some(*x as f64),
        AttributeValue::I32(x) => Some(*x as f64),
        AttributeValue::I64(x) => Some(*x as f64),
        AttributeValue::I16(x) => Some(*x as f64),
        AttributeValue::Bool(x) => Some(*x as i32 as f64),
        _ => None,
    }
}

pub fn property_f64(node: NodeHandle, name: &str) -> Option<f64> {
    property(node, name).and_then(|v| v.first()).and_then(number)
}

pub fn property_vec3(node: NodeHandle, name: &str) -> Option<[f64; 3]> {
    let v = property(node, name)?;
    Some([number(v.first()?)?, number(v.get(1)?)?, number(v.get(2)?)?])
}

/// The first attribute of child `name` as numbers (any array or scalar numeric type).
pub fn child_numbers(node: NodeHandle, name: &str) -> Option<Vec<f64>> {
    let a = node.first_child_by_name(name)?.attributes().first()?;
    Some(match a {
        AttributeValue::ArrF64(v) => v.clone(),
        AttributeValue::ArrF32(v) => v.iter().map(|x| *x as f64).collect(),
        AttributeValue::ArrI32(v) => v.iter().map(|x| *x as f64).collect(),
        AttributeValue::ArrI64(v) => v.iter().map(|x| *x as f64).collect(),
        other => vec![number(other)?],
    })
}

pub fn child_i32s(node: NodeHandle, name: &str) -> Option<Vec<i32>> {
    let a = node.first_child_by_name(name)?.attributes().first()?;
    match a {
        AttributeValue::ArrI32(v) => Some(v.clone()),
        AttributeValue::ArrI64(v) => v.iter().map(|x| i32::try_from(*x).ok()).collect(),
        _ => None,
    }
}

pub fn child_i64s(node: NodeHandle, name: &str) -> Option<Vec<i64>> {
    let a = node.first_child_by_name(name)?.attributes().first()?;
    match a {
        AttributeValue::ArrI64(v) => Some(v.clone()),
        AttributeValue::ArrI32(v) => Some(v.iter().map(|x| *x as i64).collect()),
        _ => None,
    }
}

pub fn child_string<'a>(node: NodeHandle<'a>, name: &str) -> Option<&'a str> {
    node.first_child_by_name(name)?.attributes().first()?.get_string()
}
