//! Progress reports and cancellation for long computations (rigging, re-skinning).
//!
//! A [`Task`] carries a progress callback and an optional cancel flag. Long loops call
//! [`Task::check`] between units of work (one bone's distance field, one stage) and return
//! [`Cancelled`] as soon as the flag is set, so an editor's Cancel button takes effect within
//! one unit of work.

use std::sync::atomic::{AtomicBool, Ordering};

/// The computation was cancelled through its task's flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// Progress callback (stage name, fraction done in 0..=1) and cancel flag of one computation.
#[derive(Clone, Copy)]
pub struct Task<'a> {
    report: &'a (dyn Fn(&str, f32) + Sync),
    cancel: Option<&'a AtomicBool>,
}

fn silent(_: &str, _: f32) {}

impl<'a> Task<'a> {
    /// A task that reports nothing and cannot be cancelled.
    pub fn silent() -> Task<'static> {
        Task { report: &silent, cancel: None }
    }

    /// Reports progress through `report`; cannot be cancelled.
    pub fn reporting(report: &'a (dyn Fn(&str, f32) + Sync)) -> Task<'a> {
        Task { report, cancel: None }
    }

    /// The same task, cancelled once `flag` is set.
    pub fn with_cancel(self, flag: &'a AtomicBool) -> Task<'a> {
        Task { cancel: Some(flag), ..self }
    }

    /// Reports a stage, then fails if the task was cancelled.
    pub fn stage(&self, name: &str, fraction: f32) -> Result<(), Cancelled> {
        (self.report)(name, fraction.clamp(0.0, 1.0));
        self.check()
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_some_and(|f| f.load(Ordering::Relaxed))
    }

    /// `Err(Cancelled)` once the flag is set.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn stages_are_reported_and_a_set_flag_cancels() {
        let seen = Mutex::new(Vec::new());
        let report = |s: &str, f: f32| seen.lock().unwrap().push((s.to_string(), f));
        let flag = AtomicBool::new(false);
        let task = Task::reporting(&report).with_cancel(&flag);
        assert_eq!(task.stage("voxels", 0.25), Ok(()));
        flag.store(true, Ordering::Relaxed);
        assert_eq!(task.stage("fields", 2.0), Err(Cancelled));
        assert_eq!(*seen.lock().unwrap(), vec![("voxels".to_string(), 0.25), ("fields".to_string(), 1.0)]);
        assert!(Task::silent().check().is_ok());
    }
}
