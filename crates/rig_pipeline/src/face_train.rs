//! Training data for the learned face refinement: ICT identities rigged by the transfer at
//! several topologies (ICT's own, subdivided, simplified by meshoptimizer), each row a vertex
//! and a shape, the wanted correction the difference between ICT's offset there and the
//! transfer's.

use nalgebra::Vector3;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rig_core::face::features::PERCENT;
use rig_core::face::{face_rig, FaceError, FaceTemplate};
use rig_core::mesh::Mesh;
use rig_core::Task;
use rig_model::face_refine::{head_rows, RefineData};

use crate::face_eval::{random_head, subdivide, true_offsets};

/// How a training head is re-meshed before it is rigged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Topology {
    Own,
    Subdivided,
    /// Simplified to about this share of its triangles.
    Simplified(f32),
}

/// The head at `topology` (`None` when it cannot be simplified that far).
pub fn remesh(head: &Mesh, topology: Topology) -> Option<Mesh> {
    match topology {
        Topology::Own => Some(head.clone()),
        Topology::Subdivided => Some(subdivide(head)),
        Topology::Simplified(keep) => {
            let rig = rig_core::Rig::unrigged("head".to_string(), head.clone(), Default::default());
            rig_model::decimate::decimated_copy(&rig, keep).map(|r| r.mesh)
        }
    }
}

/// Rows of one head: up to `vertices` of its moving vertices drawn with `seed`, every refined
/// shape of each. `truth` is the head at ICT's topology, `head` the re-meshed one rigged.
pub fn head_data(
    template: &FaceTemplate,
    truth: &Mesh,
    head: &Mesh,
    vertices: usize,
    seed: u64,
    task: &Task,
) -> Result<RefineData, FaceError> {
    let rig = face_rig(head, template, task)?;
    let positions: Vec<Vector3<f32>> = head.positions.iter().map(|p| Vector3::from(*p)).collect();
    let rows = head_rows(template, &rig, &positions, &head.triangles).expanded();
    let offsets = true_offsets(template, truth, head);
    let mut chosen: Vec<usize> = rows.iter().map(|r| r.0).collect();
    chosen.dedup();
    chosen.shuffle(&mut StdRng::seed_from_u64(seed));
    chosen.truncate(vertices);
    let mut keep = vec![false; positions.len()];
    chosen.iter().for_each(|&i| keep[i] = true);
    let s = rig.placement.similarity;
    let to_pct = PERCENT / template.diagonal();
    let mut data = RefineData::default();
    for (i, k, row) in rows {
        let Some(t) = offsets[k][i].filter(|_| keep[i]) else { continue };
        let t = s.vector_to_template(&t) * to_pct;
        let transferred = Vector3::new(row[VF], row[VF + 1], row[VF + 2]);
        let want = t - transferred;
        data.wanted.push(want.as_slice().to_vec());
        data.inputs.push(row);
    }
    Ok(data)
}

const VF: usize = rig_core::face::features::VERTEX_FEATURES;

/// Rows of heads drawn with `seeds`, each at every topology in `topologies` (a copy in which no
/// face is found gives none).
pub fn dataset(
    template: &FaceTemplate,
    template_mesh: &Mesh,
    identities: &Mesh,
    seeds: std::ops::Range<u64>,
    topologies: &[Topology],
    vertices: usize,
    report: &mut dyn FnMut(u64, Topology, usize),
) -> Result<RefineData, FaceError> {
    let mut all = RefineData::default();
    for seed in seeds {
        let truth = random_head(template_mesh, identities, seed);
        for &topology in topologies {
            let Some(head) = remesh(&truth, topology) else { continue };
            // A re-meshed copy may lose its face (simplification can flatten the nose): skipped.
            let d = match head_data(template, &truth, &head, vertices, seed, &Task::silent()) {
                Err(FaceError::NoFace(_)) => RefineData::default(),
                d => d?,
            };
            report(seed, topology, d.inputs.len());
            all.inputs.extend(d.inputs);
            all.wanted.extend(d.wanted);
        }
    }
    Ok(all)
}
