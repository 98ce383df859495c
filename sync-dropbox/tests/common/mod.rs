//! Helpers shared by the integration tests: an in-process emulator and a store pointed at it.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use std::collections::{BTreeMap, BTreeSet};

use teamsync_core::{
    Backoff, DesiredState, DirectoryGroup, DirectoryUser, Email, MemberRef, NewMember, SourceId,
};
use teamsync_dropbox::{
    ClientConfig, Credentials, DropboxClient, DropboxTeam, JobPolling, TeamOptions,
};
use teamsync_dropbox_emulator::{Emulator, EmulatorConfig, TeamState};

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
    TeamOptions::default().with_job_polling(JobPolling::new(
        Duration::from_millis(5),
        Duration::from_millis(50),
        Duration::from_secs(30),
    ))
}

/// The client settings of the tests: the production defaults with fast read retries (5 retries,
/// 10 ms doubling to 100 ms), so that repeated reads do not slow the suite.
pub fn test_client_config(base_url: String) -> ClientConfig {
    let mut config = ClientConfig::with_base_url(base_url);
    config.read_retry.backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(100));
    config
}

pub fn client(emu: &Emulator) -> DropboxClient {
    client_with(emu, |_| {})
}

/// A client of `emu` with the test settings changed by `change`.
pub fn client_with(emu: &Emulator, change: impl FnOnce(&mut ClientConfig)) -> DropboxClient {
    let mut config = test_client_config(emu.base_url());
    change(&mut config);
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

/// `users` users over `groups` groups under one root: user `i` is in group `i % groups`, and,
/// with `Some(n)`, every n-th user also in the next group.
pub fn directory(users: usize, groups: usize, second_group_every: Option<usize>) -> DesiredState {
    let id = |s: String| SourceId::new(s).unwrap();
    let root = id("root".into());
    let mut members: Vec<Vec<SourceId>> = vec![Vec::new(); groups];
    let people: Vec<DirectoryUser> = (0..users)
        .map(|i| {
            let user = DirectoryUser::new(
                id(format!("u{i:05}")),
                format!("user{i:05}@example.com"),
                format!("Given{i}"),
                format!("Sur{i}"),
            );
            members[i % groups].push(user.id.clone());
            if second_group_every.is_some_and(|n| i % n == 0) {
                members[(i + 1) % groups].push(user.id.clone());
            }
            user
        })
        .collect();
    let mut all_groups: Vec<DirectoryGroup> = members
        .into_iter()
        .enumerate()
        .map(|(g, members)| DirectoryGroup {
            id: id(format!("g{g:03}")),
            name: format!("Team {g:03}"),
            members,
            locator: None,
        })
        .collect();
    all_groups.push(DirectoryGroup {
        id: root.clone(),
        name: "Dropbox users".into(),
        members: all_groups.iter().map(|g| g.id.clone()).collect(),
        locator: None,
    });
    DesiredState {
        user_roots: vec![root],
        users: people,
        groups: all_groups,
        ..DesiredState::default()
    }
}

/// Every synced directory group is on the team with its managed external id and exactly its
/// members (by email).
pub fn assert_groups_match(state: &TeamState, desired: &DesiredState) {
    let emails: BTreeMap<&str, &str> = desired
        .users
        .iter()
        .map(|u| (u.id.as_str(), u.email.as_str()))
        .collect();
    let synced: Vec<&DirectoryGroup> = desired
        .groups
        .iter()
        .filter(|g| g.id.as_str() != "root")
        .collect();
    assert_eq!(state.groups.len(), synced.len());
    for group in synced {
        let team_group = state
            .group_by_name(&group.name)
            .unwrap_or_else(|| panic!("{} missing", group.name));
        assert_eq!(
            team_group.external_id.as_deref(),
            Some(format!("teamsync:{}", group.id).as_str())
        );
        let want: BTreeSet<&str> = group.members.iter().map(|m| emails[m.as_str()]).collect();
        let have: BTreeSet<&str> = team_group
            .members
            .iter()
            .map(|m| m.email.as_str())
            .collect();
        assert_eq!(have, want, "members of {}", group.name);
    }
}
