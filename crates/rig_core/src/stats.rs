//! Summary figures of a rig, as `rigsmith inspect` prints them.

use crate::rig::Rig;

/// Figures that describe a rig at a glance.
#[derive(Debug, Clone, PartialEq)]
pub struct RigStats {
    pub vertices: usize,
    pub triangles: usize,
    pub degenerate_triangles: usize,
    pub parts: usize,
    pub joints: usize,
    pub deform_joints: usize,
    /// `influences[k]` vertices have exactly `k` influences.
    pub influences: Vec<usize>,
    pub weight_sum_min: f32,
    pub weight_sum_max: f32,
    pub unweighted_skinned_vertices: usize,
    pub bounds_size: Option<[f32; 3]>,
    pub morph_targets: usize,
    /// `(name, start, end, channels)` per clip.
    pub clips: Vec<(String, f32, f32, usize)>,
}

impl RigStats {
    pub fn of(rig: &Rig) -> RigStats {
        let sums: Vec<f32> = rig.weights.sums().into_iter().filter(|s| *s > 0.0).collect();
        RigStats {
            vertices: rig.mesh.vertex_count(),
            triangles: rig.mesh.triangle_count(),
            degenerate_triangles: rig.mesh.degenerate_triangle_count(),
            parts: rig.mesh.parts.len(),
            joints: rig.skeleton.len(),
            deform_joints: rig.skeleton.joints.iter().filter(|j| j.deform).count(),
            influences: rig.weights.influence_histogram(),
            weight_sum_min: sums.iter().copied().reduce(f32::min).unwrap_or(0.0),
            weight_sum_max: sums.iter().copied().reduce(f32::max).unwrap_or(0.0),
            unweighted_skinned_vertices: rig.unweighted_skinned_vertices(),
            bounds_size: rig.mesh.bounds().map(|b| b.size()),
            morph_targets: rig.mesh.groups.iter().map(|g| g.morph_target_names.len()).sum(),
            clips: rig
                .clips
                .iter()
                .map(|c| (c.name.clone(), c.start_secs(), c.duration_secs(), c.channels.len() + c.morph_channels.len()))
                .collect(),
        }
    }
}
