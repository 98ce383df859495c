//! teamsync's Python package: the native module `teamsync._native`, re-exported by
//! `python/teamsync/__init__.py`.
//!
//! A shell over the core and the adapters: every class wraps a core value or adapter in an
//! `Arc`, converts through serde (`pythonize`), and maps errors in one place
//! (`errors`). Blocking calls run on one tokio runtime with the GIL released (`runtime`).

mod emulator;
mod entra;
mod errors;
mod history;
mod model;
mod runtime;
mod sync;
mod teams;

use pyo3::prelude::*;

/// The native module. Private: import `teamsync` instead.
#[pymodule]
#[pyo3(name = "_native")]
fn native_module(module: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(module)?;
    module.add_class::<model::PyDesiredState>()?;
    module.add_class::<model::PyActualState>()?;
    module.add_class::<model::PyPolicy>()?;
    module.add_class::<model::PyPlan>()?;
    module.add_class::<model::PyOperation>()?;
    module.add_class::<model::PyOutcome>()?;
    module.add_class::<teams::PyMemoryTeam>()?;
    module.add_class::<teams::PyDropboxTeam>()?;
    module.add_class::<teams::PyLdapDirectory>()?;
    module.add_class::<entra::PyEntraDirectory>()?;
    module.add_class::<emulator::PyEmulator>()?;
    module.add_class::<entra::PyGraphEmulator>()?;
    module.add_class::<sync::PyConfig>()?;
    module.add_class::<sync::PySyncResult>()?;
    module.add_function(wrap_pyfunction!(sync::sync, module)?)?;
    module.add_function(wrap_pyfunction!(history::history, module)?)?;
    module.add_function(wrap_pyfunction!(model::plan, module)?)?;
    module.add_function(wrap_pyfunction!(teams::apply, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
