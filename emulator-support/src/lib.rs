//! The scaffolding teamsync's API emulators share (`teamsync-dropbox-emulator`,
//! `teamsync-graph-emulator`): what serves, not what is emulated.
//!
//! * [`Rng`]: the seeded generator behind ids, tokens and fault decisions;
//! * [`tls::server_config`]: a fresh CA and a loopback server certificate;
//! * [`Server`]: the listener, TLS, the accept loop (HTTP/1.1 and HTTP/2) and shutdown;
//! * [`http`]: response bodies, and a response cut halfway (the dropped-connection fault);
//! * [`faults`]: the fixed-window [`RateLimit`] and injected latency;
//! * [`binary`]: the standalone binaries' plumbing (JSON files, the info file, signals, the
//!   runtime).
//!
//! Each emulator keeps its own routes, state, wire conventions and fault kinds.
#![warn(missing_docs)]

pub mod binary;
pub mod faults;
pub mod http;
mod rng;
mod server;
pub mod tls;

pub use faults::RateLimit;
pub use rng::Rng;
pub use server::Server;

use std::net::SocketAddr;

/// Why a [`Server`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listening socket could not be bound.
    #[error("could not bind {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The certificate or TLS configuration could not be built.
    #[error("could not set up TLS: {0}")]
    Tls(String),
}
