//! Learned rig inversion (Marquis Bolduc and Phan, "Rig Inversion by Training a Differentiable
//! Rig Function", SIGGRAPH Asia 2022): an MLP learns the rig (controls to vertices) from random
//! samples; through that differentiable stand-in, controls are found for target meshes either by
//! gradient descent per frame or by an inverse network trained with a mesh loss. The baseline is
//! an inverse network trained on the samples with a loss on the controls.

use std::time::Instant;

use burn::module::{AutodiffModule, Module};
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::activation::{leaky_relu, sigmoid};
use burn::tensor::backend::AutodiffBackend;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::ModelError;

/// A fully connected network with leaky ReLUs between its layers (none after the last).
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    hidden: Vec<Linear<B>>,
    out: Linear<B>,
}

impl<B: Backend> Mlp<B> {
    pub fn new(inputs: usize, widths: &[usize], outputs: usize, device: &B::Device) -> Mlp<B> {
        let mut hidden = Vec::new();
        let mut from = inputs;
        for &w in widths {
            hidden.push(LinearConfig::new(from, w).init(device));
            from = w;
        }
        Mlp { hidden, out: LinearConfig::new(from, outputs).init(device) }
    }

    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let mut h = x;
        for layer in &self.hidden {
            h = leaky_relu(layer.forward(h), 0.01);
        }
        self.out.forward(h)
    }

    /// The first hidden layer (`None` without hidden layers).
    pub fn first_hidden(&self) -> Option<&Linear<B>> {
        self.hidden.first()
    }

    /// The network from the first hidden layer's output before its activation: with
    /// `h = first_hidden().forward(x)`, `forward_after_first(h) == forward(x)`.
    pub fn forward_after_first(&self, h: Tensor<B, 2>) -> Tensor<B, 2> {
        let mut h = leaky_relu(h, 0.01);
        for layer in self.hidden.iter().skip(1) {
            h = leaky_relu(layer.forward(h), 0.01);
        }
        self.out.forward(h)
    }
}

/// Rows of numbers as a `[rows, width]` tensor.
pub fn matrix<B: Backend>(rows: &[Vec<f32>], device: &B::Device) -> Tensor<B, 2> {
    let width = rows.first().map_or(0, Vec::len);
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), width]), device)
}

/// A tensor's rows.
pub fn rows<B: Backend>(t: Tensor<B, 2>) -> Vec<Vec<f32>> {
    let width = t.dims()[1].max(1);
    let values: Vec<f32> = t.into_data().to_vec().unwrap_or_default();
    values.chunks(width).map(<[f32]>::to_vec).collect()
}

/// Mesh vertices flattened to one row per mesh, centred and scaled so the samples' coordinates
/// have unit spread: the network's outputs are in these units.
#[derive(Debug, Clone, PartialEq)]
pub struct MeshScale {
    pub mean: Vec<f32>,
    pub spread: f32,
}

impl MeshScale {
    pub fn of(meshes: &[Vec<[f32; 3]>]) -> MeshScale {
        let width = meshes.first().map_or(0, |m| 3 * m.len());
        let mut mean = vec![0.0f32; width];
        for m in meshes {
            m.iter().flatten().enumerate().for_each(|(k, v)| mean[k] += v / meshes.len() as f32);
        }
        let var: f32 = meshes.iter().map(|m| m.iter().flatten().zip(&mean).map(|(v, c)| (v - c).powi(2)).sum::<f32>()).sum::<f32>()
            / (meshes.len() * width).max(1) as f32;
        MeshScale { mean, spread: var.sqrt().max(1e-12) }
    }

    pub fn encode(&self, mesh: &[[f32; 3]]) -> Vec<f32> {
        mesh.iter().flatten().zip(&self.mean).map(|(v, c)| (v - c) / self.spread).collect()
    }

