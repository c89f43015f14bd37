//! An FBX node tree in memory, built by the exporter and written with fbxcel's binary writer.

use std::io::Cursor;

use fbxcel::low::FbxVersion;
use fbxcel::writer::v7400::binary::{FbxFooter, Writer};

use crate::error::IoError;

/// One property value of a node, in FBX's binary attribute types.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    Bool(bool),
    I32(i32),
    I64(i64),
    F64(f64),
    Str(String),
    Bytes(Vec<u8>),
    ArrI32(Vec<i32>),
    ArrI64(Vec<i64>),
    ArrF32(Vec<f32>),
    ArrF64(Vec<f64>),
}

impl From<&str> for Attr {
    fn from(s: &str) -> Self {
        Attr::Str(s.to_string())
    }
}
impl From<String> for Attr {
    fn from(s: String) -> Self {
        Attr::Str(s)
    }
}
impl From<i32> for Attr {
    fn from(v: i32) -> Self {
        Attr::I32(v)
    }
}
impl From<i64> for Attr {
    fn from(v: i64) -> Self {
        Attr::I64(v)
    }
}
impl From<f64> for Attr {
    fn from(v: f64) -> Self {
        Attr::F64(v)
    }
}

/// A node: a name, its properties and its children.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Node>,
}

impl Node {
    pub fn new(name: &str, attrs: Vec<Attr>) -> Node {
        Node { name: name.into(), attrs, children: Vec::new() }
    }

    /// Appends a child and returns `self` (builder style).
    pub fn with(mut self, child: Node) -> Node {
        self.children.push(child);
        self
    }

    pub fn push(&mut self, child: Node) {
        self.children.push(child);
    }

    /// A leaf node with one property.
    pub fn leaf(name: &str, attr: impl Into<Attr>) -> Node {
        Node::new(name, vec![attr.into()])
    }
}

/// An entry of a `Properties70` block: `P: name, type, label, flags, values...`.
pub fn prop(name: &str, kind: &str, label: &str, flags: &str, values: Vec<Attr>) -> Node {
    let mut attrs: Vec<Attr> = vec![name.into(), kind.into(), label.into(), flags.into()];
    attrs.extend(values);
    Node::new("P", attrs)
}

pub fn prop_f64(name: &str, v: f64) -> Node {
    prop(name, "double", "Number", "", vec![Attr::F64(v)])
}

pub fn prop_int(name: &str, v: i32) -> Node {
    prop(name, "int", "Integer", "", vec![Attr::I32(v)])
}

pub fn prop_enum(name: &str, v: i32) -> Node {
    prop(name, "enum", "", "", vec![Attr::I32(v)])
}

pub fn prop_vec3(name: &str, kind: &str, label: &str, flags: &str, v: [f64; 3]) -> Node {
    prop(name, kind, label, flags, v.iter().map(|x| Attr::F64(*x)).collect())
}

pub fn prop_time(name: &str, ticks: i64) -> Node {
    prop(name, "KTime", "Time", "", vec![Attr::I64(ticks)])
}

pub fn prop_string(name: &str, v: &str) -> Node {
    prop(name, "KString", "", "", vec![v.into()])
}

pub fn properties70(props: Vec<Node>) -> Node {
    Node { name: "Properties70".into(), attrs: vec![], children: props }
}

/// FBX's `name\x00\x01Class` object name.
pub fn object_name(name: &str, class: &str) -> Attr {
    Attr::Str(format!("{name}\u{0}\u{1}{class}"))
}

/// The footer code that matches the fixed CreationTime "1970-01-01 10:00:00:000" the
/// exporter writes (Autodesk's reader checks the pair).
const FOOTER_ID: [u8; 16] = [0xfa, 0xbc, 0xab, 0x09, 0xd0, 0xc8, 0xd4, 0x66, 0xb1, 0x76, 0xfb, 0x83, 0x1c, 0xf7, 0x26, 0x7e];

/// Serialises top-level nodes as a binary FBX 7.4 file.
pub fn to_binary(top: &[Node]) -> Result<Vec<u8>, IoError> {
    let err = |e: fbxcel::writer::v7400::binary::Error| IoError::Invalid(format!("cannot encode FBX: {e}"));
    let mut writer = Writer::new(Cursor::new(Vec::new()), FbxVersion::V7_4).map_err(err)?;
    for node in top {
        write_node(&mut writer, node).map_err(err)?;
    }
    let footer = FbxFooter { unknown1: Some(&FOOTER_ID), ..Default::default() };
    let cursor = writer.finalize_and_flush(&footer).map_err(err)?;
    Ok(cursor.into_inner())
}

fn write_node(writer: &mut Writer<Cursor<Vec<u8>>>, node: &Node) -> Result<(), fbxcel::writer::v7400::binary::Error> {
    let mut attrs = writer.new_node(&node.name)?;
    for a in &node.attrs {
        match a {
            Attr::Bool(v) => attrs.append_bool(*v)?,
            Attr::I32(v) => attrs.append_i32(*v)?,
            Attr::I64(v) => attrs.append_i64(*v)?,
            Attr::F64(v) => attrs.append_f64(*v)?,
            Attr::Str(s) => attrs.append_string_direct(s)?,
            Attr::Bytes(b) => attrs.append_binary_direct(b)?,
            Attr::ArrI32(v) => attrs.append_arr_i32_from_iter(None, v.iter().copied())?,
            Attr::ArrI64(v) => attrs.append_arr_i64_from_iter(None, v.iter().copied())?,
            Attr::ArrF32(v) => attrs.append_arr_f32_from_iter(None, v.iter().copied())?,
            Attr::ArrF64(v) => attrs.append_arr_f64_from_iter(None, v.iter().copied())?,
        }
    }
    for child in &node.children {
        write_node(writer, child)?;
    }
    writer.close_node()
}
