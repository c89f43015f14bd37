//! Progress bars over files; finding and pairing them is the pipeline's.

pub use rig_pipeline::files::{inputs_in, key};

/// A progress bar for `len` files: bar, count, elapsed time, current file.
pub fn progress_bar(len: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len as u64);
    let style = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}");
    bar.set_style(style.unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
    bar
}
