//! Command-line parsing and dispatch. Each subcommand lives in its own file.

mod bench;
mod convert;
mod creatures;
#[cfg(feature = "editor")]
mod edit;
mod eval;
mod face;
mod face_train;
mod files;
mod inspect;
mod invert;
mod learned;
mod merge;
mod motion;
mod pose;
mod retarget;
mod rig;
mod tokenize;
mod train;
mod train_motion;
mod train_pruner;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Rigsmith: rig characters, inspect and convert rigs.
#[derive(Parser)]
#[command(name = "rigsmith", version, about, long_about = None, args_conflicts_with_subcommands = true)]
struct Cli {
    /// With no subcommand, the editor opens (with FILE when given: `rigsmith FILE`).
    #[command(subcommand)]
    command: Option<Command>,
    /// A file to open in the editor.
    file: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Open the editor window, optionally with a file.
    #[cfg(feature = "editor")]
    Edit(edit::Args),
    /// Print a file's mesh, skeleton, skin and animation statistics and any warnings.
    Inspect(inspect::Args),
    /// Read a rig and write it as glTF (.gltf) or GLB (.glb).
    Convert(convert::Args),
    /// Generate a skin (and, later, a skeleton) for a file or a folder of files.
    Rig(rig::Args),
    /// Compare predicted rigs with the artists' rigs: skeleton Chamfer, skin precision/recall/L1, posed error.
    Eval(eval::Args),
    /// Pose a rig from its bind pose and print skinned vertex positions as JSON.
    Pose(pose::Args),
    /// Time import and export of a large skinned mesh made by subdividing a sample.
    Bench(bench::Args),
    /// Train a learned model (the skin tokenizer) on rigged characters.
    Train(train::Args),
    /// Round-trip skins through the skin tokenizer and score the reconstruction.
    Tokenize(tokenize::Args),
    /// Recover a skeleton, skin weights and a clip from a mesh sequence (OBJ frames or a baked clip).
    RigFromMotion(motion::Args),
    /// Join the manifests written by the shards of `rigsmith rig --shard I/N` into one.
    MergeManifests(merge::Args),
    /// Play another file's clips on a rig: joints paired by name, rest pose and facing corrected.
    Retarget(retarget::Args),
    /// Solve an existing rig's controls (joints, morph weights) that reproduce target meshes, as one clip.
    Invert(invert::Args),
    /// Write procedural creatures (random skeleton, grown surface, weights from the construction).
    Creatures(creatures::Args),
    /// Add ARKit's 52 blendshapes to a head mesh (any topology; eyes, teeth and tongue included).
    FaceRig(face::Args),
    /// Score face rigs on ICT heads (new identities at ICT's own or a subdivided topology) against ICT's own shapes.
    FaceEval(face::EvalArgs),
    /// Train the face rig's learned refinement on ICT identities (own, subdivided and simplified topologies).
    TrainFace(face_train::Args),
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let Some(command) = cli.command else { return open_editor(cli.file) };
    let result = match command {
        #[cfg(feature = "editor")]
        Command::Edit(a) => edit::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Convert(a) => convert::run(a),
        Command::Pose(a) => pose::run(a),
        Command::Rig(a) => rig::run(a),
        Command::FaceRig(a) => face::run(a),
        Command::FaceEval(a) => face::eval(a),
        Command::TrainFace(a) => face_train::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Train(a) => train::run(a),
        Command::Tokenize(a) => tokenize::run(a),
        Command::Creatures(a) => creatures::run(a),
        Command::RigFromMotion(a) => motion::run(a),
        Command::Invert(a) => invert::run(a),
        Command::Retarget(a) => retarget::run(a),
        Command::MergeManifests(a) => merge::run(a),
    };
    finish(result)
}

/// `rigsmith` or `rigsmith FILE`: the editor.
#[cfg(feature = "editor")]
fn open_editor(file: Option<std::path::PathBuf>) -> ExitCode {
    finish(edit::run(edit::Args::with_file(file)))
}

/// A build without the editor says so and lists the commands it has.
#[cfg(not(feature = "editor"))]
fn open_editor(_file: Option<std::path::PathBuf>) -> ExitCode {
    use clap::CommandFactory;
    eprintln!("error: this rigsmith was built without the editor (--no-default-features); rebuild with the default features to open files in a window. The commands it has:");
    let _ = Cli::command().print_help();
    ExitCode::from(2)
}

fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line, each said once: a cause whose text the line already
/// holds is left out, and a cause that repeats the whole line (a path) and says more replaces it.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain().map(|c| c.to_string()) {
        if line.contains(&cause) {
            continue;
        }
        if !line.is_empty() && cause.contains(&line) {
            line = cause; // the cause names what the context said (a path) and more
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&cause);
    }
    line
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory (os error 2)");
        let e = anyhow::Error::new(io).context("cannot read /nope/x.glb: No such file or directory (os error 2)").context("/nope/x.glb");
        assert_eq!(super::one_line(&e), "cannot read /nope/x.glb: No such file or directory (os error 2)");
    }
}
