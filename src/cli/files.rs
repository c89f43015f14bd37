//! Progress bars over files; finding and pairing them is the pipeline's.

pub use rig_pipeline::files::{inputs_in, key};

/// A progress bar for `len` files: bar, count, elapsed time, current file.
pub fn progress_bar(len: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len as u64);
    let style = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}");
    bar.set_style(style.unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
    bar
}

/// Refuses to write `output` when it would lose data of `input` (`losses`: what the rig did
/// not keep from the file and what the output format cannot hold), unless `force`; with
/// `force`, says what is left out.
pub fn check_losses(input: &std::path::Path, output: &std::path::Path, losses: &[String], force: bool) -> anyhow::Result<()> {
    if losses.is_empty() {
        return Ok(());
    }
    let list: String = losses.iter().map(|l| format!("\n  - {}", l.strip_prefix(rig_io::NOT_KEPT).unwrap_or(l))).collect();
    if force {
        eprintln!("warning: {} leaves out, from {}:{list}", output.display(), input.display());
        return Ok(());
    }
    anyhow::bail!(
        "{} would leave out what Rigsmith cannot carry over from {}:{list}\nWrite it anyway with --force.",
        output.display(),
        input.display()
    )
}