    pub fn decode(&self, row: &[f32]) -> Vec<[f32; 3]> {
        row.chunks(3).enumerate().map(|(i, c)| std::array::from_fn(|a| c[a] * self.spread + self.mean[3 * i + a])).collect()
    }
}

/// Adam with the learning rate halved when the training loss stops falling (as EA's
/// ReduceLROnPlateau), stopped when the validation loss has not improved for `patience` epochs
/// or after `max_epochs`.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub learning_rate: f64,
    pub batch: usize,
    pub max_epochs: usize,
    pub patience: usize,
    /// Epochs without a better training loss before the rate halves.
    pub plateau: usize,
    pub min_learning_rate: f64,
    pub seed: u64,
    /// Keep the network whose validation rows lie closest to the wanted ones on average
    /// (Euclidean distance per row) instead of the one with the least mean squared error.
    pub validate_by_distance: bool,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            learning_rate: 1e-3,
            batch: 32,
            max_epochs: 2000,
            patience: 50,
            plateau: 20,
            min_learning_rate: 1e-6,
            seed: 0,
            validate_by_distance: false,
        }
    }
}

/// How a training run went.
#[derive(Debug, Clone, Default)]
pub struct TrainingReport {
    pub epochs: usize,
    pub best_epoch: usize,
    pub train_loss: f32,
    pub validation_loss: f32,
    pub seconds: f32,
}

/// Trains `model` to map `inputs` to `outputs` rows with mean squared error, keeping the
/// network of the best validation loss (the training rows when `validation` is empty).
/// `loss_of` turns a batch's prediction, wanted rows and inputs into the loss; `report` hears
/// each epoch's losses and stops the run by returning false.
pub(crate) fn fit<B: AutodiffBackend>(
    mut model: Mlp<B>,
    train: (&[Vec<f32>], &[Vec<f32>]),
    validation: (&[Vec<f32>], &[Vec<f32>]),
    schedule: &Schedule,
    device: &B::Device,
    loss_of: &dyn Fn(Tensor<B, 2>, Tensor<B, 2>, Tensor<B, 2>) -> Tensor<B, 1>,
    report: &mut dyn FnMut(usize, f32, f32) -> bool,
) -> (Mlp<B>, TrainingReport) {
    let started = Instant::now();
    let mut optim = AdamConfig::new().init::<B, Mlp<B>>();
    let mut rng = StdRng::seed_from_u64(schedule.seed);
    let mut order: Vec<usize> = (0..train.0.len()).collect();
    let (mut lr, mut best_train, mut since_train) = (schedule.learning_rate, f32::MAX, 0usize);
    let mut best = (model.clone(), f32::MAX, 0usize);
    let validation = if validation.0.is_empty() { train } else { validation };
    let (vx, vy) = (matrix::<B::InnerBackend>(validation.0, device), matrix::<B::InnerBackend>(validation.1, device));
    let mut out = TrainingReport::default();
    for epoch in 0..schedule.max_epochs {
        order.shuffle(&mut rng);
        let train_loss;
        (model, train_loss) = epoch_pass(model, &mut optim, &order, (train.0, Some(train.1)), schedule.batch, lr, device, loss_of);
        let valid = model.valid();
        let v = if schedule.validate_by_distance { distance_of_inner(&valid, &vx, &vy) } else { loss_of_inner(&valid, &vx, &vy) };
        let go_on = report(epoch, train_loss, v);
        out = TrainingReport { epochs: epoch + 1, train_loss, validation_loss: v, ..out };
        if v < best.1 {
            best = (model.clone(), v, epoch);
        } else if epoch - best.2 >= schedule.patience {
            break;
        }
        if !go_on {
            break;
        }
        if train_loss < best_train {
            (best_train, since_train) = (train_loss, 0);
        } else {
            since_train += 1;
            if since_train >= schedule.plateau {
                lr = (lr * 0.5).max(schedule.min_learning_rate);
                since_train = 0;
            }
        }
    }
    out.best_epoch = best.2;
    out.validation_loss = best.1;
    out.seconds = started.elapsed().as_secs_f32();
    (best.0, out)
}

