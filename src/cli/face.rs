//! `rigsmith face-rig`: ARKit's 52 blendshapes for a head mesh.

use std::path::PathBuf;

use anyhow::Context;
use rig_pipeline::face::{load_refiner, load_template, run_face_rig, template_path};
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// The head (.glb, .gltf, .obj or .fbx): any topology, scale and orientation, with or
    /// without separate eyes and teeth.
    #[arg(long)]
    input: PathBuf,
    /// The file to write (.glb, .gltf or .fbx): the same mesh with 52 morph targets named as ARKit's.
    #[arg(long)]
    output: PathBuf,
    /// The models folder holding face/ict_face_expressions.glb (default: RIGSMITH_MODELS, else the source tree's models/).
    #[arg(long)]
    models: Option<PathBuf>,
    /// Print the figures as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Keep the transfer's shapes as they are, without the learned refinement.
    #[arg(long)]
    no_learned: bool,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let template = load_template(&template_path(a.models.as_deref()))?;
    let refiner = if a.no_learned {
        None
    } else {
        Some(load_refiner(a.models.as_deref()).context("the learned refinement (--no-learned rigs without it)")?)
    };
    let imported = rig_io::load(&a.input).with_context(|| format!("{}", a.input.display()))?;
    let mut rig = imported.rig;
    let bar = super::files::progress_bar(100);
    let say = |stage: &str, f: f32| {
        bar.set_position((f * 100.0) as u64);
        bar.set_message(stage.to_string());
    };
    let report = run_face_rig(&mut rig, &template, refiner.as_ref(), &rig_core::Task::reporting(&say))
        .with_context(|| format!("{}", a.input.display()));
    bar.finish_and_clear();
    let report = report?;
    let warnings = rig_io::save(&rig, &a.output, &rig_io::ExportOptions::default()).with_context(|| format!("{}", a.output.display()))?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let flags: Vec<String> = rig_core::face::health::shape_flags(&rig.mesh)
        .iter()
        .filter(|(n, _)| rig_core::face::ARKIT_52.contains(&n.as_str()))
        .map(|(n, f)| f.describe(n))
        .collect();
    for f in &flags {
        eprintln!("warning: {f}");
    }
    if a.json {
        let doc = json!({
            "input": a.input.display().to_string(),
            "output": a.output.display().to_string(),
            "seconds": report.seconds,
            "shapes": report.shapes,
            "scale": report.scale,
            "residual": report.residual,
            "face_vertices": report.face_vertices,
            "eyeballs": report.eyeballs,
            "up": report.up,
            "front": report.front,
            "refined_offsets": report.refined,
            "flags": flags,
        });
        println!("{doc}");
    } else {
        println!(
            "face rig of {} in {:.2} s -> {}: {} shapes, {} face vertices, {} eyeballs turned for the gaze; up {:.2?}, front {:.2?}",
            a.input.display(),
            report.seconds,
            a.output.display(),
            report.shapes,
            report.face_vertices,
            report.eyeballs,
            report.up,
            report.front
        );
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum TopologyArg {
    Own,
    Subdivided,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// ICT's identity model (ict_face_identities.glb: the neutral head with the identity modes as morph targets).
    #[arg(long)]
    identities: PathBuf,
    /// Heads to make: identities drawn with these seeds (FIRST..END, END not included).
    #[arg(long, default_value = "1000..1010")]
    seeds: String,
    /// The heads' topology: ICT's own, or every triangle split in four.
    #[arg(long, value_enum, default_value = "own")]
    topology: TopologyArg,
    /// The models folder holding face/ict_face_expressions.glb.
    #[arg(long)]
    models: Option<PathBuf>,
    /// Write each head (ICT's topology, no shapes) here as head_SEED.glb, to re-mesh with another tool.
    #[arg(long)]
    write_heads: Option<PathBuf>,
    /// Rig head_SEED.glb from this folder instead (a re-meshed copy of that seed's head), scored against that head's shapes.
    #[arg(long)]
    variants: Option<PathBuf>,
    /// Score the transfer alone, without the learned refinement's column.
    #[arg(long)]
    no_learned: bool,
}

pub fn eval(a: EvalArgs) -> anyhow::Result<()> {
    use rig_pipeline::face_eval::{by_region, random_head, score_head, subdivide};
    let path = template_path(a.models.as_deref());
    let template_rig = rig_io::load(&path).with_context(|| format!("{}", path.display()))?.rig;
    let template = rig_core::face::FaceTemplate::from_ict(&template_rig.mesh).with_context(|| format!("{}", path.display()))?;
    let template_mesh = &template_rig.mesh;
    let identities = rig_io::load(&a.identities).with_context(|| format!("{}", a.identities.display()))?.rig.mesh;
    if identities.positions.len() != template_mesh.positions.len() {
        anyhow::bail!(
            "{}: {} vertices, the template has {}",
            a.identities.display(),
            identities.positions.len(),
            template_mesh.positions.len()
        );
    }
    let (first, end) = super::face_train::seed_range(&a.seeds, "--seeds")?;
    let refiner = if a.no_learned {
        None
    } else {
        Some(load_refiner(a.models.as_deref()).context("the learned refinement (--no-learned scores without it)")?)
    };
    let mut scores = Vec::new();
    for seed in first..end {
        let start = std::time::Instant::now();
        let head = random_head(template_mesh, &identities, seed);
        if let Some(dir) = &a.write_heads {
            std::fs::create_dir_all(dir)?;
            let rig = rig_core::Rig::unrigged(format!("head_{seed}"), head.clone(), template_rig.materials.clone());
            let path = dir.join(format!("head_{seed}.glb"));
            rig_io::save(&rig, &path, &rig_io::ExportOptions::default()).with_context(|| format!("{}", path.display()))?;
        }
        let rigged = match (&a.variants, a.topology) {
            (Some(dir), _) => {
                let path = dir.join(format!("head_{seed}.glb"));
                rig_io::load(&path).with_context(|| format!("{}", path.display()))?.rig.mesh
            }
            (None, TopologyArg::Own) => head.clone(),
            (None, TopologyArg::Subdivided) => subdivide(&head),
        };
        let s = score_head(&template, &head, &rigged, refiner.as_ref()).with_context(|| format!("seed {seed}"))?;
        let mean = |f: fn(&rig_pipeline::face_eval::ShapeScore) -> f32| s.iter().map(f).sum::<f32>() / s.len() as f32;
        eprintln!(
            "seed {seed}: {} vertices, {:.1} s; no motion {:.3} %, transfer {:.3} %, learned {:.3} %",
            rigged.positions.len(),
            start.elapsed().as_secs_f32(),
            mean(|x| x.no_motion),
            mean(|x| x.transfer),
            mean(|x| x.refined.unwrap_or(f32::NAN))
        );
        scores.extend(s);
    }
    println!("region     shapes  no motion  transfer   learned   (mean per-shape vertex error, % of the head's bounding-box diagonal)");
    let heads = (end - first).max(1) as usize;
    for (region, (still, moved, refined, n)) in by_region(&scores) {
        println!("{:10} {:6}  {:9.3}  {:8.3}  {:8.3}", region.name(), n / heads, still, moved, refined);
    }
    let all = |f: fn(&rig_pipeline::face_eval::ShapeScore) -> f32| scores.iter().map(f).sum::<f32>() / scores.len().max(1) as f32;
    let refined = all(|x| x.refined.unwrap_or(f32::NAN));
    println!("{:10} {:6}  {:9.3}  {:8.3}  {:8.3}", "all", scores.len() / heads, all(|x| x.no_motion), all(|x| x.transfer), refined);
    Ok(())
}
