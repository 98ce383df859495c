//! Examples live beside this crate; see examples/README.md.
