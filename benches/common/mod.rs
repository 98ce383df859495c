//! Shared generators for the benches.
