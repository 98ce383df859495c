//! States, Policy, Plan, Operation and Outcome: thin Python wrappers over the core's values,
//! converted to and from plain Python data through serde (`pythonize`).

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::errors::{BindingError, BindingResult};

/// Plain Python data (dicts, lists, str, int, float, bool, None) from a serde value.
pub fn to_python<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    value: &T,
) -> BindingResult<Bound<'py, PyAny>> {
    Ok(pythonize::pythonize(py, value)?)
}

/// A serde value from plain Python data; a shape error names the field.
///
/// Goes through JSON text made by Python's own (C) `json.dumps`, parsed with the GIL released:
/// several times faster than walking the objects with `pythonize` for large states, and strict
/// where `pythonize` is lenient (it would read a string `"root"` where a list is expected as
/// `["r", "o", "o", "t"]`).
pub fn from_python<T: DeserializeOwned + Send>(data: &Bound<'_, PyAny>) -> BindingResult<T> {
    let py = data.py();
    let text = py
        .import("json")?
        .call_method1("dumps", (data,))
        .map_err(|e| {
            BindingError::InvalidData(format!(
                "not plain data (dicts, lists, str, numbers, bool, None): {e}"
            ))
        })?;
    let text: String = text.extract()?;
    py.detach(move || serde_json::from_str(&text))
        .map_err(|e: serde_json::Error| BindingError::InvalidData(e.to_string()))
}

/// A serde value from JSON text.
pub fn from_json_text<T: DeserializeOwned>(json: &str) -> BindingResult<T> {
    serde_json::from_str(json).map_err(|e| BindingError::InvalidData(e.to_string()))
}

/// Pretty JSON of a serde value (plain data: cannot fail).
fn to_json_text<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// What the directory says: users, groups, roots, deletions, unreadable entries.
#[pyclass(
    name = "DesiredState",
    module = "teamsync",
    frozen,
    skip_from_py_object
)]
#[derive(Clone)]
pub struct PyDesiredState {
    pub inner: Arc<teamsync_core::DesiredState>,
}

/// The methods both state classes share: construction from plain data or JSON, conversion
/// back, and equality. `$extra` adds each class's own counters and `__repr__`.
macro_rules! state_methods {
    ($class:ident, $inner:ty, { $($extra:tt)* }) => {
        #[pymethods]
        impl $class {
            /// An empty state.
            #[new]
            fn new() -> Self {
                Self {
                    inner: Arc::new(<$inner>::default()),
                }
            }

            /// Builds a state from plain data shaped like the core's state.
            #[staticmethod]
            fn from_dict(data: &Bound<'_, PyAny>) -> BindingResult<Self> {
                Ok(Self {
                    inner: Arc::new(from_python(data)?),
                })
            }

            /// Builds a state from JSON text.
            #[staticmethod]
            fn from_json(json: &str) -> BindingResult<Self> {
                Ok(Self {
                    inner: Arc::new(from_json_text(json)?),
                })
            }

            fn to_dict<'py>(&self, py: Python<'py>) -> BindingResult<Bound<'py, PyAny>> {
                to_python(py, &*self.inner)
            }

            fn to_json(&self) -> String {
                to_json_text(&*self.inner)
            }

            #[getter]
            fn group_count(&self) -> usize {
                self.inner.groups.len()
            }

            fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
                other
                    .cast::<Self>()
                    .is_ok_and(|o| o.get().inner == self.inner)
            }

            $($extra)*
        }
    };
}

state_methods!(PyDesiredState, teamsync_core::DesiredState, {
    #[getter]
    fn user_count(&self) -> usize {
        self.inner.users.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "DesiredState(users={}, groups={}, user_roots={}, deleted={}, issues={})",
            self.inner.users.len(),
            self.inner.groups.len(),
            self.inner.user_roots.len(),
            self.inner.deleted.len(),
            self.inner.issues.len()
        )
    }
});

/// What the team is: members (removed ones included) and groups.
#[pyclass(name = "ActualState", module = "teamsync", frozen, skip_from_py_object)]
#[derive(Clone)]
pub struct PyActualState {
    pub inner: Arc<teamsync_core::ActualState>,
}

