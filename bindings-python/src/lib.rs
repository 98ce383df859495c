//! The Python binding (issue: the Python package). Empty shell until then.
