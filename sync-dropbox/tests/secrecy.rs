//! Tokens and app secrets never show up in `Debug` output, error messages or log events, on
//! the fixed-token path or the refresh path.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use teamsync_core::{StoreError, TeamStore};
use teamsync_dropbox::{ClientConfig, Credentials, DropboxClient, DropboxTeam, Secret};
use teamsync_dropbox_emulator::EmulatorConfig;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// A subscriber that keeps the text of every event and span field, at every level.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<String>>);

struct Writer<'a>(&'a mut String);

impl Visit for Writer<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push_str(&format!("{}={} ", field.name(), value));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        span.record(&mut Writer(&mut self.0.lock().unwrap()));
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        values.record(&mut Writer(&mut self.0.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut text = self.0.lock().unwrap();
        text.push_str(event.metadata().target());
        text.push(' ');
        event.record(&mut Writer(&mut text));
        text.push('\n');
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test]
async fn tokens_are_absent_from_debug_errors_and_logs() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let emu = emulator_with(EmulatorConfig {
        access_token_ttl: Duration::from_secs(1),
        ..EmulatorConfig::default()
    })
    .await;
    let secrets = [emu.access_token(), emu.refresh_token(), emu.app_secret()];

    // Fixed token: a snapshot, then an error.
    let fixed = store(&emu);
    fixed.snapshot().await.unwrap();
    let error = fixed
        .suspend(&by_external("nobody"), true)
        .await
        .unwrap_err();

    // Refresh token: one refresh up front, another once the one-second token ages.
    let credentials = Credentials::refresh_token(
        emu.refresh_token(),
        emu.app_key(),
        Some(Secret::new(emu.app_secret())),
    );
    let refreshing = DropboxClient::new(
        ClientConfig::with_base_url(emu.base_url()),
        credentials.clone(),
    )
    .unwrap();
    refreshing.team_get_info().await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    refreshing.team_get_info().await.unwrap();
    assert_eq!(calls(&emu, "oauth2/token"), 2);

    // A refused token, with its error.
    let bad = DropboxClient::new(
        ClientConfig::with_base_url(emu.base_url()),
        Credentials::access_token("sl.refused-secret"),
    )
    .unwrap();
    let refused = StoreError::from(bad.team_get_info().await.unwrap_err());

    let outputs = [
        format!("{fixed:?}"),
        format!("{refreshing:?}"),
        format!("{credentials:?}"),
        format!("{bad:?}"),
        format!("{error:?} {error}"),
        format!("{refused:?} {refused}"),
        format!("{:?}", DropboxTeam::new(bad.clone())),
    ];
    let logs = capture.0.lock().unwrap().clone();
    assert!(
        logs.contains("dropbox call"),
        "the capture saw the client's events: {logs}"
    );
    for secret in secrets
        .iter()
        .map(String::as_str)
        .chain(["sl.refused-secret"])
    {
        for output in outputs.iter().chain([&logs]) {
            assert!(!output.contains(secret), "a secret leaked into: {output}");
        }
    }
    assert!(format!("{credentials:?}").contains("[redacted]"));
}