state_methods!(PyActualState, teamsync_core::ActualState, {
    #[getter]
    fn member_count(&self) -> usize {
        self.inner.members.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "ActualState(members={}, groups={})",
            self.inner.members.len(),
            self.inner.groups.len()
        )
    }
});

/// The sync rules. `Policy()` has the Rust defaults; keyword arguments set knobs by name.
#[pyclass(name = "Policy", module = "teamsync", frozen, skip_from_py_object)]
#[derive(Clone)]
pub struct PyPolicy {
    pub inner: Arc<teamsync_core::Policy>,
}

impl PyPolicy {
    /// A checked policy from a JSON object of knobs; unknown knobs and bad values are
    /// `ConfigError`s that name the knob.
    pub fn from_knobs(knobs: serde_json::Value) -> BindingResult<Self> {
        let policy: teamsync_core::Policy = serde_json::from_value(knobs)
            .map_err(|e| BindingError::Config(format!("invalid policy: {e}")))?;
        policy
            .validate()
            .map_err(|e| BindingError::Config(format!("invalid policy: {e}")))?;
        Ok(Self {
            inner: Arc::new(policy),
        })
    }
}

/// `Policy`'s methods, with one read-only attribute per knob (`Policy().on_leave ==
/// "suspend"`): real getters, so `dir()`, `help()` and stubtest see them. The knob list is the
/// Rust struct's fields; a test checks that every knob `Policy.knobs()` names has its getter.
macro_rules! policy_methods {
    ($class:ident; $($knob:ident),* $(,)?) => {
        #[pymethods]
        impl $class {
            #[new]
            #[pyo3(signature = (**knobs))]
            fn new(knobs: Option<&Bound<'_, PyDict>>) -> BindingResult<Self> {
                let knobs = match knobs {
                    Some(knobs) => from_python::<serde_json::Value>(knobs.as_any())
                        .map_err(|e| BindingError::Config(format!("invalid policy: {e}")))?,
                    None => serde_json::Value::Object(serde_json::Map::new()),
                };
                Self::from_knobs(knobs)
            }

            /// A policy from a dict of knobs (the shape `to_dict()` returns).
            #[staticmethod]
            fn from_dict(data: &Bound<'_, PyAny>) -> BindingResult<Self> {
                let knobs = from_python::<serde_json::Value>(data)
                    .map_err(|e| BindingError::Config(format!("invalid policy: {e}")))?;
                Self::from_knobs(knobs)
            }

            /// The knob names, in declaration order.
            #[staticmethod]
            fn knobs(py: Python<'_>) -> BindingResult<Vec<String>> {
                // pythonize keeps the struct's field order (a serde_json map would sort it).
                let defaults = to_python(py, &teamsync_core::Policy::default())?;
                let defaults = defaults.cast::<PyDict>().map_err(PyErr::from)?;
                defaults
                    .keys()
                    .iter()
                    .map(|key| key.extract::<String>().map_err(BindingError::from))
                    .collect()
            }

            fn to_dict<'py>(&self, py: Python<'py>) -> BindingResult<Bound<'py, PyAny>> {
                to_python(py, &*self.inner)
            }

            fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
                other
                    .cast::<Self>()
                    .is_ok_and(|o| o.get().inner == self.inner)
            }

            fn __repr__(&self) -> String {
                format!(
                    "Policy({})",
                    serde_json::to_string(&*self.inner).unwrap_or_default()
                )
            }

            $(
                #[getter]
                fn $knob<'py>(&self, py: Python<'py>) -> BindingResult<Bound<'py, PyAny>> {
                    to_python(py, &self.inner.$knob)
                }
            )*
        }
    };
}

policy_methods!(
    PyPolicy;
    external_id_prefix,
    manage_existing_users,
    adopt_foreign,
    adopt_existing_groups,
    group_sync,
    strict_group_scope,
    on_leave,
    on_delete,
    on_invited_deprovision,
    wipe_data,
    transfer,
    deprovision_admins,
    on_group_leave,
    max_deprovision,
    max_group_member_removals,
    send_welcome_email,
    rules,
);

