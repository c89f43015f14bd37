//! `rigsmith`: the command line over Rigsmith's libraries.

mod cli;

fn main() -> std::process::ExitCode {
    restore_sigpipe();
    cli::run()
}

/// Rust ignores SIGPIPE, so `rigsmith inspect big.glb | head` would panic on the closed pipe;
/// like other command-line tools, Rigsmith stops quietly instead.
#[cfg(unix)]
fn restore_sigpipe() {
    // SAFETY: called first thing in main, before any thread starts; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}
