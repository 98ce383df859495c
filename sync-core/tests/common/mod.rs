//! Builders shared by the core's integration tests.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose
#![allow(dead_code)]

use teamsync_core::*;

pub fn sid(s: &str) -> SourceId {
    SourceId::new(s).unwrap()
}

pub fn user(id: &str, email: &str, given: &str, surname: &str) -> DirectoryUser {
    DirectoryUser::new(sid(id), email, given, surname)
}

pub fn disabled(mut u: DirectoryUser) -> DirectoryUser {
    u.enabled = false;
    u
}

pub fn group(id: &str, name: &str, members: &[&str]) -> DirectoryGroup {
    DirectoryGroup {
        id: sid(id),
        name: name.into(),
        members: members.iter().map(|m| sid(m)).collect(),
        locator: None,
    }
}

/// A directory whose single user root is group "root".
pub fn directory(
    users: Vec<DirectoryUser>,
    mut groups: Vec<DirectoryGroup>,
    root_members: &[&str],
) -> DesiredState {
    groups.push(group("root", "Dropbox Users", root_members));
    DesiredState {
        user_roots: vec![sid("root")],
        users,
        groups,
        ..Default::default()
    }
}

pub fn member(
    tmid: &str,
    email: &str,
    external_id: Option<&str>,
    given: &str,
    surname: &str,
    status: MemberStatus,
) -> TeamMember {
    TeamMember {
        team_member_id: tmid.into(),
        email: Email::parse(email).unwrap(),
        external_id: external_id.map(Into::into),
        given_name: given.into(),
        surname: surname.into(),
        status,
        is_admin: false,
    }
}

/// A member managed for directory id `id`.
pub fn managed(
    tmid: &str,
    id: &str,
    email: &str,
    given: &str,
    surname: &str,
    status: MemberStatus,
) -> TeamMember {
    member(
        tmid,
        email,
        Some(&format!("teamsync:{id}")),
        given,
        surname,
        status,
    )
}

pub fn team(members: Vec<TeamMember>, groups: Vec<TeamGroup>) -> ActualState {
    ActualState { members, groups }
}

pub fn team_group(gid: &str, name: &str, external_id: Option<&str>, members: &[&str]) -> TeamGroup {
    TeamGroup {
        group_id: gid.into(),
        name: name.into(),
        external_id: external_id.map(Into::into),
        management_type: ManagementType::CompanyManaged,
        members: members.iter().map(|m| m.to_string()).collect(),
    }
}

/// One line per operation: "verb target [details]". What the golden tests compare.
pub fn ops(plan: &Plan) -> Vec<String> {
    plan.operations
        .iter()
        .map(|op| {
            let detail = match &op.action {
                Action::Invite { member } => format!(
                    " ({} {} {})",
                    member.external_id, member.given_name, member.surname
                ),
                Action::UpdateProfile { change, .. } | Action::AdoptMember { change, .. } => {
                    format!(" {}", change_text(change))
                }
                Action::Suspend { wipe_data, .. } => format!(" wipe={wipe_data}"),
                Action::Remove { options, .. } => {
                    format!(" wipe={} {:?}", options.wipe_data, options.mode)
                }
                Action::RenameGroup { name, .. } => format!(" -> {name}"),
                _ => String::new(),
            };
            format!("{} {}{}", op.action.verb(), op.target, detail)
        })
        .collect()
}

fn change_text(c: &ProfileChange) -> String {
    let mut parts = Vec::new();
    if let Some(e) = &c.email {
        parts.push(format!("email={e}"));
    }
    if let Some(g) = &c.given_name {
        parts.push(format!("given={g}"));
    }
    if let Some(s) = &c.surname {
        parts.push(format!("surname={s}"));
    }
    if let Some(x) = &c.external_id {
        parts.push(format!("external_id={x}"));
    }
    parts.join(" ")
}

pub fn warning_kinds(plan: &Plan) -> Vec<WarningKind> {
    plan.warnings.iter().map(|w| w.kind).collect()
}

pub fn plan_ok(d: &DesiredState, a: &ActualState, p: &Policy) -> Plan {
    plan(d, a, p).expect("plan")
}
