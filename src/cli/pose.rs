//! `rigsmith pose FILE --pose-world JOINT=rx,ry,rz`: CPU skinning from the bind pose, with
//! rotations about joint heads in model axes (the same convention as the validators'
//! `blender_inspect.py --pose-world ... --yup`), printed as JSON.

use std::path::PathBuf;

use anyhow::{bail, Context};
use nalgebra::{Matrix3, Rotation3, Vector3};
use rig_core::lbs::{rotate_subtree_in_model_space, skin_positions};
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// The rig to pose.
    file: PathBuf,
    /// Rotate a joint and its children about the joint, Euler XYZ in degrees, model axes (repeatable).
    #[arg(long = "pose-world", value_name = "JOINT=RX,RY,RZ")]
    pose_world: Vec<String>,
    /// Write the JSON here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Start from the bind pose (the mesh as stored) or from the rest pose (the skeleton's own
    /// transforms, which is what viewers show when a file's rest and bind poses differ).
    #[arg(long, value_enum, default_value = "bind")]
    from: Start,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Start {
    Bind,
    Rest,
}

/// Blender's Euler "XYZ": X first, then Y, then Z, about fixed axes.
fn euler_xyz_deg(r: [f32; 3]) -> Matrix3<f32> {
    let axis = |v: Vector3<f32>, deg: f32| *Rotation3::from_axis_angle(&nalgebra::Unit::new_normalize(v), deg.to_radians()).matrix();
    axis(Vector3::z(), r[2]) * axis(Vector3::y(), r[1]) * axis(Vector3::x(), r[0])
}

fn parse(spec: &str) -> anyhow::Result<(String, [f32; 3])> {
    let (name, angles) = spec.rsplit_once('=').with_context(|| format!("{spec:?}: expected JOINT=RX,RY,RZ"))?;
    let v: Vec<f32> = angles
        .split(',')
        .map(|s| s.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("{spec:?}: angles must be numbers"))?;
    if v.len() != 3 {
        bail!("{spec:?}: expected three angles");
    }
    Ok((name.to_string(), [v[0], v[1], v[2]]))
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let rig = rig_io::load(&a.file).with_context(|| format!("{}", a.file.display()))?.rig;
    let s = &rig.skeleton;
    // Everything in the scene's frame, where the file's own nodes put the character (a mesh
    // bound under a turned node, CesiumMan's Z_UP, stands upright), as other programs show it.
    let world_from_mesh = rig.display_from_mesh();
    let mut model_from_joint = match a.from {
        Start::Bind => s.model_from_joints_bind().iter().map(|m| world_from_mesh * m).collect(),
        Start::Rest => s.model_from_joints_rest(),
    };
    // Where the vertices are before the rotations: the stored mesh for the bind pose, the
    // mesh skinned into the rest pose otherwise.
    let skin = |model_from_joint: &[rig_core::Mat4]| {
        let skinning: Vec<_> = model_from_joint.iter().zip(&s.joints).map(|(m, j)| m * j.joint_from_mesh).collect();
        skin_positions(&rig.mesh.positions, &rig.weights, &skinning)
    };
    let start = match a.from {
        Start::Bind => {
            rig.mesh.positions.iter().map(|p| world_from_mesh.transform_point(&(*p).into()).coords.into()).collect::<Vec<[f32; 3]>>()
        }
        Start::Rest => skin(&model_from_joint),
    };
    for spec in &a.pose_world {
        let (name, angles) = parse(spec)?;
        let j = s.find(&name).with_context(|| format!("no joint named {name:?}"))?;
        rotate_subtree_in_model_space(s, &mut model_from_joint, j, &euler_xyz_deg(angles));
    }
    let posed = skin(&model_from_joint);
    let doc = json!({
        "file": a.file.display().to_string(),
        "pose_world": a.pose_world,
        "rest": start,
        "deformed": posed,
    });
    let text = serde_json::to_string(&doc)?;
    match a.out {
        Some(p) => std::fs::write(&p, text).with_context(|| format!("{}", p.display()))?,
        None => println!("{text}"),
    }
    Ok(())
}
