//! The worker: a thread that runs [`RigRequest`]s one at a time with its [`Caches`], fed
//! through a one-slot job channel; progress, results and cancellations come back through a
//! bounded event channel that the front end drains (the editor once per frame). Cancel sets
//! the running job's flag; the generators check it between bones and tokens, so a job stops
//! within a fraction of a second.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rig_core::{Rig, Task};

use crate::request::RigRequest;
use crate::rig::{run_rig, Caches, PipelineError, RigOutput};

/// Events the event channel holds before progress reports are dropped.
const EVENT_SLOTS: usize = 256;

/// One request to the worker. The rig travels with a key for its mesh so the worker can keep
/// its binder (voxels, distance fields) while the mesh stays the same.
pub struct Job {
    pub id: u64,
    pub mesh_key: u64,
    pub rig: Arc<Rig>,
    pub request: RigRequest,
    pub cancel: Arc<AtomicBool>,
}

/// A finished job's result.
#[derive(Debug, Clone)]
pub struct JobOutput {
    pub output: RigOutput,
    pub seconds: f32,
}

/// What the worker reports.
#[derive(Debug)]
pub enum WorkerEvent {
    Progress { job: u64, stage: String, fraction: f32 },
    Done { job: u64, result: Result<JobOutput, String> },
    Cancelled { job: u64 },
}

/// The job in flight, as a front end shows it.
#[derive(Debug, Clone)]
pub struct Running {
    pub id: u64,
    /// The mesh the job runs on (the caller's key): a result for another mesh is stale.
    pub mesh_key: u64,
    pub label: &'static str,
    pub stage: String,
    pub fraction: f32,
    pub started: Instant,
    pub cancel: Arc<AtomicBool>,
}

/// The front end's end of the worker.
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
    /// Starts the worker thread.
    pub fn spawn() -> Worker {
        let (jobs, job_rx) = sync_channel::<Job>(1);
        let (event_tx, events) = sync_channel::<WorkerEvent>(EVENT_SLOTS);
        std::thread::Builder::new()
            .name("rigsmith-worker".into())
            .spawn(move || worker_loop(job_rx, event_tx))
            .expect("spawn the worker thread");
        Worker { jobs, events: Mutex::new(events), next_id: 1, running: None }
    }

    /// Queues `request` on `rig` unless a job is already running. Returns the job's id.
    pub fn submit(&mut self, mesh_key: u64, rig: Arc<Rig>, request: RigRequest) -> Result<u64, String> {
        if self.running.is_some() {
            return Err("a job is already running: wait for it or cancel it".into());
        }
        let id = self.next_id;
        self.next_id += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        let label = request.label();
        let job = Job { id, mesh_key, rig, request, cancel: cancel.clone() };
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => "the worker is busy".to_string(),
            TrySendError::Disconnected(_) => "the worker thread stopped; restart Rigsmith".to_string(),
        })?;
        self.running = Some(Running { id, mesh_key, label, stage: "queued".into(), fraction: 0.0, started: Instant::now(), cancel });
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

    /// Blocks until the running job ends and returns its event (`None` when nothing runs or
    /// the worker thread stopped). Progress on the way goes to `progress`.
    pub fn wait(&mut self, mut progress: impl FnMut(&str, f32)) -> Option<WorkerEvent> {
        let current = self.running.as_ref()?.id;
        let rx = self.events.lock().ok()?;
        for event in rx.iter() {
            match event {
                WorkerEvent::Progress { job, stage, fraction } if job == current => progress(&stage, fraction),
                WorkerEvent::Done { job, .. } | WorkerEvent::Cancelled { job } if job == current => {
                    drop(rx);
                    self.running = None;
                    return Some(event);
                }
                _ => {}
            }
        }
        None
    }
}

fn worker_loop(jobs: Receiver<Job>, events: SyncSender<WorkerEvent>) {
    let mut caches = Caches::default();
    for job in jobs {
        let started = Instant::now();
        let report = |stage: &str, fraction: f32| {
            // Progress that finds the queue full is dropped: the next report replaces it.
            let _ = events.try_send(WorkerEvent::Progress { job: job.id, stage: stage.to_string(), fraction });
        };
        let task = Task::reporting(&report).with_cancel(&job.cancel);
        let event = match run_rig(&job.rig, job.mesh_key, &job.request, &mut caches, task) {
            Ok(output) => WorkerEvent::Done { job: job.id, result: Ok(JobOutput { output, seconds: started.elapsed().as_secs_f32() }) },
            Err(PipelineError::Cancelled) => WorkerEvent::Cancelled { job: job.id },
            Err(e) => WorkerEvent::Done { job: job.id, result: Err(e.to_string()) },
        };
        if events.send(event).is_err() {
            return;
        }
    }
}
