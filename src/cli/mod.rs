//! Command-line parsing and dispatch. Each subcommand lives in its own file.

mod bench;
mod convert;
mod creatures;
mod edit;
mod eval;
mod files;
mod inspect;
mod learned;
mod pose;
mod rig;
mod tokenize;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Rigsmith: rig characters, inspect and convert rigs.
#[derive(Parser)]
#[command(name = "rigsmith", version, about, long_about = None)]
struct Cli {
    /// With no subcommand, the editor opens.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Open the editor window, optionally with a file.
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
    /// Write procedural creatures (random skeleton, grown surface, weights from the construction).
    Creatures(creatures::Args),
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Edit(edit::Args::default())) {
        Command::Edit(a) => edit::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Convert(a) => convert::run(a),
        Command::Pose(a) => pose::run(a),
        Command::Rig(a) => rig::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Train(a) => train::run(a),
        Command::Tokenize(a) => tokenize::run(a),
        Command::Creatures(a) => creatures::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            eprintln!("error: {}", chain.join(": "));
            ExitCode::FAILURE
        }
    }
}
