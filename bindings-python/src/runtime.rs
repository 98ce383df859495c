//! The one tokio runtime of the extension, and how Python waits on it.
//!
//! Every blocking call spawns its future on the runtime and waits with the GIL released, waking
//! every [`SIGNAL_CHECK_INTERVAL`] to let Python handle pending signals: Ctrl-C raises
//! `KeyboardInterrupt` in the caller and aborts the spawned task instead of being swallowed.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use pyo3::prelude::*;
use tokio::runtime::Runtime;

use crate::errors::{BindingError, BindingResult};

/// How often a waiting call returns to Python to check for signals.
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(50);

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// The shared runtime, built on first use: two worker threads are plenty for network I/O.
pub fn runtime() -> BindingResult<&'static Runtime> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("teamsync-runtime")
                .enable_all()
                .build()
                .map_err(|e| format!("could not start the tokio runtime: {e}"))
        })
        .as_ref()
        .map_err(|message| BindingError::Config(message.clone()))
}

/// Runs `future` on the runtime and waits for it with the GIL released, checking for signals.
pub fn wait<F, T>(py: Python<'_>, future: F) -> BindingResult<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let runtime = runtime()?;
    let mut task = runtime.spawn(future);
    loop {
        let finished = py.detach(|| {
            runtime.block_on(async {
                tokio::time::timeout(SIGNAL_CHECK_INTERVAL, &mut task)
                    .await
                    .ok()
            })
        });
        match finished {
            Some(Ok(value)) => return Ok(value),
            Some(Err(join_error)) => {
                return Err(BindingError::Internal(format!(
                    "a background task failed: {join_error}"
                )));
            }
            None => {
                if let Err(interrupt) = py.check_signals() {
                    task.abort();
                    return Err(BindingError::Python(interrupt));
                }
            }
        }
    }
}