/// One pass over the rows in `order`, in batches: an Adam step on each batch's `loss_of`
/// (prediction, wanted rows, inputs; the wanted rows are the inputs themselves without `y`).
/// Returns the model and the mean loss per row.
#[allow(clippy::too_many_arguments)]
fn epoch_pass<B: AutodiffBackend>(
    mut model: Mlp<B>,
    optim: &mut impl Optimizer<Mlp<B>, B>,
    order: &[usize],
    (x, y): (&[Vec<f32>], Option<&[Vec<f32>]>),
    batch: usize,
    lr: f64,
    device: &B::Device,
    loss_of: &dyn Fn(Tensor<B, 2>, Tensor<B, 2>, Tensor<B, 2>) -> Tensor<B, 1>,
) -> (Mlp<B>, f32) {
    let mut sum = 0.0;
    let batch_rows = |rows: &[Vec<f32>], chunk: &[usize]| chunk.iter().map(|&i| rows[i].clone()).collect::<Vec<_>>();
    for chunk in order.chunks(batch.max(1)) {
        let input = matrix::<B>(&batch_rows(x, chunk), device);
        let wanted = y.map_or_else(|| input.clone(), |y| matrix::<B>(&batch_rows(y, chunk), device));
        let loss = loss_of(model.forward(input.clone()), wanted, input);
        sum += loss.clone().into_scalar().elem::<f32>() * chunk.len() as f32;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(lr, model, grads);
    }
    (model, sum / order.len().max(1) as f32)
}

/// Mean squared error of a plain forward pass, on the inner backend.
/// Mean Euclidean distance between predicted and wanted rows, on the inner backend.
fn distance_of_inner<B: Backend>(model: &Mlp<B>, x: &Tensor<B, 2>, y: &Tensor<B, 2>) -> f32 {
    (model.forward(x.clone()) - y.clone()).powf_scalar(2.0).sum_dim(1).sqrt().mean().into_scalar().elem::<f32>()
}

fn loss_of_inner<B: Backend>(model: &Mlp<B>, x: &Tensor<B, 2>, y: &Tensor<B, 2>) -> f32 {
    (model.forward(x.clone()) - y.clone()).powf_scalar(2.0).mean().into_scalar().elem::<f32>()
}

fn mse<B: Backend>(a: Tensor<B, 2>, b: Tensor<B, 2>) -> Tensor<B, 1> {
    (a - b).powf_scalar(2.0).mean()
}

/// The rig approximation: controls in, normalised vertices out (kept on the training backend,
/// so gradients can flow through it to its inputs).
pub struct Approximation<B: AutodiffBackend> {
    pub model: Mlp<B>,
    pub scale: MeshScale,
    pub report: TrainingReport,
}

/// Trains the approximation on `controls` and the `meshes` they produce; the last
/// `validation` samples are held out to choose the epoch (EA keep the last 100 of 1,000).
pub fn train_approximation<B: AutodiffBackend>(
    controls: &[Vec<f32>],
    meshes: &[Vec<[f32; 3]>],
    validation: usize,
    widths: &[usize],
    schedule: &Schedule,
    device: &B::Device,
    report: &mut dyn FnMut(usize, f32, f32) -> bool,
) -> Result<Approximation<B>, ModelError> {
    if controls.len() <= validation || controls.is_empty() {
        return Err(ModelError::NoData(format!("{} samples, {validation} held out for validation", controls.len())));
    }
    let scale = MeshScale::of(meshes);
    let y: Vec<Vec<f32>> = meshes.iter().map(|m| scale.encode(m)).collect();
    let split = controls.len() - validation;
    let model = Mlp::<B>::new(controls[0].len(), widths, y[0].len(), device);
    let (model, training) =
        fit(model, (&controls[..split], &y[..split]), (&controls[split..], &y[split..]), schedule, device, &|p, w, _| mse(p, w), report);
    Ok(Approximation { model, scale, report: training })
}

