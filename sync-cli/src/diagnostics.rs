//! Diagnostics for troubleshooting, on stderr, off unless `RUST_LOG` is set. They never carry a
//! secret: tokens, app secrets and bind passwords print as `[redacted]`. The run log is
//! separate and always written.
//!
//! A bare level below trace (`RUST_LOG=debug`) is for teamsync's own records and its adapters'
//! (every target under `teamsync…`): the HTTP, HTTP/2, TLS and LDAP libraries underneath stay at
//! `info`. `RUST_LOG=trace` shows everything, and a target named explicitly
//! (`RUST_LOG=debug,h2=debug`) gets what it asks for.

/// Starts the diagnostics when `RUST_LOG` is set.
pub fn init() {
    let Ok(rust_log) = std::env::var("RUST_LOG") else {
        return;
    };
    let Ok(filter) = tracing_subscriber::EnvFilter::try_new(filter_directives(&rust_log)) else {
        eprintln!(
            "teamsync: warning: RUST_LOG={rust_log} is not a filter tracing understands; diagnostics are off"
        );
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// The filter for a `RUST_LOG` value: a bare `debug` (or `info`…) level applies to teamsync's
/// targets, everything else stays at `info` at most; `trace` and target directives pass as
/// given.
pub fn filter_directives(rust_log: &str) -> String {
    let mut out = Vec::new();
    for directive in rust_log.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        match bare_level(directive) {
            Some(level) if level > Level::Info && level < Level::Trace => {
                out.push("info".to_owned());
                // The prefix covers the command, the library and every teamsync adapter.
                out.push(format!("teamsync={directive}"));
            }
            _ => out.push(directive.to_owned()),
        }
    }
    out.join(",")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Off,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// A directive that is only a level (`debug`, `WARN`, `off`), with no target or span.
fn bare_level(directive: &str) -> Option<Level> {
    Some(match directive.to_ascii_lowercase().as_str() {
        "off" => Level::Off,
        "error" => Level::Error,
        "warn" => Level::Warn,
        "info" => Level::Info,
        "debug" => Level::Debug,
        "trace" => Level::Trace,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::filter_directives;

    #[test]
    fn a_bare_debug_is_for_teamsync_targets_only() {
        assert_eq!(filter_directives("debug"), "info,teamsync=debug");
        assert_eq!(filter_directives("DEBUG"), "info,teamsync=DEBUG");
        assert_eq!(
            filter_directives("debug,h2=trace"),
            "info,teamsync=debug,h2=trace"
        );
    }

    #[test]
    fn trace_targets_and_quieter_levels_pass_as_given() {
        for given in [
            "trace",
            "info",
            "warn",
            "off",
            "teamsync_dropbox=trace",
            "hyper=debug",
            "teamsync_ldap[snapshot]=debug",
        ] {
            assert_eq!(filter_directives(given), given);
        }
        assert_eq!(filter_directives(" debug , "), "info,teamsync=debug");
    }
}
