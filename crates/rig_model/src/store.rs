//! Shipped weights: `<dir>/skin_tokenizer.json` and `<dir>/rig_generator.json` (the configs)
//! beside `<dir>/skin_tokenizer.mpk` and `<dir>/rig_generator.mpk` (the weights, burn's named
//! MessagePack format).

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::*;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};

use crate::features::SkinPrior;
use crate::generator::{RigGenerator, RigGeneratorConfig};
use crate::tokenizer::{SkinTokenizer, SkinTokenizerConfig};
use crate::ModelError;

pub const TOKENIZER_STEM: &str = "skin_tokenizer";
/// The skin predictor: a tokenizer whose encoder reads the geometric prior
/// ([`SkinTokenizerConfig::encodes_prior`]).
pub const PREDICTOR_STEM: &str = "skin_predictor";

/// The models folder: `given`, else `RIGSMITH_MODELS`, else the source tree's `models/`.
pub fn models_dir(given: Option<&Path>) -> PathBuf {
    given
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("RIGSMITH_MODELS").map(PathBuf::from))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

/// Writes the config and the weights into `dir` (each written beside, then renamed over, the old).
/// A skin predictor ([`SkinTokenizerConfig::encodes_prior`]) is written as `skin_predictor.*`.
pub fn save_tokenizer<B: Backend>(model: &SkinTokenizer<B>, config: &SkinTokenizerConfig, dir: &Path) -> Result<(), ModelError> {
    let stem = if config.encodes_prior { PREDICTOR_STEM } else { TOKENIZER_STEM };
    save_module(model, &config_to_json(config), dir, stem)
}

/// Writes `<dir>/<stem>.mpk` (the weights, full precision) and `<dir>/<stem>.json` (`config`),
/// each written beside, then renamed over, the old.
pub fn save_module<B: Backend, M: Module<B>>(model: &M, config: &str, dir: &Path, stem: &str) -> Result<(), ModelError> {
    fs::create_dir_all(dir)?;
    let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
    // The recorder replaces any extension with `.mpk`, so the temporary name has none.
    let tmp = dir.join(format!("{stem}_partial"));
    model.clone().save_file(&tmp, &recorder)?;
    fs::rename(tmp.with_extension("mpk"), dir.join(format!("{stem}.mpk")))?;
    let json = dir.join(format!("{stem}.json.tmp"));
    fs::write(&json, config)?;
    fs::rename(json, dir.join(format!("{stem}.json")))?;
    Ok(())
}

/// Loads the tokenizer shipped in `dir`.
pub fn load_tokenizer<B: Backend>(dir: &Path, device: &B::Device) -> Result<(SkinTokenizer<B>, SkinTokenizerConfig), ModelError> {
    let config = load_tokenizer_config(dir)?;
    Ok((load_tokenizer_weights(dir, &config, device)?, config))
}

/// Loads the skin predictor in `dir`, `None` when the folder has none.
pub fn load_predictor<B: Backend>(dir: &Path, device: &B::Device) -> Result<Option<SkinTokenizer<B>>, ModelError> {
    if !dir.join(format!("{PREDICTOR_STEM}.json")).exists() {
        return Ok(None);
    }
    let config = read_config(dir, PREDICTOR_STEM, true)?;
    Ok(Some(load_weights(dir, PREDICTOR_STEM, &config, device)?))
}

/// The weights of the tokenizer shipped in `dir`, whose config ([`load_tokenizer_config`]) is
/// `config`.
pub fn load_tokenizer_weights<B: Backend>(
    dir: &Path,
    config: &SkinTokenizerConfig,
    device: &B::Device,
) -> Result<SkinTokenizer<B>, ModelError> {
    load_weights(dir, TOKENIZER_STEM, config, device)
}

/// `<dir>/<stem>.mpk` into a network of `config`'s sizes.
fn load_weights<B: Backend>(
    dir: &Path,
    stem: &str,
    config: &SkinTokenizerConfig,
    device: &B::Device,
) -> Result<SkinTokenizer<B>, ModelError> {
    Ok(config.init::<B>(device).load_file(dir.join(stem), &NamedMpkFileRecorder::<FullPrecisionSettings>::new(), device)?)
}

/// The config of the tokenizer shipped in `dir` (its JSON file).
pub fn load_tokenizer_config(dir: &Path) -> Result<SkinTokenizerConfig, ModelError> {
    read_config(dir, TOKENIZER_STEM, false)
}

/// `<dir>/<stem>.json` as a tokenizer config (an unreadable file names itself in the error),
/// refused unless it is a skin predictor's exactly when `predictor` (the two are stored under
/// their own names: [`TOKENIZER_STEM`], [`PREDICTOR_STEM`]).
fn read_config(dir: &Path, stem: &str, predictor: bool) -> Result<SkinTokenizerConfig, ModelError> {
    let config_path = dir.join(format!("{stem}.json"));
    let text = fs::read_to_string(&config_path).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", config_path.display())))?;
    let config = config_from_json(&text)?;
    if config.encodes_prior != predictor {
        let (is, expected) = if predictor { ("a tokenizer", PREDICTOR_STEM) } else { ("a skin predictor", TOKENIZER_STEM) };
        return Err(ModelError::Config(format!(
            "{}: it describes {is} (\"encodes_prior\": {}), where {expected}.json is expected; a tokenizer is stored as {TOKENIZER_STEM}.*, a predictor as {PREDICTOR_STEM}.*",
            config_path.display(),
            config.encodes_prior
        )));
    }
    Ok(config)
}