impl<B: AutodiffBackend> Approximation<B> {
    /// The approximated meshes of `controls`.
    pub fn meshes(&self, controls: &[Vec<f32>], device: &B::Device) -> Vec<Vec<[f32; 3]>> {
        rows(self.model.valid().forward(matrix(controls, device))).iter().map(|r| self.scale.decode(r)).collect()
    }

    /// The network with its weights fixed: gradients reach only its inputs.
    fn frozen(&self) -> Mlp<B> {
        self.model.clone().no_grad()
    }
}

/// An inverse network: normalised vertices in, controls in [0, 1] out (a sigmoid last).
pub struct Inverse<B: Backend> {
    pub model: Mlp<B>,
    pub report: TrainingReport,
}

impl<B: Backend> Inverse<B> {
    pub fn controls(&self, meshes: &[Vec<[f32; 3]>], scale: &MeshScale, device: &B::Device) -> Vec<Vec<f32>> {
        let x: Vec<Vec<f32>> = meshes.iter().map(|m| scale.encode(m)).collect();
        rows(sigmoid(self.model.forward(matrix(&x, device))))
    }
}

/// EA's baseline: an inverse trained on the samples (controls and their meshes) with a loss on
/// the controls.
pub fn train_control_loss_inverse<B: AutodiffBackend>(
    (controls, meshes): (&[Vec<f32>], &[Vec<[f32; 3]>]),
    scale: &MeshScale,
    validation: usize,
    widths: &[usize],
    schedule: &Schedule,
    device: &B::Device,
    report: &mut dyn FnMut(usize, f32, f32) -> bool,
) -> Inverse<B::InnerBackend> {
    let x: Vec<Vec<f32>> = meshes.iter().map(|m| scale.encode(m)).collect();
    // The network's raw outputs are trained towards the controls' logits, so that the
    // validation loss (on raw outputs) and the training loss agree.
    let logit = |c: f32| {
        let c = c.clamp(1e-4, 1.0 - 1e-4);
        (c / (1.0 - c)).ln()
    };
    let y: Vec<Vec<f32>> = controls.iter().map(|c| c.iter().map(|&v| logit(v)).collect()).collect();
    let split = x.len().saturating_sub(validation);
    let model = Mlp::<B>::new(x[0].len(), widths, controls[0].len(), device);
    let loss = |p: Tensor<B, 2>, w: Tensor<B, 2>, _x: Tensor<B, 2>| mse(sigmoid(p), sigmoid(w));
    let (model, training) = fit(model, (&x[..split], &y[..split]), (&x[split..], &y[split..]), schedule, device, &loss, report);
    Inverse { model: model.valid(), report: training }
}

/// EA's method: an inverse trained on the target meshes themselves, through the frozen
/// approximation, with a loss on the meshes (no controls needed).
pub fn train_mesh_loss_inverse<B: AutodiffBackend>(
    approximation: &Approximation<B>,
    targets: &[Vec<[f32; 3]>],
    controls: usize,
    widths: &[usize],
    schedule: &Schedule,
    device: &B::Device,
    report: &mut dyn FnMut(usize, f32, f32) -> bool,
) -> Inverse<B::InnerBackend> {
    let frozen = approximation.frozen();
    let x: Vec<Vec<f32>> = targets.iter().map(|m| approximation.scale.encode(m)).collect();
    let model = Mlp::<B>::new(x[0].len(), widths, controls, device);
    let loss = move |p: Tensor<B, 2>, _w: Tensor<B, 2>, input: Tensor<B, 2>| mse(frozen.forward(sigmoid(p)), input);
    // Validation by mesh loss too: the wanted rows are the inputs.
    let (model, training) = fit_self(model, &x, schedule, device, &loss, report);
    Inverse { model: model.valid(), report: training }
}

