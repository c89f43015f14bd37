//! `rigsmith inspect FILE`

use std::path::PathBuf;

use anyhow::Context;
use rig_core::stats::RigStats;
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// The file to read (.glb, .gltf, .vrm, .obj, or a RigNet NAME_rig.txt).
    file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let imported = rig_io::load(&a.file).with_context(|| format!("{}", a.file.display()))?;
    let s = RigStats::of(&imported.rig);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&as_json(&s, &imported))?);
        return Ok(());
    }
    print_text(&s, &imported);
    Ok(())
}

fn as_json(s: &RigStats, imported: &rig_io::Imported) -> serde_json::Value {
    let rig = &imported.rig;
    let weighted = rig.weights.vertices_per_joint(rig.skeleton.len());
    let joints: Vec<_> = rig
        .skeleton
        .joints
        .iter()
        .zip(&weighted)
        .zip(rig_core::autoskin::bones::bind_positions(&rig.skeleton))
        .map(|((j, n), p)| json!({ "name": j.name, "parent": j.parent, "deform": j.deform, "weighted_vertices": n, "bind_position": [p.x, p.y, p.z] }))
        .collect();
    json!({
        "vertices": s.vertices, "triangles": s.triangles, "degenerate_triangles": s.degenerate_triangles,
        "parts": s.parts, "joints": s.joints, "deform_joints": s.deform_joints,
        "influence_histogram": s.influences, "weight_sum_min": s.weight_sum_min, "weight_sum_max": s.weight_sum_max,
        "unweighted_skinned_vertices": s.unweighted_skinned_vertices, "bounds_size": s.bounds_size,
        "morph_targets": s.morph_targets, "materials": imported.rig.materials.materials.len(), "images": imported.rig.materials.images.len(),
        "clips": s.clips.iter().map(|(n, a, b, c)| json!({ "name": n, "start_secs": a, "end_secs": b, "channels": c })).collect::<Vec<_>>(),
        "skeleton": joints, "naming": rig_core::naming::recognise(&rig.skeleton).map(|p| p.label()), "warnings": imported.warnings,
    })
}

fn print_text(s: &RigStats, imported: &rig_io::Imported) {
    let rig = &imported.rig;
    println!("{}", rig.name);
    println!("  vertices      {}", s.vertices);
    println!("  triangles     {} ({} degenerate)", s.triangles, s.degenerate_triangles);
    println!("  parts         {} ({} materials, {} images)", s.parts, rig.materials.materials.len(), rig.materials.images.len());
    if let Some(b) = s.bounds_size {
        println!("  size          {:.4} x {:.4} x {:.4}", b[0], b[1], b[2]);
    }
    let naming = rig_core::naming::recognise(&rig.skeleton).map_or(String::new(), |p| format!(", {} names", p.label()));
    println!("  joints        {} ({} deform{naming})", s.joints, s.deform_joints);
    let hist: Vec<String> = s.influences.iter().enumerate().filter(|(_, n)| **n > 0).map(|(k, n)| format!("{k}:{n}")).collect();
    println!("  influences    {} (influences:vertices)", hist.join(" "));
    println!(
        "  weight sums   min {:.6} max {:.6}; {} skinned vertices unweighted",
        s.weight_sum_min, s.weight_sum_max, s.unweighted_skinned_vertices
    );
    println!("  morph targets {}", s.morph_targets);
    println!("  animations    {}", s.clips.len());
    for (name, start, end, channels) in &s.clips {
        println!("    {name:<32} {start:>7.3}s .. {end:>7.3}s  {channels} channels");
    }
    println!("  warnings      {}", imported.warnings.len());
    for w in &imported.warnings {
        println!("    - {w}");
    }
}
