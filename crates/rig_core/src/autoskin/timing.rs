//! The skinning speed figures `rigsmith bench skin` and `rig_io`'s `skin_speed` example print:
//! a whole bind of a rig's own skeleton, then a re-skin after moving one joint, reusing the
//! binder as the editor's worker does.

use std::fmt;
use std::time::Instant;

use super::{AutoSkinOptions, SkinBinder};
use crate::rig::Rig;
use crate::task::Task;

/// Seconds and sizes of one measurement.
#[derive(Debug, Clone)]
pub struct SkinTiming {
    pub vertices: usize,
    pub triangles: usize,
    pub deforming_joints: usize,
    pub threads: usize,
    pub seconds: f64,
    pub unweighted: usize,
    /// The joint moved for the re-skin, its time, the distance fields recomputed and the
    /// vertices left unweighted; `None` when the skeleton has no inner joint to move.
    pub reskin: Option<(String, f64, usize, usize)>,
}

/// Skins `rig`'s mesh for its own skeleton (the joints that carry weight in it), then moves the
/// middle inner joint by a tenth of its bone and re-skins with the same binder.
pub fn time_skin(rig: &Rig, options: &AutoSkinOptions) -> SkinTiming {
    let mut rig = rig.clone();
    rig.mark_unweighted_joints_non_deforming();
    let silent = Task::silent();
    let t = Instant::now();
    let mut binder = SkinBinder::new(&rig.mesh, options, silent).expect("a silent task is never cancelled");
    let w = binder.skin(&rig.mesh, &rig.skeleton, options, silent).expect("a silent task is never cancelled");
    let seconds = t.elapsed().as_secs_f64();
    let unweighted = unweighted(&w);
    SkinTiming {
        vertices: rig.mesh.vertex_count(),
        triangles: rig.mesh.triangle_count(),
        deforming_joints: rig.skeleton.joints.iter().filter(|j| j.deform).count(),
        threads: rayon::current_num_threads(),
        seconds,
        unweighted,
        reskin: reskin_after_move(&mut rig, &mut binder, options),
    }
}

fn reskin_after_move(rig: &mut Rig, binder: &mut SkinBinder, options: &AutoSkinOptions) -> Option<(String, f64, usize, usize)> {
    let sk = &rig.skeleton;
    let inner: Vec<usize> =
        (0..sk.len()).filter(|&j| sk.joints[j].deform && sk.joints[j].parent.is_some() && sk.children(j).count() > 0).collect();
    let j = *inner.get(inner.len() / 2)?;
    let p = crate::edit::bind_position(sk, j);
    let q = crate::edit::bind_position(sk, sk.joints[j].parent?);
    let moved = std::array::from_fn(|k| p[k] + 0.1 * (p[k] - q[k]));
    crate::edit::move_joint(rig, j, moved).ok()?;
    let t = Instant::now();
    let w = binder.skin(&rig.mesh, &rig.skeleton, options, Task::silent()).expect("a silent task is never cancelled");
    Some((rig.skeleton.joints[j].name.clone(), t.elapsed().as_secs_f64(), binder.recomputed_last, unweighted(&w)))
}

fn unweighted(w: &crate::weights::SkinWeights) -> usize {
    w.iter().filter(|(joints, _)| joints.is_empty()).count()
}

impl fmt::Display for SkinTiming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "skin: {:.3} s for {} vertices, {} triangles, {} deforming joints, {} threads; {} unweighted",
            self.seconds, self.vertices, self.triangles, self.deforming_joints, self.threads, self.unweighted
        )?;
        if let Some((name, secs, fields, unweighted)) = &self.reskin {
            write!(f, "\n  re-skin after moving '{name}': {secs:.3} s ({fields} of the bones' distance fields recomputed), {unweighted} unweighted")?;
        }
        Ok(())
    }
}