/// [`fit`] where each row's wanted output is the row itself.
fn fit_self<B: AutodiffBackend>(
    model: Mlp<B>,
    x: &[Vec<f32>],
    schedule: &Schedule,
    device: &B::Device,
    loss_of: &dyn Fn(Tensor<B, 2>, Tensor<B, 2>, Tensor<B, 2>) -> Tensor<B, 1>,
    report: &mut dyn FnMut(usize, f32, f32) -> bool,
) -> (Mlp<B>, TrainingReport) {
    let started = Instant::now();
    let mut model = model;
    let mut optim = AdamConfig::new().init::<B, Mlp<B>>();
    let mut rng = StdRng::seed_from_u64(schedule.seed);
    let mut order: Vec<usize> = (0..x.len()).collect();
    let (mut lr, mut best_loss, mut since, mut plateau) = (schedule.learning_rate, f32::MAX, 0usize, 0usize);
    let mut best = model.clone();
    let mut out = TrainingReport::default();
    for epoch in 0..schedule.max_epochs {
        order.shuffle(&mut rng);
        let loss;
        (model, loss) = epoch_pass(model, &mut optim, &order, (x, None), schedule.batch, lr, device, loss_of);
        let go_on = report(epoch, loss, loss);
        out.epochs = epoch + 1;
        out.train_loss = loss;
        if loss < best_loss {
            (best_loss, since, plateau) = (loss, 0, 0);
            best = model.clone();
            out.best_epoch = epoch;
        } else {
            since += 1;
            plateau += 1;
            if since >= schedule.patience {
                break;
            }
            if plateau >= schedule.plateau {
                lr = (lr * 0.5).max(schedule.min_learning_rate);
                plateau = 0;
            }
        }
        if !go_on {
            break;
        }
    }
    out.validation_loss = best_loss;
    out.seconds = started.elapsed().as_secs_f32();
    (best, out)
}

/// Direct optimisation through the approximation: each frame's controls (as logits, so they stay
/// in [0, 1]) descend the mesh loss by Adam for `steps` steps from `start`.
pub fn optimise_controls<B: AutodiffBackend>(
    approximation: &Approximation<B>,
    targets: &[Vec<[f32; 3]>],
    start: &[f32],
    steps: usize,
    learning_rate: f64,
    device: &B::Device,
) -> Vec<Vec<f32>> {
    let frozen = approximation.frozen();
    let x: Vec<Vec<f32>> = targets.iter().map(|m| approximation.scale.encode(m)).collect();
    let wanted = matrix::<B>(&x, device);
    let logit = |c: f32| {
        let c = c.clamp(1e-3, 1.0 - 1e-3);
        (c / (1.0 - c)).ln()
    };
    let init: Vec<Vec<f32>> = targets.iter().map(|_| start.iter().map(|&c| logit(c)).collect()).collect();
    let mut z = matrix::<B::InnerBackend>(&init, device);
    let (mut m, mut v) = (z.zeros_like(), z.zeros_like());
    let (b1, b2) = (0.9f64, 0.999f64);
    for step in 1..=steps {
        let zz = Tensor::<B, 2>::from_inner(z.clone()).require_grad();
        // Summed over frames so each frame's gradient is its own.
        let loss = (frozen.forward(sigmoid(zz.clone())) - wanted.clone()).powf_scalar(2.0).sum();
        let grads = loss.backward();
        let Some(g) = zz.grad(&grads) else { break };
        m = m.mul_scalar(b1) + g.clone().mul_scalar(1.0 - b1);
        v = v.mul_scalar(b2) + g.powf_scalar(2.0).mul_scalar(1.0 - b2);
        let mh = m.clone().div_scalar(1.0 - b1.powi(step as i32));
        let vh = v.clone().div_scalar(1.0 - b2.powi(step as i32));
        z = z - mh.div(vh.sqrt().add_scalar(1e-8)).mul_scalar(learning_rate);
    }
    rows(sigmoid(z))
}
