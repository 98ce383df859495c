//! Read progress of a team snapshot against the emulator: per page, counts that never go
//! down, totals that never change within a stage, and each stage ending with its final count.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use teamsync_core::{ReadOptions, ReadProgress, ReadStage, TeamStore};
use teamsync_dropbox_emulator::{SeedGroup, SeedMember, TeamSeed};

/// Checks the promises of [`ReadProgress`] and returns each stage's final count, in order.
fn check_events(events: &[ReadProgress]) -> Vec<(ReadStage, usize)> {
    struct Seen {
        stage: ReadStage,
        count: usize,
        total: Option<Option<usize>>,
        finished: bool,
    }
    let mut seen: Vec<Seen> = Vec::new();
    let mut finals = Vec::new();
    for event in events {
        let stage = event.stage();
        if !seen.iter().any(|s| s.stage == stage) {
            seen.push(Seen {
                stage,
                count: 0,
                total: None,
                finished: false,
            });
        }
        let s = seen.iter_mut().find(|s| s.stage == stage).unwrap();
        assert!(
            !s.finished,
            "{stage:?} reported after it finished: {events:?}"
        );
        assert!(event.count() >= s.count, "{stage:?} went down: {events:?}");
        s.count = event.count();
        match *event {
            ReadProgress::Counted { count, total, .. } => {
                let first = *s.total.get_or_insert(total);
                assert_eq!(total, first, "{stage:?}'s total changed: {events:?}");
                assert!(
                    total.is_none_or(|t| count <= t),
                    "{stage:?} past its total: {events:?}"
                );
            }
            ReadProgress::Finished { count, .. } => {
                s.finished = true;
                finals.push((stage, count));
            }
            _ => {}
        }
    }
    assert!(
        seen.iter().all(|s| s.finished),
        "a stage never finished: {events:?}"
    );
    finals
}

#[tokio::test]
async fn a_team_snapshot_reports_each_page_and_ends_with_the_final_counts() {
    let emu = common::emulator().await;
    let members: Vec<SeedMember> = (0..250)
        .map(|i| SeedMember {
            email: format!("user{i}@corp.test"),
            given_name: "Given".into(),
            surname: format!("Sur{i}"),
            ..SeedMember::default()
        })
        .collect();
    let groups: Vec<SeedGroup> = (0..12)
        .map(|g| SeedGroup {
            name: format!("Group {g}"),
            external_id: None,
            management_type: None,
            members: (0..30)
                .map(|i| format!("user{}@corp.test", g * 10 + i))
                .collect(),
        })
        .collect();
    emu.try_seed(&TeamSeed {
        team_name: None,
        license_limit: None,
        members,
        groups,
    })
    .unwrap();
    // Pages of 40: 7 pages of members, 1 of groups, 1 of each group's members.
    let store = common::store_with(&emu, common::test_options().with_page_size(40));
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let options = ReadOptions::default().with_progress(move |p| sink.lock().unwrap().push(p));
    let actual = store.snapshot_with(&options).await.unwrap();
    let events = events.lock().unwrap().clone();

    let finals = check_events(&events);
    assert_eq!(
        finals,
        [
            (ReadStage::TeamMembers, actual.members.len()),
            (ReadStage::TeamGroups, actual.groups.len()),
            (ReadStage::TeamGroupMembers, actual.groups.len()),
        ]
    );
    assert_eq!(actual.members.len(), 250);
    assert_eq!(actual.groups.len(), 12);
    let member_pages = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                ReadProgress::Counted {
                    stage: ReadStage::TeamMembers,
                    ..
                }
            )
        })
        .count();
    assert_eq!(
        member_pages, 7,
        "one report per page of members: {events:?}"
    );
    // The member lists' total is known before they are read: every report carries it.
    assert!(events.iter().all(|e| match e {
        ReadProgress::Counted {
            stage: ReadStage::TeamGroupMembers,
            total,
            ..
        } => *total == Some(12),
        _ => true,
    }));
    // The same read without a listener gives the same state.
    assert_eq!(store.snapshot().await.unwrap(), actual);
}