/// One step of a plan. Immutable.
#[pyclass(name = "Operation", module = "teamsync", frozen, skip_from_py_object)]
pub struct PyOperation {
    /// Position in the plan.
    #[pyo3(get)]
    index: usize,
    /// When it runs (`"groups"`, `"invites"`, …).
    #[pyo3(get)]
    phase: String,
    /// What it does (`"invite"`, `"suspend"`, …): the action's serde tag.
    #[pyo3(get)]
    kind: String,
    /// The verb the table prints (`"invite"`, `"update profile"`, …).
    #[pyo3(get)]
    verb: &'static str,
    /// `"+"` adds, `"~"` changes, `"-"` takes away.
    #[pyo3(get)]
    sign: char,
    /// True for suspensions and removals (counted by the deprovision guard).
    #[pyo3(get)]
    is_deprovision: bool,
    /// Who or what, for people.
    #[pyo3(get)]
    target: String,
    /// The target as seen when planned (a dict with a `"state"` key).
    #[pyo3(get)]
    before: Py<PyAny>,
    /// The target as it will be.
    #[pyo3(get)]
    after: Py<PyAny>,
    /// Why.
    #[pyo3(get)]
    reason: String,
    /// The action's own fields (member, group, change, …).
    #[pyo3(get)]
    details: Py<PyAny>,
}

impl PyOperation {
    fn from_core(
        py: Python<'_>,
        index: usize,
        op: &teamsync_core::Operation,
    ) -> BindingResult<Self> {
        let details = PyDict::new(py);
        let action = to_python(py, &op.action)?;
        let mut kind = String::new();
        if let Ok(action) = action.cast::<PyDict>() {
            for (key, value) in action.iter() {
                if key.extract::<String>().is_ok_and(|k| k == "kind") {
                    kind = value.extract::<String>().unwrap_or_default();
                } else {
                    details.set_item(key, value)?;
                }
            }
        }
        let phase = match serde_json::to_value(op.phase) {
            Ok(serde_json::Value::String(s)) => s,
            _ => String::new(),
        };
        Ok(Self {
            index,
            phase,
            kind,
            verb: op.action.verb(),
            sign: op.action.sign(),
            is_deprovision: op.action.is_deprovision(),
            target: op.target.clone(),
            before: to_python(py, &op.before)?.unbind(),
            after: to_python(py, &op.after)?.unbind(),
            reason: op.reason.clone(),
            details: details.into_any().unbind(),
        })
    }
}

#[pymethods]
impl PyOperation {
    /// The operation as the plan's JSON holds it.
    fn to_dict<'py>(&self, py: Python<'py>) -> BindingResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("phase", &self.phase)?;
        dict.set_item("kind", &self.kind)?;
        for (key, value) in self
            .details
            .bind(py)
            .cast::<PyDict>()
            .map_err(PyErr::from)?
            .iter()
        {
            dict.set_item(key, value)?;
        }
        dict.set_item("target", &self.target)?;
        dict.set_item("before", self.before.bind(py))?;
        dict.set_item("after", self.after.bind(py))?;
        dict.set_item("reason", &self.reason)?;
        Ok(dict)
    }

    fn __repr__(&self) -> String {
        format!(
            "Operation(#{} {} {} {:?}: {})",
            self.index, self.phase, self.kind, self.target, self.reason
        )
    }
}

/// What a run would do: operations in apply order, warnings, guard and stats.
#[pyclass(name = "Plan", module = "teamsync", frozen, skip_from_py_object)]
#[derive(Clone)]
pub struct PyPlan {
    pub inner: Arc<teamsync_core::Plan>,
}

