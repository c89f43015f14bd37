//! The generation worker: a thread that owns the generators and the skin binder's cache, fed
//! through a bounded job channel; progress, results and errors come back through a bounded
//! event channel that [`drain_events`] empties every frame. Cancel sets the running job's flag;
//! the generators check it between bones, so a job stops within a fraction of a second.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bevy::prelude::*;
use rig_core::autorig::{self, AutoRigError};
use rig_core::autoskel::AutoSkeletonOptions;
use rig_core::autoskin::{AutoSkinOptions, SkinBinder};
use rig_core::{MaterialLibrary, Mesh, Rig, Skeleton, SkinWeights, Task};
use rig_model::decode::SamplingOptions;
use rig_model::rigging::{rig_learned, LearnedError, LearnedModels, LearnedOptions};
use rig_model::skin::DecodeOptions;

/// What to compute.
#[derive(Debug, Clone)]
pub enum JobKind {
    /// A new skeleton from the mesh's volume, then its skin.
    Generate(AutoSkeletonOptions),
    /// A new skin for the given (possibly edited) skeleton.
    Reskin,
    /// The learned generator: a new skeleton and skin, or (`keep_skeleton`) only a new skin
    /// for the given skeleton.
    Learned { keep_skeleton: bool, sampling: SamplingOptions },
}

/// One request to the worker. The mesh travels with an id so the worker can keep its binder
/// (voxels, distance fields) while the mesh stays the same.
pub struct Job {
    pub id: u64,
    pub mesh_id: u64,
    pub mesh: Arc<Mesh>,
    pub skeleton: Skeleton,
    pub kind: JobKind,
    pub skin: AutoSkinOptions,
    pub cancel: Arc<AtomicBool>,
}

/// A finished job's result.
#[derive(Debug, Clone)]
pub struct JobOutput {
    pub skeleton: Skeleton,
    pub weights: SkinWeights,
    pub generated_skeleton: bool,
    pub seconds: f32,
}

/// What the worker reports.
#[derive(Debug)]
pub enum WorkerEvent {
    Progress { job: u64, stage: String, fraction: f32 },
    Done { job: u64, result: Result<JobOutput, String> },
    Cancelled { job: u64 },
}

/// The job in flight, as the UI shows it.
#[derive(Debug, Clone)]
pub struct Running {
    pub id: u64,
    pub label: &'static str,
    pub stage: String,
    pub fraction: f32,
    pub started: Instant,
    pub cancel: Arc<AtomicBool>,
}

/// The app's end of the worker.
#[derive(Resource)]
pub struct Worker {
    jobs: SyncSender<Job>,
    events: Mutex<Receiver<WorkerEvent>>,
    next_id: u64,
    pub running: Option<Running>,
}

impl Default for Worker {
    fn default() -> Self {
        Worker::spawn()
    }
}

impl Worker {
    /// Starts the worker thread. Its job queue holds one job; the event queue 256 events
    /// (progress that finds it full is dropped, results wait for room).
    pub fn spawn() -> Worker {
        let (jobs, job_rx) = sync_channel::<Job>(1);
        let (event_tx, events) = sync_channel::<WorkerEvent>(256);
        std::thread::Builder::new()
            .name("rigsmith-worker".into())
            .spawn(move || worker_loop(job_rx, event_tx))
            .expect("spawn the worker thread");
        Worker { jobs, events: Mutex::new(events), next_id: 1, running: None }
    }

    /// Queues a job unless one is already running. Returns its id.
    pub fn submit(
        &mut self,
        mesh_id: u64,
        mesh: Arc<Mesh>,
        skeleton: Skeleton,
        kind: JobKind,
        skin: AutoSkinOptions,
    ) -> Result<u64, String> {
        if self.running.is_some() {
            return Err("a job is already running: wait for it or cancel it".into());
        }
        let id = self.next_id;
        self.next_id += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        let label = match kind {
            JobKind::Generate(_) | JobKind::Learned { keep_skeleton: false, .. } => "Generate",
            JobKind::Reskin | JobKind::Learned { keep_skeleton: true, .. } => "Re-skin",
        };
        let job = Job { id, mesh_id, mesh, skeleton, kind, skin, cancel: cancel.clone() };
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => "the worker is busy".to_string(),
            TrySendError::Disconnected(_) => "the worker thread stopped; restart the editor".to_string(),
        })?;
        self.running = Some(Running { id, label, stage: "queued".into(), fraction: 0.0, started: Instant::now(), cancel });
        Ok(id)
    }

    /// Asks the running job to stop.
    pub fn cancel(&self) {
        if let Some(r) = &self.running {
            r.cancel.store(true, Ordering::Relaxed);
        }
    }

    /// Events that arrived since the last call.
    pub fn poll(&self) -> Vec<WorkerEvent> {
        let Ok(rx) = self.events.lock() else { return Vec::new() };
        rx.try_iter().collect()
    }
}

fn worker_loop(jobs: Receiver<Job>, events: SyncSender<WorkerEvent>) {
    let mut binder: Option<(u64, usize, SkinBinder)> = None;
    // Loaded on the first learned job and kept.
    let mut models: Option<LearnedModels> = None;
    for job in jobs {
        let id = job.id;
        let result = match &job.kind {
            JobKind::Learned { keep_skeleton, sampling } => run_learned(&job, *keep_skeleton, sampling, &mut models, &events),
            _ => run_job(&job, &mut binder, &events).map_err(|e| match e {
                AutoRigError::Cancelled => None,
                e => Some(e.to_string()),
            }),
        };
        let event = match result {
            Ok(output) => WorkerEvent::Done { job: id, result: Ok(output) },
            Err(None) => WorkerEvent::Cancelled { job: id },
            Err(Some(e)) => WorkerEvent::Done { job: id, result: Err(e) },
        };
        if events.send(event).is_err() {
            return;
        }
    }
}

