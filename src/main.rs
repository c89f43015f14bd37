//! `rigsmith`: the command line over Rigsmith's libraries.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