#[pymethods]
impl PyPlan {
    /// Reads a plan saved with `to_json()`, checking its format version.
    #[staticmethod]
    fn from_json(json: &str) -> BindingResult<Self> {
        let plan = teamsync_core::Plan::from_json(json)
            .map_err(|e| BindingError::InvalidData(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(plan),
        })
    }

    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> BindingResult<Bound<'py, PyAny>> {
        to_python(py, &*self.inner)
    }

    /// The human table, as the command line prints it.
    fn render(&self) -> String {
        self.inner.render()
    }

    /// The plan as one self-contained HTML page for review, as `teamsync plan --report`
    /// writes it: counts by phase, operations with reasons and consequences, warnings, the
    /// guard's verdict and a filter box. Every directory string is escaped.
    #[pyo3(signature = (title=None))]
    fn to_html(&self, title: Option<String>) -> String {
        let mut context = teamsync::report::ReportContext::new();
        if let Some(title) = title {
            context = context.with_title(title);
        }
        teamsync::report::plan_html(&self.inner, &context)
    }

    fn __str__(&self) -> String {
        self.inner.render()
    }

    fn __len__(&self) -> usize {
        self.inner.operations.len()
    }

    fn __iter__(slf: PyRef<'_, Self>) -> OperationIter {
        OperationIter {
            plan: Arc::clone(&slf.inner),
            next: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn __getitem__(&self, py: Python<'_>, index: isize) -> BindingResult<PyOperation> {
        let len = self.inner.operations.len() as isize;
        let position = if index < 0 { index + len } else { index };
        if !(0..len).contains(&position) {
            return Err(BindingError::Python(
                pyo3::exceptions::PyIndexError::new_err("operation index out of range"),
            ));
        }
        let position = position as usize;
        PyOperation::from_core(py, position, &self.inner.operations[position])
    }

    /// Every operation, as a list.
    #[getter]
    fn operations(&self, py: Python<'_>) -> BindingResult<Vec<PyOperation>> {
        self.inner
            .operations
            .iter()
            .enumerate()
            .map(|(i, op)| PyOperation::from_core(py, i, op))
            .collect()
    }

    /// Warnings and conflicts: dicts with `kind`, `subject`, `message`.
    #[getter]
    fn warnings<'py>(&self, py: Python<'py>) -> BindingResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.warnings)
    }

    /// Operations per action verb (`{"invite": 3, "suspend": 1}`).
    #[getter]
    fn counts<'py>(&self, py: Python<'py>) -> BindingResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.counts())
    }

    /// Deprovisions and group member removals against their limits.
    #[getter]
    fn guard<'py>(&self, py: Python<'py>) -> BindingResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.guard)
    }

    /// Input figures (users in scope, managed members, …).
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> BindingResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.stats)
    }

    /// True when applying needs `allow_deprovision=` or `force=True`.
    #[getter]
    fn needs_permission(&self) -> bool {
        self.inner.guard.needs_permission()
    }

    /// True when the plan changes nothing.
    #[getter]
    fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The operations whose target on `actual` changed since planning (dicts with `index`,
    /// `target`, `expected`, `found`); a saved plan should only be applied when this is empty.
    fn stale_operations<'py>(
        &self,
        py: Python<'py>,
        actual: &Bound<'py, PyActualState>,
    ) -> BindingResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.stale_operations(&actual.get().inner))
    }

    /// This plan restricted to `people` (emails or directory ids), as `teamsync plan --only`
    /// restricts it: their invite, update, adoption or deprovision, their group memberships and
    /// the groups those need; nothing else, under the same guard. `desired` and `actual` must be
    /// what the plan was made from (`SyncResult.desired` / `.actual` after `sync`). A name
    /// nobody has raises `PlanError`.
    fn only(
        &self,
        py: Python<'_>,
        people: Vec<String>,
        desired: &Bound<'_, PyDesiredState>,
        actual: &Bound<'_, PyActualState>,
    ) -> BindingResult<PyPlan> {
        let plan = Arc::clone(&self.inner);
        let desired = Arc::clone(&desired.get().inner);
        let actual = Arc::clone(&actual.get().inner);
        let only = py.detach(move || {
            let people: Vec<&str> = people.iter().map(String::as_str).collect();
            plan.only(&people, &desired, &actual)
        })?;
        Ok(PyPlan {
            inner: Arc::new(only),
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "Plan(operations={}, warnings={})",
            self.inner.operations.len(),
            self.inner.warnings.len()
        )
    }
}

