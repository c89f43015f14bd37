//! Training runs on disk, shared by the tokenizer's and the generator's training.
//!
//! A run folder holds `epoch-N/` (weights and optimiser state of the last finished epoch),
//! `state.json` (which epoch folder is current, the options and the model config) and
//! `losses.csv`. Each epoch is written into a new folder first and `state.json` is replaced
//! (write, then rename) only when that folder is complete, so a crash at any point leaves a
//! consistent checkpoint to resume from; the CSV is cut back to the checkpoint's epoch on resume.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use burn::optim::Optimizer;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder, Recorder};
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Where the run keeps its files.
pub struct RunDir(pub PathBuf);

#[derive(Debug, Serialize, Deserialize)]
struct State {
    epoch: usize,
    step: usize,
    options: serde_json::Value,
    config: serde_json::Value,
}

/// One line of the loss log.
#[derive(Debug, Clone, Copy)]
pub struct EpochLoss {
    pub epoch: usize,
    pub train: f32,
    pub validation: f32,
    pub learning_rate: f64,
}

impl RunDir {
    fn epoch(&self, epoch: usize) -> PathBuf {
        self.0.join(format!("epoch-{epoch}"))
    }
    fn state(&self) -> PathBuf {
        self.0.join("state.json")
    }
    /// Whether the folder holds a finished epoch to resume from.
    pub fn has_checkpoint(&self) -> bool {
        self.state().is_file()
    }
    /// The weights of the epoch with the lowest validation loss (`best/model.mpk`).
    pub fn best_model(&self) -> PathBuf {
        self.0.join("best").join("model")
    }
    pub fn losses(&self) -> PathBuf {
        self.0.join("losses.csv")
    }

    /// The model and optimiser of the run's checkpoint with the epoch and step it reached, or
    /// the fresh ones given (and a new loss log) when the folder has none. A checkpoint trained
    /// with another config is refused.
    pub fn resume<B, M, O>(
        &self,
        config: &serde_json::Value,
        model: M,
        optim: O,
        device: &B::Device,
    ) -> Result<(M, O, usize, usize), ModelError>
    where
        B: AutodiffBackend,
        M: AutodiffModule<B>,
        O: Optimizer<M, B>,
    {
        fs::create_dir_all(&self.0)?;
        let Ok(text) = fs::read_to_string(self.state()) else {
            fs::write(self.losses(), "epoch,train_loss,validation_loss,learning_rate\n")?;
            return Ok((model, optim, 0, 0));
        };
        let state: State = serde_json::from_str(&text)?;
        if &state.config != config {
            return Err(ModelError::Config(format!(
                "{} was trained with {} and cannot resume as {}; use another --run folder",
                self.0.display(),
                state.config,
                config
            )));
        }
        let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
        let folder = self.epoch(state.epoch);
        let model = model.load_file(folder.join("model"), &recorder, device)?;
        let optim = optim.load_record(recorder.load(folder.join("optimizer"), device)?);
        keep_loss_lines(&self.losses(), state.epoch)?;
        Ok((model, optim, state.epoch, state.step))
    }

    /// Writes `epoch`'s checkpoint, switches `state.json` to it and drops the previous one;
    /// when `validation` is the lowest so far, the weights also replace `best/`.
    #[allow(clippy::too_many_arguments)]
    pub fn save_epoch<B, M, O>(
        &self,
        epoch: usize,
        step: usize,
        validation: f32,
        options: serde_json::Value,
        config: &serde_json::Value,
        model: &M,
        optim: &O,
    ) -> Result<(), ModelError>
    where
        B: AutodiffBackend,
        M: AutodiffModule<B>,
        O: Optimizer<M, B>,
    {
        let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
        let folder = self.epoch(epoch);
        fs::create_dir_all(&folder)?;
        model.clone().save_file(folder.join("model"), &recorder)?;
        recorder.record(optim.to_record(), folder.join("optimizer"))?;
        if validation.is_finite() && self.best_epoch().is_none_or(|(_, v)| validation < v) {
            let partial = self.0.join("best.partial");
            let _ = fs::remove_dir_all(&partial);
            fs::create_dir_all(&partial)?;
            fs::copy(folder.join("model.mpk"), partial.join("model.mpk"))?;
            // The epoch travels with its weights, so no crash can mislabel them.
            fs::write(partial.join("epoch.json"), serde_json::to_string(&(epoch, validation))?)?;
            let _ = fs::remove_dir_all(self.0.join("best"));
            fs::rename(&partial, self.0.join("best"))?;
        }
        let state = State { epoch, step, options, config: config.clone() };
        let partial = self.0.join("state.json.partial");
        fs::write(&partial, serde_json::to_string_pretty(&state)?)?;
        fs::rename(&partial, self.state())?;
        if epoch > 1 {
            let _ = fs::remove_dir_all(self.epoch(epoch - 1));
        }
        Ok(())
    }
}

impl RunDir {
    /// The epoch whose weights are in `best/` and its validation loss.
    pub fn best_epoch(&self) -> Option<(usize, f32)> {
        let text = fs::read_to_string(self.0.join("best").join("epoch.json")).ok()?;
        serde_json::from_str(&text).ok()
    }
}

/// Cuts the loss log back to its header and the first `epochs` lines (a crash after a line was
/// written but before its checkpoint leaves one line too many).
fn keep_loss_lines(path: &Path, epochs: usize) -> Result<(), ModelError> {
    let text = fs::read_to_string(path).unwrap_or_default();
    let kept: Vec<&str> = text.lines().take(epochs + 1).collect();
    fs::write(path, kept.join("\n") + "\n")?;
    Ok(())
}

/// The lines of a loss log (empty when there is none).
pub fn read_losses(path: &Path) -> Vec<EpochLoss> {
    let text = fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Some(EpochLoss {
                epoch: f.first()?.parse().ok()?,
                train: f.get(1)?.parse().ok()?,
                validation: f.get(2)?.parse().ok()?,
                learning_rate: f.get(3)?.parse().ok()?,
            })
        })
        .collect()
}

pub fn append_loss(path: &Path, l: &EpochLoss) -> Result<(), ModelError> {
    let mut f = fs::OpenOptions::new().append(true).create(true).open(path)?;
    writeln!(f, "{},{:.6},{:.6},{:.3e}", l.epoch, l.train, l.validation, l.learning_rate)?;
    Ok(())
}