pub fn config_to_json(c: &SkinTokenizerConfig) -> String {
    let mut v = serde_json::json!({
        "tokens": c.tokens, "levels": c.levels, "encoder_width": c.encoder_width, "decoder_width": c.decoder_width,
        "points": c.points, "prior": c.prior, "presence": c.presence,
    });
    // Written only for predictors, so tokenizer run folders from before the field resume.
    if c.encodes_prior {
        v["encodes_prior"] = serde_json::Value::Bool(true);
    }
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

pub fn config_from_json(text: &str) -> Result<SkinTokenizerConfig, ModelError> {
    #[derive(serde::Deserialize)]
    struct C {
        tokens: usize,
        levels: Vec<usize>,
        encoder_width: usize,
        decoder_width: usize,
        #[serde(default = "default_points")]
        points: usize,
        /// Configs written before the choice existed were trained on the falloff binder.
        #[serde(default)]
        prior: SkinPrior,
        /// Configs written before the head existed have none.
        #[serde(default)]
        presence: bool,
        /// Tokenizers (written before predictors existed) encode the artist's weights.
        #[serde(default)]
        encodes_prior: bool,
    }
    fn default_points() -> usize {
        SkinTokenizerConfig::new().points
    }
    let c: C = serde_json::from_str(text)?;
    if c.tokens == 0
        || c.levels.is_empty()
        || c.levels.iter().any(|&l| l < 2)
        || c.points == 0
        || c.encoder_width == 0
        || c.decoder_width < 2
    {
        return Err(ModelError::Config(format!(
            "tokens, points and widths must be positive and every FSQ level at least 2 (tokens {}, levels {:?}, points {}, widths {}/{})",
            c.tokens, c.levels, c.points, c.encoder_width, c.decoder_width
        )));
    }
    Ok(SkinTokenizerConfig::new()
        .with_tokens(c.tokens)
        .with_levels(c.levels)
        .with_encoder_width(c.encoder_width)
        .with_decoder_width(c.decoder_width)
        .with_points(c.points)
        .with_prior(c.prior)
        .with_presence(c.presence)
        .with_encodes_prior(c.encodes_prior))
}

pub const GENERATOR_STEM: &str = "rig_generator";

/// Writes the generator's config and weights into `dir` (each written beside, then renamed).
pub fn save_generator<B: Backend>(model: &RigGenerator<B>, config: &RigGeneratorConfig, dir: &Path) -> Result<(), ModelError> {
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{GENERATOR_STEM}_partial"));
    model.clone().save_file(&tmp, &NamedMpkFileRecorder::<FullPrecisionSettings>::new())?;
    fs::rename(tmp.with_extension("mpk"), dir.join(format!("{GENERATOR_STEM}.mpk")))?;
    let json = dir.join(format!("{GENERATOR_STEM}.json.tmp"));
    fs::write(&json, serde_json::to_string_pretty(config)?)?;
    fs::rename(json, dir.join(format!("{GENERATOR_STEM}.json")))?;
    Ok(())
}

/// Loads the generator shipped in `dir`.
pub fn load_generator<B: Backend>(dir: &Path, device: &B::Device) -> Result<(RigGenerator<B>, RigGeneratorConfig), ModelError> {
    let config_path = dir.join(format!("{GENERATOR_STEM}.json"));
    let text = fs::read_to_string(&config_path).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", config_path.display())))?;
    let config: RigGeneratorConfig = serde_json::from_str(&text)?;
    config.check().map_err(|e| ModelError::Config(format!("{}: {e}", config_path.display())))?;
    let model =
        config.init::<B>(device).load_file(dir.join(GENERATOR_STEM), &NamedMpkFileRecorder::<FullPrecisionSettings>::new(), device)?;
    Ok((model, config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tokenizer_config_keeps_its_prior_and_old_configs_read_as_falloff() {
        let heat = SkinTokenizerConfig::new().with_points(64).with_prior(SkinPrior::Heat);
        let back = config_from_json(&config_to_json(&heat)).expect("round trip");
        assert_eq!((back.prior, back.points, back.encodes_prior), (SkinPrior::Heat, 64, false));
        let predictor = config_from_json(&config_to_json(&heat.with_encodes_prior(true))).expect("round trip");
        assert!(predictor.encodes_prior, "a skin predictor stays one");
        let old = r#"{"tokens": 4, "levels": [8, 8, 8, 5, 5, 5], "encoder_width": 64, "decoder_width": 128, "points": 256}"#;
        let old = config_from_json(old).expect("an old config loads");
        assert_eq!((old.prior, old.encodes_prior), (SkinPrior::Falloff, false));
    }

    #[test]
    fn a_predictor_config_under_the_tokenizer_name_is_refused_and_the_other_way_round() {
        let dir = std::env::temp_dir().join(format!("rigsmith-store-stems-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("temp dir");
        let tokenizer = SkinTokenizerConfig::new().with_prior(SkinPrior::Heat);
        fs::write(dir.join(format!("{TOKENIZER_STEM}.json")), config_to_json(&tokenizer.clone().with_encodes_prior(true))).expect("write");
        fs::write(dir.join(format!("{PREDICTOR_STEM}.json")), config_to_json(&tokenizer)).expect("write");
        let err = load_tokenizer_config(&dir).expect_err("a predictor's config is not a tokenizer's");
        assert!(err.to_string().contains("a skin predictor"), "{err}");
        let err = load_predictor::<crate::CpuBackend>(&dir, &Default::default()).expect_err("a tokenizer's config is not a predictor's");
        assert!(err.to_string().contains("a tokenizer"), "{err}");
        let _ = fs::remove_dir_all(&dir);
        assert!(load_predictor::<crate::CpuBackend>(&dir, &Default::default()).expect("no folder, no predictor").is_none());
    }
}
