//! The skin tokenizer: an FSQ autoencoder of one bone's skin weights, conditioned on the shape.
//!
//! Shapes (B bones, N sampled vertices per bone, F = [`FEATURES`]):
//! - encoder input `[B, N, F + 2]`: each sample's features, its weight for the bone and whether
//!   that weight is non-zero; a point-wise MLP, then mean, max and weight-weighted mean pooling
//!   over the N samples, then an MLP to `[B, tokens * levels.len()]`, quantised by FSQ;
//! - decoder input `[R, F + tokens * levels.len()]`: one row per (vertex, bone) with the bone's
//!   quantised code; output `[R]` scores, turned into weights by a softmax over the bones that
//!   compete at each vertex, and, with `presence` in the config, `[R]` logits of whether the
//!   bone influences the vertex at all (trained on the artist's non-zero weights, so decoding
//!   can keep small real influences and drop small spurious ones).

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::gelu;

use crate::features::{SkinPrior, FEATURES};
use crate::fsq;

#[derive(Config, Debug)]
pub struct SkinTokenizerConfig {
    /// Tokens per bone (the paper: 4).
    #[config(default = 4)]
    pub tokens: usize,
    /// FSQ levels of each token's dimensions (codebook = product).
    #[config(default = "vec![8, 8, 8, 5, 5, 5]")]
    pub levels: Vec<usize>,
    /// Width of the encoder's point-wise layers.
    #[config(default = 64)]
    pub encoder_width: usize,
    /// Width of the decoder's layers.
    #[config(default = 128)]
    pub decoder_width: usize,
    /// Vertices the encoder sees per bone (max pooling depends on it: the same in training and
    /// inference).
    #[config(default = 256)]
    pub points: usize,
    /// The geometric binder whose weights the features include (configs written before the
    /// choice existed used the falloff binder).
    #[config(default = "SkinPrior::Falloff")]
    pub prior: SkinPrior,
    /// A second decoder head: whether the bone influences the vertex at all.
    #[config(default = false)]
    pub presence: bool,
    /// The encoder reads the geometric prior's weights instead of the artist's, and is trained
    /// to give the codes that decode to the artist's: a skin predictor, which needs no artist.
    #[config(default = false)]
    pub encodes_prior: bool,
}

impl SkinTokenizerConfig {
    /// Numbers per bone code (tokens x dimensions per token).
    pub fn code_width(&self) -> usize {
        self.tokens * self.levels.len()
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> SkinTokenizer<B> {
        let (e, d, c) = (self.encoder_width, self.decoder_width, self.code_width());
        let lin = |i, o| LinearConfig::new(i, o).init(device);
        SkinTokenizer {
            enc_point: [lin(FEATURES + 2, e), lin(e, e)],
            enc_head: [lin(3 * e, 2 * e), lin(2 * e, c)],
            dec: [lin(FEATURES + c, d), lin(d, d), lin(d, d / 2)],
            dec_out: lin(d / 2, 1),
            dec_presence: self.presence.then(|| lin(d / 2, 1)),
            levels: self.levels.clone(),
            points: self.points,
            prior: self.prior,
            encodes_prior: self.encodes_prior,
        }
    }
}

#[derive(Module, Debug)]
pub struct SkinTokenizer<B: Backend> {
    enc_point: [Linear<B>; 2],
    enc_head: [Linear<B>; 2],
    dec: [Linear<B>; 3],
    dec_out: Linear<B>,
    dec_presence: Option<Linear<B>>,
    levels: Vec<usize>,
    points: usize,
    #[module(skip)]
    prior: SkinPrior,
    #[module(skip)]
    encodes_prior: bool,
}

impl<B: Backend> SkinTokenizer<B> {
    /// `[B, N, F + 2]` samples to quantised codes `[B, code_width]` in [-1, 1].
    pub fn encode(&self, samples: Tensor<B, 3>) -> Tensor<B, 2> {
        fsq::quantize(self.encode_latent(samples), &self.levels)
    }

    /// `[B, N, F + 2]` samples to the latents `[B, code_width]` before quantisation (any real
    /// numbers; [`fsq::quantize`] turns them into codes).
    pub fn encode_latent(&self, samples: Tensor<B, 3>) -> Tensor<B, 2> {
        let [b, _, _] = samples.dims();
        let weight = samples.clone().narrow(2, FEATURES, 1);
        let mut h = samples;
        for layer in &self.enc_point {
            h = gelu(layer.forward(h));
        }
        let mean = h.clone().mean_dim(1);
        let max = h.clone().max_dim(1);
        let mass = weight.clone().sum_dim(1) + 1e-4;
        let weighted = (h * weight).sum_dim(1) / mass;
        let width = self.enc_point[1].weight.dims()[1];
        let pooled: Tensor<B, 2> = Tensor::cat(vec![mean, max, weighted], 2).reshape([b, 3 * width]);
        let x = gelu(self.enc_head[0].forward(pooled));
        self.enc_head[1].forward(x)
    }

    /// Weight logits `[R]` for rows `[R, F]` of features and codes `[R, code_width]`.
    pub fn decode(&self, features: Tensor<B, 2>, codes: Tensor<B, 2>) -> Tensor<B, 1> {
        self.decode_heads(features, codes).0
    }

    /// Weight logits `[R]` and, when the model has the head, presence logits `[R]`.
    pub fn decode_heads(&self, features: Tensor<B, 2>, codes: Tensor<B, 2>) -> (Tensor<B, 1>, Option<Tensor<B, 1>>) {
        let mut h = Tensor::cat(vec![features, codes], 1);
        for layer in &self.dec {
            h = gelu(layer.forward(h));
        }
        let [r, _] = h.dims();
        let presence = self.dec_presence.as_ref().map(|head| head.forward(h.clone()).reshape([r]));
        (self.dec_out.forward(h).reshape([r]), presence)
    }

    /// Whether the decoder also says which bones influence a vertex at all.
    pub fn has_presence(&self) -> bool {
        self.dec_presence.is_some()
    }

    pub fn levels(&self) -> &[usize] {
        &self.levels
    }

    /// Numbers in one bone's code (tokens x dimensions per token).
    pub fn code_width(&self) -> usize {
        self.enc_head[1].weight.dims()[1]
    }

    /// The geometric binder the model's features were built with.
    pub fn prior(&self) -> SkinPrior {
        self.prior
    }

    /// Whether the encoder reads the geometric prior's weights (a skin predictor) rather than
    /// the artist's (a tokenizer).
    pub fn encodes_prior(&self) -> bool {
        self.encodes_prior
    }

    /// Vertices per bone the encoder was trained with.
    pub fn points(&self) -> usize {
        self.points
    }
}
