//! Triangle meshes: one vertex array shared by all parts, parts grouped as the source file did.

use std::ops::Range;

use crate::error::RigError;

/// A triangle mesh in mesh space (the space the skin's inverse bind matrices map from).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mesh {
    pub positions: Vec<[f32; 3]>,
    /// Per-vertex normals, or empty when the source had none.
    pub normals: Vec<[f32; 3]>,
    /// Per-vertex texture coordinates (set 0), or empty.
    pub uvs: Vec<[f32; 2]>,
    /// Per-vertex RGBA colours, or empty.
    pub colors: Vec<[f32; 4]>,
    /// Further texture coordinate sets (glTF's TEXCOORD_1, ...; FBX's further UV layers),
    /// each per-vertex or empty.
    pub extra_uvs: Vec<Vec<[f32; 2]>>,
    /// Further colour sets (glTF's COLOR_1, ...), each per-vertex or empty.
    pub extra_colors: Vec<Vec<[f32; 4]>>,
    pub triangles: Vec<[u32; 3]>,
    /// Contiguous vertex and triangle ranges, one per source primitive / material slot.
    pub parts: Vec<Part>,
    /// The source meshes the parts came from (names, morph target names and weights).
    pub groups: Vec<MeshGroup>,
}

/// A contiguous run of vertices and triangles with one material.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub name: String,
    /// Index into [`Mesh::groups`].
    pub group: usize,
    /// Index into the rig's material library.
    pub material: Option<usize>,
    pub vertices: Range<u32>,
    pub triangles: Range<u32>,
    /// False for static geometry that follows no joint (exported without a skin).
    pub skinned: bool,
    /// Morph targets of this part, in the group's target order (deltas per part vertex).
    pub morph_targets: Vec<MorphTarget>,
}

/// A mesh of the source file: parts that belong together and share morph targets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeshGroup {
    pub name: String,
    pub morph_target_names: Vec<String>,
    pub morph_default_weights: Vec<f32>,
}

/// Offsets added to a part's vertices at full weight.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MorphTarget {
    pub position_deltas: Vec<[f32; 3]>,
    /// Empty when the target does not move normals.
    pub normal_deltas: Vec<[f32; 3]>,
}

/// Axis-aligned bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aabb {
    pub min: [f32; 3],
    pub max: [f32; 3],
}

impl Aabb {
    /// Bounds of a point set, `None` when it is empty.
    pub fn of_points(points: &[[f32; 3]]) -> Option<Aabb> {
        let first = *points.first()?;
        let mut b = Aabb { min: first, max: first };
        for p in points {
            for i in 0..3 {
                b.min[i] = b.min[i].min(p[i]);
                b.max[i] = b.max[i].max(p[i]);
            }
        }
        Some(b)
    }

    pub fn diagonal(&self) -> f32 {
        let d: Vec<f32> = (0..3).map(|i| self.max[i] - self.min[i]).collect();
        (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
    }

    pub fn size(&self) -> [f32; 3] {
        [self.max[0] - self.min[0], self.max[1] - self.min[1], self.max[2] - self.min[2]]
    }
}

impl Mesh {
    /// Moves the vertices of the parts `which` picks by `new_from_mesh`, with their normals
    /// (kept unit length) and morph deltas.
    pub fn move_parts(&mut self, new_from_mesh: &crate::Mat4, which: impl Fn(&Part) -> bool) {
        let linear = new_from_mesh.fixed_view::<3, 3>(0, 0).into_owned();
        let normal = linear.try_inverse().map_or(linear, |i| i.transpose());
        let point = |p: &mut [f32; 3]| *p = new_from_mesh.transform_point(&nalgebra::Point3::from(*p)).coords.into();
        let vector = |m: &nalgebra::Matrix3<f32>, v: &mut [f32; 3]| *v = (m * nalgebra::Vector3::from(*v)).into();
        let has_normals = self.normals.len() == self.positions.len();
        for part in self.parts.iter_mut().filter(|p| which(p)) {
            let range = part.vertices.start as usize..part.vertices.end as usize;
            self.positions[range.clone()].iter_mut().for_each(point);
            if has_normals {
                for n in &mut self.normals[range] {
                    vector(&normal, n);
                    let len = nalgebra::Vector3::from(*n).norm();
                    if len > 0.0 {
                        n.iter_mut().for_each(|x| *x /= len);
                    }
                }
            }
            for t in &mut part.morph_targets {
                t.position_deltas.iter_mut().for_each(|d| vector(&linear, d));
                t.normal_deltas.iter_mut().for_each(|d| vector(&normal, d));
            }
        }
    }

    pub fn vertex_count(&self) -> usize {
        self.positions.len()
    }

    pub fn triangle_count(&self) -> usize {
        self.triangles.len()
    }

    /// Bounds of all positions, `None` for an empty mesh.
    pub fn bounds(&self) -> Option<Aabb> {
        Aabb::of_points(&self.positions)
    }

    /// Triangles whose area is zero (repeated index or collinear corners).
    pub fn degenerate_triangle_count(&self) -> usize {
        self.triangles.iter().filter(|t| self.is_degenerate(t)).count()
    }

    fn is_degenerate(&self, t: &[u32; 3]) -> bool {
        if t[0] == t[1] || t[1] == t[2] || t[0] == t[2] {
            return true;
        }
        let p = |i: u32| nalgebra::Vector3::from(self.positions[i as usize]);
        let area2 = (p(t[1]) - p(t[0])).cross(&(p(t[2]) - p(t[0]))).norm();
        area2 == 0.0
    }