/// Iterates a plan's operations, building each `Operation` on demand.
#[pyclass(module = "teamsync", frozen)]
pub struct OperationIter {
    plan: Arc<teamsync_core::Plan>,
    next: std::sync::atomic::AtomicUsize,
}

#[pymethods]
impl OperationIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> BindingResult<Option<PyOperation>> {
        let index = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match self.plan.operations.get(index) {
            Some(op) => Ok(Some(PyOperation::from_core(py, index, op)?)),
            None => Ok(None),
        }
    }
}

/// Plans `desired` against `actual` under `policy`, with the GIL released.
#[pyfunction]
#[pyo3(signature = (desired, actual, policy = None))]
pub fn plan(
    py: Python<'_>,
    desired: &Bound<'_, PyDesiredState>,
    actual: &Bound<'_, PyActualState>,
    policy: Option<&Bound<'_, PyPolicy>>,
) -> BindingResult<PyPlan> {
    let desired = Arc::clone(&desired.get().inner);
    let actual = Arc::clone(&actual.get().inner);
    let policy = policy.map_or_else(
        || Arc::new(teamsync_core::Policy::default()),
        |p| Arc::clone(&p.get().inner),
    );
    let plan = py.detach(move || teamsync_core::plan(&desired, &actual, &policy))?;
    Ok(PyPlan {
        inner: Arc::new(plan),
    })
}

/// What a run did.
#[pyclass(name = "Outcome", module = "teamsync", frozen, skip_from_py_object)]
pub struct PyOutcome {
    pub inner: teamsync_core::Outcome,
    /// Targets and verbs of the plan's operations that failed, for `failures`.
    pub plan: Arc<teamsync_core::Plan>,
}

#[pymethods]
impl PyOutcome {
    #[getter]
    fn done(&self) -> usize {
        self.inner.done
    }

    #[getter]
    fn failed(&self) -> usize {
        self.inner.failed
    }

    #[getter]
    fn skipped(&self) -> usize {
        self.inner.skipped
    }

    /// True when every operation was done.
    #[getter]
    fn is_success(&self) -> bool {
        self.inner.is_success()
    }

    /// The failed operations, in plan order: dicts with `index`, `kind` (the action), `target`,
    /// `error_kind`, `code`, `message`, `attempts`.
    #[getter]
    fn failures<'py>(&self, py: Python<'py>) -> BindingResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for result in &self.inner.results {
            if let teamsync_core::OpStatus::Failed { error, attempts } = &result.status {
                let dict = PyDict::new(py);
                dict.set_item("index", result.index)?;
                if let Some(op) = self.plan.operations.get(result.index) {
                    let action = serde_json::to_value(&op.action).unwrap_or_default();
                    dict.set_item(
                        "kind",
                        action
                            .get("kind")
                            .and_then(|k| k.as_str())
                            .unwrap_or_default(),
                    )?;
                    dict.set_item("target", &op.target)?;
                }
                let kind = to_python(py, &error.kind)?;
                dict.set_item("error_kind", kind.get_item("kind")?)?;
                dict.set_item("code", error.code.clone())?;
                dict.set_item("message", &error.message)?;
                dict.set_item("attempts", attempts)?;
                list.append(dict)?;
            }
        }
        Ok(list)
    }

    /// Every operation's result, in plan order, flat: `{"index": 0, "status": "done"}`,
    /// `{"index": 3, "status": "failed", "error": {...}, "attempts": 2}`,
    /// `{"index": 5, "status": "skipped", "because": "..."}`.
    #[getter]
    fn results<'py>(&self, py: Python<'py>) -> BindingResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for result in &self.inner.results {
            // OpStatus serializes as a map tagged "status", so it already reads flat.
            let status = to_python(py, &result.status)?;
            let status = status.cast::<PyDict>().map_err(PyErr::from)?;
            status.set_item("index", result.index)?;
            list.append(status)?;
        }
        Ok(list)
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> BindingResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "Outcome(done={}, failed={}, skipped={})",
            self.inner.done, self.inner.failed, self.inner.skipped
        )
    }
}
