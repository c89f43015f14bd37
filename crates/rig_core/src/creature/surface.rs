//! The surface grown around a [`Body`]: a smooth union of tapered capsules (one per bone),
//! sampled on a grid and polygonised by surface nets (the `fast-surface-nets` crate).

use fast_surface_nets::ndshape::{RuntimeShape, Shape};
use fast_surface_nets::{surface_nets, SurfaceNetsBuffer};
use nalgebra::Vector3;
use rayon::prelude::*;

use super::body::{Body, Bone};

/// A tapered capsule around one bone: radius `ra` at `a`, `rb` at `b`.
#[derive(Debug, Clone, Copy)]
pub struct Capsule {
    pub a: Vector3<f32>,
    pub b: Vector3<f32>,
    pub ra: f32,
    pub rb: f32,
}

impl Capsule {
    pub fn of(body: &Body, bone: &Bone) -> Capsule {
        let p = &body.tree.positions;
        Capsule { a: p[bone.parent], b: p[bone.child], ra: body.radii[bone.parent], rb: body.radii[bone.child] }
    }

    /// Distance from `p` to the capsule's surface (negative inside) and the position along
    /// the bone (0 at `a`, 1 at `b`) of the nearest axis point.
    pub fn distance(&self, p: &Vector3<f32>) -> (f32, f32) {
        let axis = self.b - self.a;
        let t = if axis.norm_squared() > 1e-12 { ((p - self.a).dot(&axis) / axis.norm_squared()).clamp(0.0, 1.0) } else { 0.0 };
        let radius = self.ra + (self.rb - self.ra) * t;
        ((p - (self.a + axis * t)).norm() - radius, t)
    }
}

/// Polynomial smooth minimum: joins the capsules with fillets `k` wide.
fn smooth_min(a: f32, b: f32, k: f32) -> f32 {
    let h = (k - (a - b).abs()).max(0.0) / k;
    a.min(b) - h * h * k * 0.25
}

/// A closed triangle mesh, wound outward, with unit normals per vertex.
pub struct Surface {
    pub positions: Vec<[f32; 3]>,
    pub normals: Vec<[f32; 3]>,
    pub triangles: Vec<[u32; 3]>,
}

/// The surface of the capsules' smooth union, with `resolution` grid cells along the longest
/// side of its bounds.
pub fn grow_surface(capsules: &[Capsule], resolution: usize) -> Surface {
    let thinnest = capsules.iter().map(|c| c.ra.min(c.rb)).fold(f32::INFINITY, f32::min);
    let k = 0.5 * thinnest;
    let (mut lo, mut hi) = (Vector3::repeat(f32::INFINITY), Vector3::repeat(f32::NEG_INFINITY));
    for c in capsules {
        for (p, r) in [(c.a, c.ra), (c.b, c.rb)] {
            lo = lo.inf(&(p - Vector3::repeat(r)));
            hi = hi.sup(&(p + Vector3::repeat(r)));
        }
    }
    let h = (hi - lo).max() / resolution.max(8) as f32;
    let origin = lo - Vector3::repeat(2.0 * h);
    let cells = ((hi - lo) / h).map(|x| x.ceil() as u32 + 5);
    let shape = RuntimeShape::<u32, 3>::new([cells.x, cells.y, cells.z]);
    let sdf: Vec<f32> = (0..shape.size())
        .into_par_iter()
        .map(|i| {
            let [x, y, z] = shape.delinearize(i);
            let p = origin + Vector3::new(x as f32, y as f32, z as f32) * h;
            capsules.iter().map(|c| c.distance(&p).0).fold(f32::INFINITY, |m, d| smooth_min(m, d, k))
        })
        .collect();
    let mut buffer = SurfaceNetsBuffer::default();
    surface_nets(&sdf, &shape, [0; 3], [cells.x - 1, cells.y - 1, cells.z - 1], &mut buffer);
    let positions: Vec<[f32; 3]> = buffer.positions.iter().map(|p| (origin + Vector3::from(*p) * h).into()).collect();
    let normals: Vec<[f32; 3]> =
        buffer.normals.iter().map(|n| Vector3::from(*n).try_normalize(1e-12).unwrap_or_else(Vector3::y).into()).collect();
    let mut triangles: Vec<[u32; 3]> = buffer.indices.chunks_exact(3).map(|t| [t[0], t[1], t[2]]).collect();
    if signed_volume(&positions, &triangles) < 0.0 {
        triangles.iter_mut().for_each(|t| t.swap(1, 2));
    }
    Surface { positions, normals, triangles }
}

/// Volume enclosed by a closed mesh, positive when its triangles wind outward.
pub fn signed_volume(positions: &[[f32; 3]], triangles: &[[u32; 3]]) -> f32 {
    let v = |i: u32| Vector3::from(positions[i as usize]).cast::<f64>();
    let six: f64 = triangles.iter().map(|t| v(t[0]).dot(&v(t[1]).cross(&v(t[2])))).sum();
    (six / 6.0) as f32
}