    /// Checks indices, finiteness and per-vertex attribute lengths.
    pub fn validate(&self) -> Result<(), RigError> {
        let n = self.positions.len();
        let extra =
            self.extra_uvs.iter().map(|s| ("extra uvs", s.len())).chain(self.extra_colors.iter().map(|s| ("extra colors", s.len())));
        for (what, len) in
            [("normals", self.normals.len()), ("uvs", self.uvs.len()), ("colors", self.colors.len())].into_iter().chain(extra)
        {
            if len != 0 && len != n {
                return Err(RigError::LengthMismatch { what, got: len, expected: n });
            }
        }
        if let Some((vertex, p)) = self.positions.iter().enumerate().find(|(_, p)| p.iter().any(|c| !c.is_finite())) {
            return Err(RigError::NonFinitePosition { vertex, position: *p });
        }
        for p in &self.parts {
            if p.vertices.end as usize > n || p.triangles.end as usize > self.triangles.len() || p.group >= self.groups.len().max(1) {
                return Err(RigError::PartOutOfRange { part: p.name.clone() });
            }
        }
        for (triangle, t) in self.triangles.iter().enumerate() {
            if let Some(&vertex) = t.iter().find(|&&v| v as usize >= n) {
                return Err(RigError::TriangleIndexOutOfRange { triangle, vertex, vertex_count: n });
            }
        }
        Ok(())
    }

    /// Appends another mesh's vertices, triangles and parts (groups are appended too).
    pub fn append(&mut self, other: &Mesh) {
        let v0 = self.positions.len() as u32;
        let t0 = self.triangles.len() as u32;
        let g0 = self.groups.len();
        let had = self.positions.len();
        fill_attribute(&mut self.normals, &other.normals, had, other.positions.len(), [0.0; 3]);
        fill_attribute(&mut self.uvs, &other.uvs, had, other.positions.len(), [0.0; 2]);
        fill_attribute(&mut self.colors, &other.colors, had, other.positions.len(), [1.0; 4]);
        fill_sets(&mut self.extra_uvs, &other.extra_uvs, had, other.positions.len(), [0.0; 2]);
        fill_sets(&mut self.extra_colors, &other.extra_colors, had, other.positions.len(), [1.0; 4]);
        self.positions.extend_from_slice(&other.positions);
        self.triangles.extend(other.triangles.iter().map(|t| [t[0] + v0, t[1] + v0, t[2] + v0]));
        self.groups.extend(other.groups.iter().cloned());
        self.parts.extend(other.parts.iter().map(|p| Part {
            group: p.group + g0,
            vertices: p.vertices.start + v0..p.vertices.end + v0,
            triangles: p.triangles.start + t0..p.triangles.end + t0,
            ..p.clone()
        }));
    }
}

/// Keeps an optional per-vertex attribute aligned when meshes with and without it are merged.
fn fill_attribute<T: Copy>(dst: &mut Vec<T>, src: &[T], had: usize, adding: usize, fill: T) {
    if dst.is_empty() && src.is_empty() {
        return;
    }
    if dst.is_empty() {
        dst.resize(had, fill);
    }
    if src.is_empty() {
        dst.extend(std::iter::repeat_n(fill, adding));
    } else {
        dst.extend_from_slice(src);
    }
}

/// [`fill_attribute`] for each of several attribute sets.
fn fill_sets<T: Copy>(dst: &mut Vec<Vec<T>>, src: &[Vec<T>], had: usize, adding: usize, fill: T) {
    if dst.len() < src.len() {
        dst.resize(src.len(), Vec::new());
    }
    for (k, set) in dst.iter_mut().enumerate() {
        fill_attribute(set, src.get(k).map_or(&[][..], |s| s.as_slice()), had, adding, fill);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quad() -> Mesh {
        Mesh {
            positions: vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]],
            triangles: vec![[0, 1, 2], [0, 2, 3]],
            parts: vec![Part {
                name: "quad".into(),
                group: 0,
                material: None,
                vertices: 0..4,
                triangles: 0..2,
                skinned: true,
                morph_targets: vec![],
            }],
            groups: vec![MeshGroup { name: "quad".into(), ..Default::default() }],
            ..Default::default()
        }
    }

    #[test]
    fn append_offsets_indices_and_keeps_attributes_aligned() {
        let mut a = quad();
        let mut b = quad();
        b.uvs = vec![[0.5, 0.5]; 4];
        b.extra_uvs = vec![Vec::new(), vec![[0.25, 0.75]; 4]];
        a.append(&b);
        assert_eq!(a.vertex_count(), 8);
        assert_eq!(a.triangles[2], [4, 5, 6]);
        assert_eq!(a.uvs.len(), 8);
        assert_eq!(a.extra_uvs.len(), 2);
        assert!(a.extra_uvs[0].is_empty(), "a set no part has stays empty");
        assert_eq!(a.extra_uvs[1][..5], [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.25, 0.75]]);
        assert_eq!(a.parts[1].vertices, 4..8);
        assert_eq!(a.parts[1].group, 1);
        a.validate().expect("valid");
    }

    #[test]
    fn validate_finds_bad_index_and_nan() {
        let mut m = quad();
        m.triangles.push([0, 1, 9]);
        assert!(matches!(m.validate(), Err(RigError::TriangleIndexOutOfRange { vertex: 9, .. })));
        let mut m = quad();
        m.positions[2][1] = f32::NAN;
        assert!(matches!(m.validate(), Err(RigError::NonFinitePosition { vertex: 2, .. })));
    }

    #[test]
    fn degenerate_triangles_are_counted() {
        let mut m = quad();
        m.triangles.push([0, 0, 1]);
        m.positions.push([2.0, 0.0, 0.0]);
        m.triangles.push([0, 1, 4]);
        assert_eq!(m.degenerate_triangle_count(), 2);
    }
}
