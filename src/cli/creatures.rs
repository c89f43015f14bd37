//! `rigsmith creatures`: write procedural creatures (random skeleton, grown surface, weights
//! from the construction) as rigged files, to look at what `train --creatures` learns from.

use std::path::PathBuf;

use anyhow::Context;
use rig_core::creature::{creature, CreatureOptions};

#[derive(clap::Args)]
pub struct Args {
    /// Folder to write into (created if missing).
    #[arg(long)]
    output: PathBuf,
    /// How many creatures.
    #[arg(long, default_value_t = 8)]
    count: usize,
    /// Seed of the first creature; the others take the next seeds.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Grid cells along each creature's longest side (sets the vertex count).
    #[arg(long, default_value_t = CreatureOptions::default().resolution)]
    resolution: usize,
    /// File type: glb, gltf or fbx.
    #[arg(long, default_value = "glb")]
    format: String,
    /// Also give each creature a clip of random smooth joint motion with this many frames
    /// (24 per second), for rig from motion.
    #[arg(long)]
    motion_frames: Option<usize>,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    std::fs::create_dir_all(&a.output).with_context(|| format!("cannot create {}", a.output.display()))?;
    let options = CreatureOptions { resolution: a.resolution.clamp(16, 512), ..Default::default() };
    let bar = super::files::progress_bar(a.count);
    for seed in a.seed..a.seed + a.count as u64 {
        let mut rig = creature(seed, &options);
        if let Some(frames) = a.motion_frames {
            rig.clips.push(rig_core::creature::motion::random_motion(&rig.skeleton, seed, frames.max(2), 24.0));
        }
        let path = a.output.join(format!("{}.{}", rig.name, a.format));
        rig_io::save(&rig, &path, &rig_io::ExportOptions::default()).with_context(|| format!("{}", path.display()))?;
        bar.suspend(|| eprintln!("{}: {} vertices, {} joints", path.display(), rig.mesh.vertex_count(), rig.skeleton.len()));
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(())
}
