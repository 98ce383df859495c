//! Helpers shared by the integration tests: an in-process emulator and a store pointed at it.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use sync_core::{Email, MemberRef, NewMember};
use sync_dropbox::{
    ClientConfig, Credentials, DropboxClient, DropboxTeam, JobPolling, TeamOptions,
};
use sync_dropbox_emulator::{Emulator, EmulatorConfig};

pub async fn emulator() -> Emulator {
    emulator_with(EmulatorConfig::default()).await
}

pub async fn emulator_with(config: EmulatorConfig) -> Emulator {
    Emulator::start(config)
        .await
        .expect("the in-process emulator starts")
}

/// Fast job polling so that tests do not wait on the production defaults.
pub fn test_options() -> TeamOptions {
    TeamOptions {
        job_polling: JobPolling {
            first_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            max_wait: Duration::from_secs(30),
        },
        ..TeamOptions::default()
    }
}

pub fn client(emu: &Emulator) -> DropboxClient {
    let config = ClientConfig::with_base_url(emu.base_url());
    DropboxClient::new(config, Credentials::access_token(emu.access_token())).unwrap()
}

pub fn store(emu: &Emulator) -> DropboxTeam {
    DropboxTeam::with_options(client(emu), test_options())
}

pub fn store_with(emu: &Emulator, options: TeamOptions) -> DropboxTeam {
    DropboxTeam::with_options(client(emu), options)
}

pub fn email(address: &str) -> Email {
    Email::parse(address).unwrap()
}

pub fn new_member(address: &str) -> NewMember {
    let local = address.split('@').next().unwrap();
    NewMember {
        email: email(address),
        given_name: format!("Given {local}"),
        surname: format!("Sur {local}"),
        external_id: format!("teamsync:{local}"),
        send_welcome_email: false,
    }
}

pub fn by_external(local: &str) -> MemberRef {
    MemberRef::ExternalId(format!("teamsync:{local}"))
}

/// Write calls recorded by the emulator (everything but list, get and job-status reads).
pub fn write_calls(emu: &Emulator) -> u64 {
    emu.call_counts()
        .iter()
        .filter(|(route, _)| {
            !(route.contains("list")
                || route.contains("get_info")
                || route.contains("job_status")
                || route.starts_with("oauth2"))
        })
        .map(|(_, n)| *n)
        .sum()
}

pub fn calls(emu: &Emulator, route: &str) -> u64 {
    emu.call_counts().get(route).copied().unwrap_or(0)
}