/// Sends `job`'s progress to the app. Progress that finds the event queue full is dropped:
/// the next report replaces it.
fn progress<'a>(job: &'a Job, events: &'a SyncSender<WorkerEvent>) -> impl Fn(&str, f32) + 'a {
    move |stage, fraction| {
        let _ = events.try_send(WorkerEvent::Progress { job: job.id, stage: stage.to_string(), fraction });
    }
}

fn run_job(job: &Job, cache: &mut Option<(u64, usize, SkinBinder)>, events: &SyncSender<WorkerEvent>) -> Result<JobOutput, AutoRigError> {
    let started = Instant::now();
    let report = progress(job, events);
    let task = Task::reporting(&report).with_cancel(&job.cancel);
    let (skeleton, generated) = match &job.kind {
        JobKind::Generate(o) => (autorig::generate_skeleton(&job.mesh, o, task)?, true),
        JobKind::Reskin | JobKind::Learned { .. } => (job.skeleton.clone(), false),
    };
    if !skeleton.joints.iter().any(|j| j.deform) {
        return Err(AutoRigError::NoSkeleton);
    }
    let resolution = job.skin.resolution.unwrap_or(0);
    // The old binder is freed before a new one is built (they can be large).
    let entry = match cache.take().filter(|(m, r, _)| *m == job.mesh_id && *r == resolution) {
        Some(entry) => entry,
        None => (job.mesh_id, resolution, SkinBinder::new(&job.mesh, &job.skin, task)?),
    };
    let binder = &mut cache.insert(entry).2;
    let mesh = if generated { all_parts_skinned(&job.mesh) } else { None };
    let weights = autorig::skin_weights(binder, mesh.as_ref().unwrap_or(&job.mesh), &skeleton, &job.skin, task)?;
    Ok(JobOutput { skeleton, weights, generated_skeleton: generated, seconds: started.elapsed().as_secs_f32() })
}

/// A learned job: loads the models on first use (an error says how to get them), then
/// generates with the job's sampling settings. `Err(None)` means cancelled.
fn run_learned(
    job: &Job,
    keep_skeleton: bool,
    sampling: &SamplingOptions,
    models: &mut Option<LearnedModels>,
    events: &SyncSender<WorkerEvent>,
) -> Result<JobOutput, Option<String>> {
    let started = Instant::now();
    let report = progress(job, events);
    let task = Task::reporting(&report).with_cancel(&job.cancel);
    if models.is_none() {
        report("loading the learned models", 0.0);
        let dir = rig_model::store::models_dir(None);
        let loaded = LearnedModels::load(&dir)
            .map_err(|e| Some(format!("learned models in {}: {e} (set RIGSMITH_MODELS, or use the geometric method)", dir.display())))?;
        report(&format!("learned models on {}", loaded.backend_note), 0.0);
        *models = Some(loaded);
    }
    let Some(models) = models.as_ref() else { return Err(Some("no learned models".into())) };
    let mut rig = Rig::unrigged("editor", (*job.mesh).clone(), MaterialLibrary::default());
    rig.skeleton = job.skeleton.clone();
    let options = LearnedOptions {
        sampling: sampling.clone(),
        decode: DecodeOptions { max_influences: job.skin.max_influences.max(1), ..Default::default() },
        keep_skeleton,
        // The editor's deform flags are the artist's choice: keep them as they are.
        all_joints_deform: true,
        candidate: 0,
    };
    match rig_learned(&mut rig, models, &options, task) {
        Ok(_) => Ok(JobOutput {
            skeleton: rig.skeleton,
            weights: rig.weights,
            generated_skeleton: !keep_skeleton,
            seconds: started.elapsed().as_secs_f32(),
        }),
        Err(LearnedError::Cancelled(_)) => Err(None),
        Err(e) => Err(Some(e.to_string())),
    }
}

/// A generated skeleton skins every part (static parts included): a copy with all parts
/// marked skinned, or `None` when they already are.
fn all_parts_skinned(mesh: &Mesh) -> Option<Mesh> {
    if mesh.parts.iter().all(|p| p.skinned) {
        return None;
    }
    let mut m = mesh.clone();
    m.parts.iter_mut().for_each(|p| p.skinned = true);
    Some(m)
}

/// Applies worker events to the document: progress to the status, results as an undoable edit.
pub fn drain_events(mut worker: ResMut<Worker>, mut doc: ResMut<crate::document::Document>) {
    for event in worker.poll() {
        let current = worker.running.as_ref().map(|r| r.id);
        match event {
            WorkerEvent::Progress { job, stage, fraction } if Some(job) == current => {
                if let Some(r) = worker.running.as_mut() {
                    r.stage = stage;
                    r.fraction = fraction;
                }
            }
            WorkerEvent::Progress { .. } => {}
            WorkerEvent::Cancelled { job } if Some(job) == current => {
                worker.running = None;
                doc.status = Some("Cancelled: the rig was not changed.".into());
            }
            WorkerEvent::Cancelled { .. } => {}
            WorkerEvent::Done { job, result } if Some(job) == current => {
                let label = worker.running.take().map_or("Generate", |r| r.label);
                match result {
                    Ok(out) => doc.apply_job(label, out),
                    Err(e) => doc.error = Some(format!("{label} failed: {e}")),
                }
            }
            WorkerEvent::Done { .. } => {}
        }
    }
}
