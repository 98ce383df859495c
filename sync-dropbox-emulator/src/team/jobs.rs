//! The team: async jobs.

#[allow(unused_imports)]
use super::*;

impl Team {
    /// Records a finished job whose first polls answer `in_progress`; returns its id.
    pub(crate) fn launch_job(&mut self, kind: JobKind, complete: Value) -> String {
        let id = format!("dbjid:AA{}", self.ids.token(33));
        self.jobs.insert(
            id.clone(),
            Job {
                kind,
                polls_left: self.job_polls_in_progress,
                complete,
            },
        );
        id
    }

    /// Polls a job of the given kind: `in_progress`, then its result; `invalid_async_job_id`
    /// for unknown ids and ids of another route's jobs.
    pub(crate) fn poll_job(&mut self, kind: JobKind, id: &str) -> Result<Value, RouteError> {
        match self.jobs.get_mut(id) {
            Some(job) if job.kind == kind => {
                if job.polls_left > 0 {
                    job.polls_left -= 1;
                    Ok(json!({".tag": "in_progress"}))
                } else {
                    Ok(job.complete.clone())
                }
            }
            _ => Err(RouteError::tag("invalid_async_job_id")),
        }
    }
}
