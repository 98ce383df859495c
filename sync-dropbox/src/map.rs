//! Pure translation between Dropbox's wire shapes ([`crate::wire`]) and the core's types, and the
//! classification of Dropbox's answers into [`ErrorKind`]s. No I/O here; everything is tested
//! with JSON built from the Stone spec's definitions and examples.

use std::time::Duration;

use serde_json::Value;
use teamsync_core::{
    Email, ErrorKind, GroupChange, GroupRef, ManagementType, MemberRef, MemberStatus, NewMember,
    ProfileChange, RemoveMode, RemoveOptions, StoreError, TeamGroup, TeamMember,
};

use crate::error::DropboxError;
use crate::wire::{
    ErrorBody, GroupManagementType, GroupSelector, GroupSummary, GroupUpdateArgs, MemberAddV2Arg,
    MemberAddV2Result, MembersRemoveArg, MembersSetProfileArg, TeamMemberInfoV2, TeamMemberRole,
    TeamMemberStatus, UserSelectorArg,
};

// ───────────────────────────── core → wire ─────────────────────────────

/// A member reference as Dropbox's `UserSelectorArg`.
pub fn user_selector(member: &MemberRef) -> UserSelectorArg {
    match member {
        MemberRef::ExternalId(id) => UserSelectorArg::ExternalId {
            external_id: id.clone(),
        },
        MemberRef::TeamMemberId(id) => UserSelectorArg::TeamMemberId {
            team_member_id: id.clone(),
        },
        MemberRef::Email(email) => UserSelectorArg::Email {
            email: email.as_str().to_owned(),
        },
    }
}

/// A group reference as Dropbox's `GroupSelector`.
pub fn group_selector(group: &GroupRef) -> GroupSelector {
    match group {
        GroupRef::ExternalId(id) => GroupSelector::GroupExternalId {
            group_external_id: id.clone(),
        },
        GroupRef::GroupId(id) => GroupSelector::GroupId {
            group_id: id.clone(),
        },
    }
}

/// One invitation as `MemberAddV2Arg`. Empty name parts are left out rather than sent empty.
pub fn member_add_arg(member: &NewMember) -> MemberAddV2Arg {
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    MemberAddV2Arg {
        member_email: member.email.as_str().to_owned(),
        member_given_name: non_empty(&member.given_name),
        member_surname: non_empty(&member.surname),
        member_external_id: non_empty(&member.external_id),
        send_welcome_email: member.send_welcome_email,
    }
}

/// A profile change as `MembersSetProfileArg`; `None` when there is nothing to change (Dropbox
/// would answer `no_new_data_specified`).
pub fn set_profile_arg(member: &MemberRef, change: &ProfileChange) -> Option<MembersSetProfileArg> {
    if change.is_empty() {
        return None;
    }
    Some(MembersSetProfileArg {
        user: user_selector(member),
        new_email: change.email.as_ref().map(|e| e.as_str().to_owned()),
        new_external_id: change.external_id.clone(),
        new_given_name: change.given_name.clone(),
        new_surname: change.surname.clone(),
    })
}

/// A removal as `MembersRemoveArg`. Keeping the account forces `wipe_data = false`, which
/// Dropbox requires (`cannot_keep_account_and_delete_data` otherwise).
pub fn remove_arg(member: &MemberRef, options: &RemoveOptions) -> MembersRemoveArg {
    let mut arg = MembersRemoveArg {
        user: user_selector(member),
        wipe_data: options.wipe_data,
        transfer_dest_id: None,
        transfer_admin_id: None,
        keep_account: false,
    };
    match &options.mode {
        RemoveMode::Plain => {}
        RemoveMode::Transfer { dest, admin } => {
            arg.transfer_dest_id = Some(user_selector(dest));
            arg.transfer_admin_id = Some(user_selector(admin));
        }
        RemoveMode::KeepAccount => {
            arg.keep_account = true;
            arg.wipe_data = false;
        }
    }
    arg
}

/// The core's management type as Dropbox's.
pub fn wire_management_type(management: ManagementType) -> GroupManagementType {
    match management {
        ManagementType::UserManaged => GroupManagementType::UserManaged,
        ManagementType::CompanyManaged => GroupManagementType::CompanyManaged,
        ManagementType::SystemManaged => GroupManagementType::SystemManaged,
    }
}

/// A group change as `GroupUpdateArgs`; `None` when there is nothing to change.
pub fn group_update_arg(group: &GroupRef, change: &GroupChange) -> Option<GroupUpdateArgs> {
    if change.name.is_none() && change.external_id.is_none() && change.management_type.is_none() {
        return None;
    }
    Some(GroupUpdateArgs {
        group: group_selector(group),
        return_members: false,
        new_group_name: change.name.clone(),
        new_group_external_id: change.external_id.clone(),
        new_group_management_type: change.management_type.map(wire_management_type),
    })
}

// ───────────────────────────── wire → core ─────────────────────────────

/// Why a Dropbox object could not become a core value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// A member's email is not one the core accepts (Dropbox validated it, so this means the
    /// server is not following its own rules).
    #[error("member {team_member_id} has an email the core refuses: {reason}")]
    BadEmail {
        /// The member.
        team_member_id: String,
        /// Why the address was refused.
        reason: String,
    },
}

impl From<MapError> for StoreError {
    fn from(error: MapError) -> Self {
        StoreError::permanent(error.to_string()).with_code("unexpected_member_data")
    }
}

/// Dropbox's member status as the core's.
pub fn member_status(status: TeamMemberStatus) -> MemberStatus {
    match status {
        TeamMemberStatus::Active => MemberStatus::Active,
        TeamMemberStatus::Invited => MemberStatus::Invited,
        TeamMemberStatus::Suspended => MemberStatus::Suspended,
        TeamMemberStatus::Removed { is_recoverable, .. } => MemberStatus::Removed {
            recoverable: is_recoverable,
        },
    }
}

/// Whether the roles make the member an admin teamsync must not deprovision by default.
///
/// `TeamMemberRole` replaced `AdminTier`, "each AdminTier corresponds to a new TeamMemberRole with
/// a matching name" (team.stone). The tiers that can manage members, `team_admin` and
/// `user_management_admin`, count; support and billing admins do not. The spec's examples
/// name the roles "Team admin" and "User management admin"; the admin console shows them as
/// "Team" and "User management", so the `admin` suffix is optional.
pub fn is_admin(roles: &[TeamMemberRole]) -> bool {
    roles.iter().any(|role| {
        let tier: String = role
            .name
            .trim()
            .chars()
            .map(|c| {
                if c == ' ' || c == '-' {
                    '_'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        let tier = tier.strip_suffix("_admin").unwrap_or(&tier);
        tier == "team" || tier == "user_management"
    })
}

/// A listed member as the core's [`TeamMember`].
pub fn team_member(info: &TeamMemberInfoV2) -> Result<TeamMember, MapError> {
    let profile = &info.profile;
    let email = Email::parse(&profile.email).map_err(|e| MapError::BadEmail {
        team_member_id: profile.team_member_id.clone(),
        reason: e.to_string(),
    })?;
    Ok(TeamMember {
        team_member_id: profile.team_member_id.clone(),
        email,
        external_id: profile.external_id.clone().filter(|id| !id.is_empty()),
        given_name: profile.name.given_name.clone(),
        surname: profile.name.surname.clone(),
        status: member_status(profile.status),
        is_admin: is_admin(info.roles.as_deref().unwrap_or_default()),
    })
}

/// Dropbox's management type as the core's. A tag this build does not know is treated as
/// system-managed, the one kind teamsync never touches.
pub fn management_type(management: &GroupManagementType) -> ManagementType {
    match management {
        GroupManagementType::UserManaged => ManagementType::UserManaged,
        GroupManagementType::CompanyManaged => ManagementType::CompanyManaged,
        GroupManagementType::SystemManaged | GroupManagementType::Other => {
            ManagementType::SystemManaged
        }
    }
}

/// A listed group with its members' `team_member_id`s as the core's [`TeamGroup`].
pub fn team_group(summary: &GroupSummary, mut members: Vec<String>) -> TeamGroup {
    members.sort();
    members.dedup();
    TeamGroup {
        group_id: summary.group_id.clone(),
        name: summary.group_name.clone(),
        external_id: summary
            .group_external_id
            .clone()
            .filter(|id| !id.is_empty()),
        management_type: management_type(&summary.group_management_type),
        members,
    }
}

// ───────────────────────────── invitations ─────────────────────────────

/// The kind of a `MemberAddV2Result` failure tag.
pub fn member_add_failure_kind(tag: &str) -> ErrorKind {
    match tag {
        // The team's state stands in the way: someone holds the email or external id, or the
        // team is out of seats. Retrying the same call fails the same way.
        "user_already_on_team"
        | "team_license_limit"
        | "free_team_member_limit_reached"
        | "user_on_another_team"
        | "user_already_paired"
        | "duplicate_external_member_id"
        | "duplicate_member_persistent_id" => ErrorKind::Conflict,
        // `user_migration_failed`, `user_creation_failed`, `persistent_id_disabled` and tags
        // this build does not know: give up on this person for this run. Not retried, since a
        // retry after a half-done creation would only meet `user_already_on_team`.
        _ => ErrorKind::Permanent,
    }
}

/// The error for one failed invitation.
pub fn member_add_failure(tag: &str, email: &str) -> StoreError {
    StoreError::new(
        member_add_failure_kind(tag),
        format!("inviting {email}: {tag}"),
    )
    .with_code(tag)
}

/// Pairs `add_v2` results with the people asked for: one result per input, in input order.
///
/// Results are matched by email (every result names one: the profile on success, the tag's
/// value on failure), falling back to position for a result that names none. A person with no
/// result gets a permanent error rather than a silent success.
pub fn invite_results(
    asked: &[NewMember],
    results: &[MemberAddV2Result],
) -> Vec<Result<(), StoreError>> {
    let mut claimed = vec![false; results.len()];
    asked
        .iter()
        .enumerate()
        .map(|(position, member)| {
            let wanted = member.email.as_str();
            let by_email = results.iter().enumerate().position(|(i, r)| {
                !claimed[i]
                    && r.email()
                        .is_some_and(|e| e.trim().eq_ignore_ascii_case(wanted))
            });
            let by_position = || {
                (position < results.len()
                    && !claimed[position]
                    && results[position].email().is_none())
                .then_some(position)
            };
            let Some(index) = by_email.or_else(by_position) else {
                return Err(StoreError::permanent(format!(
                    "members/add_v2 returned no result for {wanted}"
                ))
                .with_code("missing_result"));
            };
            claimed[index] = true;
            match &results[index] {
                MemberAddV2Result::Success(_) => Ok(()),
                MemberAddV2Result::Failure { tag, .. } => Err(member_add_failure(tag, wanted)),
            }
        })
        .collect()
}

// ───────────────────────────── error classification ─────────────────────────────

/// The kind of a route error tag (HTTP 409), from the error unions of the routes teamsync calls.
pub fn route_error_kind(tag: &str) -> ErrorKind {
    match tag {
        // The member or group named does not exist (or no longer does).
        "user_not_found"
        | "user_not_in_team"
        | "id_not_found"
        | "group_not_found"
        | "group_not_in_team"
        | "group_already_deleted"
        | "member_not_in_group"
        | "users_not_found"
        | "members_not_in_team"
        | "transfer_dest_user_not_found"
        | "transfer_dest_user_not_in_team"
        | "transfer_admin_user_not_found"
        | "transfer_admin_user_not_in_team"
        | "invalid_async_job_id" => ErrorKind::NotFound,
        // The call clashes with the team's current state.
        "group_name_already_used"
        | "external_id_already_in_use"
        | "duplicate_user"
        | "user_already_on_team"
        | "team_license_limit"
        | "free_team_member_limit_reached"
        | "email_reserved_for_other_user"
        | "external_id_used_by_other_user"
        | "persistent_id_used_by_other_user"
        | "set_profile_disallowed"
        | "suspend_inactive_user"
        | "suspend_last_admin"
        | "unsuspend_non_suspended_member"
        | "remove_last_admin"
        | "user_unrecoverable"
        | "transfer_in_progress"
        | "already_transferred"
        | "already_transferred_or_deleted"
        | "cannot_keep_invited_user_account"
        | "cannot_keep_account_under_legal_hold"
        | "cannot_keep_account_required_to_sign_tos"
        | "member_is_transfer_destination"
        | "user_must_be_active_to_be_owner"
        | "system_managed_group_disallowed"
        | "transfer_admin_is_not_admin"
        | "recipient_not_verified" => ErrorKind::Conflict,
        // Dropbox's own failure while running a job.
        "internal_error" => ErrorKind::Transient,
        // `groups/job_status/get`: the token may not see this job.
        "access_denied" => ErrorKind::Auth,
        _ => ErrorKind::Permanent,
    }
}

/// Longest piece of a response body kept in an error.
const MAX_BODY_IN_ERROR: usize = 300;

fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(MAX_BODY_IN_ERROR) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        ct.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
    })
}

/// The delay a 429 asks for: the JSON body's `error.retry_after` (seconds) when the body is
/// JSON and has one, else the `Retry-After` header (seconds, possibly fractional).
pub fn retry_after(
    content_type: Option<&str>,
    header: Option<&str>,
    body: &[u8],
) -> Option<Duration> {
    let from_body = is_json(content_type)
        .then(|| serde_json::from_slice::<Value>(body).ok())
        .flatten()
        .and_then(|v| {
            let retry = v
                .get("error")
                .and_then(|e| e.get("retry_after"))
                .or_else(|| v.get("retry_after"))?;
            retry.as_f64()
        });
    let from_header = || header.and_then(|h| h.trim().parse::<f64>().ok());
    // Any number may arrive (`1e30`, `-1`, `NaN`): negative and non-numbers are ignored, and
    // a wait too long for a `Duration` is the longest one (the retry policy refuses to sleep
    // it and names it).
    from_body
        .or_else(from_header)
        .filter(|secs| *secs >= 0.0)
        .map(|secs| Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
}

/// Classifies a non-200 answer from `route`.
pub fn classify_response(
    route: &str,
    status: u16,
    content_type: Option<&str>,
    retry_after_header: Option<&str>,
    body: &[u8],
) -> DropboxError {
    let route = route.to_owned();
    let json_error = || serde_json::from_slice::<ErrorBody>(body).ok();
    match status {
        409 => match json_error()
            .as_ref()
            .and_then(|e| e.tag().map(str::to_owned))
        {
            Some(tag) => DropboxError::Route { route, tag },
            None => DropboxError::Decode {
                route,
                message: format!("409 without an error tag: {}", body_excerpt(body)),
            },
        },
        401 => {
            let tag = json_error()
                .and_then(|e| e.tag().map(str::to_owned))
                .unwrap_or_else(|| "unauthorized".to_owned());
            // `missing_scope` carries the scope the token lacks: name it, it is what the admin
            // must grant.
            let required_scope = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
                v.pointer("/error/required_scope")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
            let required_scope = required_scope.filter(|_| tag == "missing_scope");
            DropboxError::Auth {
                route,
                tag,
                required_scope,
            }
        }
        403 => {
            let message = json_error()
                .and_then(|e| e.tag().map(str::to_owned))
                .unwrap_or_else(|| body_excerpt(body));
            DropboxError::AccessDenied { route, message }
        }
        429 => DropboxError::RateLimited {
            route,
            retry_after: retry_after(content_type, retry_after_header, body),
        },
        400 => {
            // The token endpoint answers 400 `{"error":"invalid_grant"}` for a dead refresh token.
            let oauth_error = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned));
            let message = body_excerpt(body);
            if let Some(tag) = oauth_error.filter(|t| t == "invalid_grant" || t == "invalid_client")
            {
                DropboxError::Auth {
                    route,
                    tag,
                    required_scope: None,
                }
            } else if message.contains("required scope") || message.contains("missing_scope") {
                DropboxError::AccessDenied { route, message }
            } else {
                DropboxError::BadRequest { route, message }
            }
        }
        500..=599 => DropboxError::Server {
            route,
            status,
            message: body_excerpt(body),
        },
        _ => DropboxError::UnexpectedStatus {
            route,
            status,
            message: body_excerpt(body),
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;
    use teamsync_core::SourceId;

    use super::*;
    use crate::wire::*;

    /// `TeamMemberProfile`'s `example default` from team.stone, with `users.Name`'s five parts.
    fn profile_json(status: Value) -> Value {
        json!({
            "team_member_id": "dbmid:FDFSVF-DFSDF",
            "account_id": "dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc",
            "external_id": "244423",
            "email": "tami@seagull.com",
            "email_verified": false,
            "secondary_emails": [{"email": "apple@orange.com", "is_verified": true}],
            "status": status,
            "name": {
                "given_name": "Franz",
                "surname": "Ferdinand",
                "familiar_name": "Franz",
                "display_name": "Franz Ferdinand (Personal)",
                "abbreviated_name": "FF"
            },
            "groups": ["g:e2db7665347abcd600000000001a2b3c"],
            "membership_type": {".tag": "full"},
            "joined_on": "2015-05-12T15:50:38Z",
            "member_folder_id": "20",
            "root_folder_id": "30",
            "profile_photo_url": "https://dl-web.dropbox.com/account_photo/get/x"
        })
    }

    fn role(id: &str, name: &str) -> Value {
        json!({"role_id": id, "name": name, "description": "from the spec's examples"})
    }

    fn new_member(email: &str) -> NewMember {
        NewMember {
            email: Email::parse(email).unwrap(),
            given_name: "Ann".into(),
            surname: "Lee".into(),
            external_id: format!("teamsync:{email}"),
            send_welcome_email: true,
        }
    }

    #[test]
    fn member_info_maps_to_team_member() {
        let wire = json!({"profile": profile_json(json!({".tag": "active"})), "roles": [role("pid_dbtmr:3456", "User management admin")]});
        let info: TeamMemberInfoV2 = serde_json::from_value(wire).unwrap();
        let member = team_member(&info).unwrap();
        assert_eq!(
            member,
            TeamMember {
                team_member_id: "dbmid:FDFSVF-DFSDF".into(),
                email: Email::parse("tami@seagull.com").unwrap(),
                external_id: Some("244423".into()),
                given_name: "Franz".into(),
                surname: "Ferdinand".into(),
                status: MemberStatus::Active,
                is_admin: true,
            }
        );
    }

    #[test]
    fn optional_fields_may_be_absent() {
        let mut profile = profile_json(json!("invited"));
        let object = profile.as_object_mut().unwrap();
        for optional in [
            "external_id",
            "account_id",
            "secondary_emails",
            "joined_on",
            "profile_photo_url",
        ] {
            object.remove(optional);
        }
        let info: TeamMemberInfoV2 = serde_json::from_value(json!({"profile": profile})).unwrap();
        let member = team_member(&info).unwrap();
        assert_eq!(member.external_id, None);
        assert_eq!(
            member.status,
            MemberStatus::Invited,
            "void shorthand string accepted"
        );
        assert!(!member.is_admin);
    }

    #[test]
    fn required_fields_are_required() {
        let mut profile = profile_json(json!({".tag": "active"}));
        profile.as_object_mut().unwrap().remove("status");
        assert!(serde_json::from_value::<TeamMemberInfoV2>(json!({"profile": profile})).is_err());
    }

    #[test]
    fn every_member_status_maps() {
        let cases = [
            (json!({".tag": "active"}), MemberStatus::Active),
            (json!({".tag": "invited"}), MemberStatus::Invited),
            (json!({".tag": "suspended"}), MemberStatus::Suspended),
            (
                json!({".tag": "removed", "is_recoverable": true, "is_disconnected": false}),
                MemberStatus::Removed { recoverable: true },
            ),
            (
                json!({".tag": "removed", "is_recoverable": false, "is_disconnected": true}),
                MemberStatus::Removed { recoverable: false },
            ),
        ];
        for (wire, expected) in cases {
            let status: TeamMemberStatus = serde_json::from_value(wire.clone()).unwrap();
            assert_eq!(member_status(status), expected, "{wire}");
        }
        // A closed union: an unknown tag is an error, not a guess.
        assert!(serde_json::from_value::<TeamMemberStatus>(json!({".tag": "frozen"})).is_err());
    }

    #[test]
    fn admin_roles() {
        let roles = |names: &[&str]| -> Vec<TeamMemberRole> {
            names
                .iter()
                .map(|n| serde_json::from_value(role("pid_dbtmr:1", n)).unwrap())
                .collect()
        };
        assert!(is_admin(&roles(&["Team admin"])));
        assert!(is_admin(&roles(&[
            "Support admin",
            "User management admin"
        ])));
        assert!(is_admin(&roles(&["team_admin"])));
        assert!(is_admin(&roles(&["Team"])));
        assert!(is_admin(&roles(&["User management"])));
        assert!(!is_admin(&roles(&["Support"])));
        assert!(!is_admin(&roles(&["Support admin"])));
        assert!(!is_admin(&roles(&["Billing admin"])));
        assert!(!is_admin(&roles(&[])));
    }

    #[test]
    fn selectors_serialize_as_tagged_unions() {
        let by_external = user_selector(&MemberRef::ExternalId("teamsync:u1".into()));
        assert_eq!(
            serde_json::to_value(&by_external).unwrap(),
            json!({".tag": "external_id", "external_id": "teamsync:u1"})
        );
        let by_id = user_selector(&MemberRef::TeamMemberId("dbmid:1".into()));
        assert_eq!(
            serde_json::to_value(&by_id).unwrap(),
            json!({".tag": "team_member_id", "team_member_id": "dbmid:1"})
        );
        let by_email = user_selector(&MemberRef::Email(Email::parse("A@x.com").unwrap()));
        assert_eq!(
            serde_json::to_value(&by_email).unwrap(),
            json!({".tag": "email", "email": "a@x.com"})
        );
        let group = group_selector(&GroupRef::ExternalId("teamsync:g".into()));
        assert_eq!(
            serde_json::to_value(&group).unwrap(),
            json!({".tag": "group_external_id", "group_external_id": "teamsync:g"})
        );
        let group = group_selector(&GroupRef::GroupId("g:1".into()));
        assert_eq!(
            serde_json::to_value(&group).unwrap(),
            json!({".tag": "group_id", "group_id": "g:1"})
        );
    }

    #[test]
    fn member_add_arg_omits_unset_optionals() {
        let mut member = new_member("ann@x.com");
        member.surname = String::new();
        let arg = MembersAddV2Arg {
            new_members: vec![member_add_arg(&member)],
            force_async: false,
        };
        assert_eq!(
            serde_json::to_value(&arg).unwrap(),
            json!({"new_members": [{
                "member_email": "ann@x.com",
                "member_given_name": "Ann",
                "member_external_id": "teamsync:ann@x.com",
                "send_welcome_email": true
            }], "force_async": false})
        );
    }

    #[test]
    fn set_profile_and_group_update_args() {
        let who = MemberRef::ExternalId("teamsync:u1".into());
        assert_eq!(set_profile_arg(&who, &ProfileChange::default()), None);
        let change = ProfileChange {
            email: Some(Email::parse("new@x.com").unwrap()),
            surname: Some("Li".into()),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(set_profile_arg(&who, &change).unwrap()).unwrap(),
            json!({"user": {".tag": "external_id", "external_id": "teamsync:u1"}, "new_email": "new@x.com", "new_surname": "Li"})
        );

        let group = GroupRef::GroupId("g:1".into());
        assert_eq!(group_update_arg(&group, &GroupChange::default()), None);
        let change = GroupChange {
            name: Some("Sales".into()),
            external_id: Some("teamsync:g1".into()),
            management_type: Some(ManagementType::CompanyManaged),
        };
        assert_eq!(
            serde_json::to_value(group_update_arg(&group, &change).unwrap()).unwrap(),
            json!({
                "group": {".tag": "group_id", "group_id": "g:1"},
                "return_members": false,
                "new_group_name": "Sales",
                "new_group_external_id": "teamsync:g1",
                "new_group_management_type": {".tag": "company_managed"}
            })
        );
    }

    #[test]
    fn remove_args_follow_the_options() {
        let who = MemberRef::TeamMemberId("dbmid:1".into());
        let plain = remove_arg(
            &who,
            &RemoveOptions {
                wipe_data: true,
                mode: RemoveMode::Plain,
            },
        );
        assert_eq!(
            serde_json::to_value(&plain).unwrap(),
            json!({"user": {".tag": "team_member_id", "team_member_id": "dbmid:1"}, "wipe_data": true, "keep_account": false})
        );
        let transfer = remove_arg(
            &who,
            &RemoveOptions {
                wipe_data: true,
                mode: RemoveMode::Transfer {
                    dest: MemberRef::Email(Email::parse("boss@x.com").unwrap()),
                    admin: MemberRef::TeamMemberId("dbmid:admin".into()),
                },
            },
        );
        let value = serde_json::to_value(&transfer).unwrap();
        assert_eq!(
            value["transfer_dest_id"],
            json!({".tag": "email", "email": "boss@x.com"})
        );
        assert_eq!(
            value["transfer_admin_id"],
            json!({".tag": "team_member_id", "team_member_id": "dbmid:admin"})
        );
        let keep = remove_arg(
            &who,
            &RemoveOptions {
                wipe_data: true,
                mode: RemoveMode::KeepAccount,
            },
        );
        assert!(
            keep.keep_account && !keep.wipe_data,
            "keep_account needs wipe_data = false"
        );
    }

    #[test]
    fn group_create_arg_shape() {
        let arg = GroupCreateArg {
            group_name: "Sales".into(),
            add_creator_as_owner: false,
            group_external_id: Some("teamsync:g".into()),
            group_management_type: Some(GroupManagementType::CompanyManaged),
        };
        assert_eq!(
            serde_json::to_value(&arg).unwrap(),
            json!({"group_name": "Sales", "add_creator_as_owner": false, "group_external_id": "teamsync:g",
                   "group_management_type": {".tag": "company_managed"}})
        );
    }

    #[test]
    fn groups_map_with_members() {
        let page: GroupsListResult = serde_json::from_value(json!({
            "groups": [
                {"group_name": "Test group", "group_id": "g:e2db7665347abcd600000000001a2b3c",
                 "group_external_id": "teamsync:g1", "member_count": 10,
                 "group_management_type": {".tag": "company_managed"}},
                {"group_name": "Everyone at X", "group_id": "g:2", "group_management_type": "system_managed"},
                {"group_name": "Odd", "group_id": "g:3", "group_management_type": {".tag": "future_kind"}}
            ],
            "cursor": "ZtkX9_EHj3x7PMkVuFIhwKYXEpwpLwyxp9vMKomUhllil9q7eWiAu",
            "has_more": false
        }))
        .unwrap();
        let group = team_group(
            &page.groups[0],
            vec!["dbmid:2".into(), "dbmid:1".into(), "dbmid:2".into()],
        );
        assert_eq!(
            group,
            TeamGroup {
                group_id: "g:e2db7665347abcd600000000001a2b3c".into(),
                name: "Test group".into(),
                external_id: Some("teamsync:g1".into()),
                management_type: ManagementType::CompanyManaged,
                members: vec!["dbmid:1".into(), "dbmid:2".into()],
            }
        );
        assert_eq!(
            team_group(&page.groups[1], vec![]).management_type,
            ManagementType::SystemManaged
        );
        assert_eq!(team_group(&page.groups[1], vec![]).external_id, None);
        // An unknown management type is treated as the kind teamsync never touches.
        assert_eq!(
            team_group(&page.groups[2], vec![]).management_type,
            ManagementType::SystemManaged
        );
    }

    #[test]
    fn group_member_pages_and_change_results_decode() {
        let page: GroupsMembersListResult = serde_json::from_value(json!({
            "members": [{"profile": profile_json(json!({".tag": "active"})), "access_type": {".tag": "member"}}],
            "cursor": "c", "has_more": true
        }))
        .unwrap();
        assert_eq!(page.members[0].profile.team_member_id, "dbmid:FDFSVF-DFSDF");
        assert_eq!(page.members[0].access_type, GroupAccessType::Member);
        let change: GroupMembersChangeResult = serde_json::from_value(json!({
            "group_info": {"group_name": "project launch", "group_id": "g:1", "member_count": 5,
                           "group_management_type": {".tag": "user_managed"}, "created": 1447255518000u64,
                           "members": []},
            "async_job_id": " "
        }))
        .unwrap();
        assert_eq!(
            change.group_info.group_management_type,
            GroupManagementType::UserManaged
        );
        // `async_job_id` is deprecated but required: a response without it is malformed.
        assert!(
            serde_json::from_value::<GroupMembersChangeResult>(json!({"group_info": {
            "group_name": "x", "group_id": "g:1", "group_management_type": "user_managed"}}))
            .is_err()
        );
        let access = MemberAccess {
            user: user_selector(&MemberRef::TeamMemberId("dbmid:1".into())),
            access_type: GroupAccessType::Member,
        };
        assert_eq!(
            serde_json::to_value(&access).unwrap()["access_type"],
            json!({".tag": "member"})
        );
    }

    #[test]
    fn every_member_add_result_tag_decodes_and_maps() {
        let success: MemberAddV2Result = serde_json::from_value(json!({
            ".tag": "success", "profile": profile_json(json!({".tag": "invited"})), "roles": []
        }))
        .unwrap();
        assert!(
            matches!(&success, MemberAddV2Result::Success(info) if info.profile.email == "tami@seagull.com")
        );
        for tag in MEMBER_ADD_FAILURE_TAGS {
            let result: MemberAddV2Result =
                serde_json::from_value(json!({".tag": tag, *tag: "ann@x.com"})).unwrap();
            assert_eq!(
                result,
                MemberAddV2Result::Failure {
                    tag: (*tag).to_owned(),
                    email: Some("ann@x.com".into())
                }
            );
            let [outcome] = invite_results(&[new_member("ann@x.com")], &[result])
                .try_into()
                .unwrap();
            let error = outcome.unwrap_err();
            assert_eq!(error.code.as_deref(), Some(*tag));
            let expected = match *tag {
                "user_migration_failed" | "user_creation_failed" | "persistent_id_disabled" => {
                    ErrorKind::Permanent
                }
                _ => ErrorKind::Conflict,
            };
            assert_eq!(error.kind, expected, "{tag}");
        }
        // Open union: a tag from a newer spec is a failure, not a decoding error.
        let future: MemberAddV2Result =
            serde_json::from_value(json!({".tag": "brand_new", "brand_new": "a@x.com"})).unwrap();
        assert_eq!(future.email(), Some("a@x.com"));
    }

    #[test]
    fn invite_results_pair_by_email_in_input_order() {
        let asked = [
            new_member("a@x.com"),
            new_member("b@x.com"),
            new_member("c@x.com"),
        ];
        let mut success_b = profile_json(json!("invited"));
        success_b["email"] = json!("B@x.com");
        let results: Vec<MemberAddV2Result> = serde_json::from_value(json!([
            {".tag": "user_already_on_team", "user_already_on_team": "c@x.com"},
            {".tag": "success", "profile": success_b},
            {".tag": "team_license_limit", "team_license_limit": "a@x.com"},
        ]))
        .unwrap();
        let outcome = invite_results(&asked, &results);
        assert_eq!(
            outcome[0].as_ref().unwrap_err().code.as_deref(),
            Some("team_license_limit")
        );
        assert!(outcome[1].is_ok());
        assert_eq!(
            outcome[2].as_ref().unwrap_err().code.as_deref(),
            Some("user_already_on_team")
        );
        // Fewer results than people: the one left over is an error, never a silent success.
        let outcome = invite_results(&asked, &results[..2]);
        assert_eq!(
            outcome[0].as_ref().unwrap_err().code.as_deref(),
            Some("missing_result")
        );
    }

    #[test]
    fn add_launch_and_job_status_decode() {
        let launched: MembersAddStatus =
            serde_json::from_value(json!({".tag": "async_job_id", "async_job_id": "dbjid:1"}))
                .unwrap();
        assert_eq!(launched, MembersAddStatus::AsyncJobId("dbjid:1".into()));
        let done: MembersAddStatus =
            serde_json::from_value(json!({".tag": "complete", "complete": [
            {".tag": "user_on_another_team", "user_on_another_team": "a@x.com"}]}))
            .unwrap();
        assert!(matches!(done, MembersAddStatus::Complete(ref r) if r.len() == 1));
        assert_eq!(
            serde_json::from_value::<MembersAddStatus>(json!({".tag": "in_progress"})).unwrap(),
            MembersAddStatus::InProgress
        );
        assert_eq!(
            serde_json::from_value::<MembersAddStatus>(json!("in_progress")).unwrap(),
            MembersAddStatus::InProgress
        );
        assert_eq!(
            serde_json::from_value::<MembersAddStatus>(json!({".tag": "failed", "failed": "boom"}))
                .unwrap(),
            MembersAddStatus::Failed("boom".into())
        );
        assert_eq!(
            serde_json::from_value::<EmptyJobStatus>(json!({".tag": "complete"})).unwrap(),
            EmptyJobStatus::Complete
        );
        assert_eq!(
            serde_json::from_value::<EmptyJobStatus>(json!("in_progress")).unwrap(),
            EmptyJobStatus::InProgress
        );
        assert_eq!(
            serde_json::from_value::<EmptyJobStatus>(
                json!({".tag": "async_job_id", "async_job_id": "j"})
            )
            .unwrap(),
            EmptyJobStatus::AsyncJobId("j".into())
        );
        assert!(serde_json::from_value::<EmptyJobStatus>(json!({".tag": "nope"})).is_err());
    }

    #[test]
    fn get_info_items_decode() {
        let result: MembersGetInfoV2Result = serde_json::from_value(json!({"members_info": [
            {".tag": "member_info", "profile": profile_json(json!("suspended")), "roles": [role("pid_dbtmr:2345", "Team admin")]},
            {".tag": "id_not_found", "id_not_found": "nobody@x.com"}
        ]}))
        .unwrap();
        let MembersGetInfoItemV2::MemberInfo(info) = &result.members_info[0] else {
            panic!("member_info expected")
        };
        assert_eq!(team_member(info).unwrap().status, MemberStatus::Suspended);
        assert!(team_member(info).unwrap().is_admin);
        assert_eq!(
            result.members_info[1],
            MembersGetInfoItemV2::IdNotFound("nobody@x.com".into())
        );
    }

    fn classify(
        status: u16,
        content_type: Option<&str>,
        header: Option<&str>,
        body: &str,
    ) -> StoreError {
        StoreError::from(classify_response(
            "team/route",
            status,
            content_type,
            header,
            body.as_bytes(),
        ))
    }

    #[test]
    fn route_errors_keep_their_tag() {
        let body = r#"{"error_summary":"user_not_found/..","error":{".tag":"user_not_found"}}"#;
        let error = classify(409, Some("application/json"), None, body);
        assert_eq!(
            (error.kind, error.code.as_deref()),
            (ErrorKind::NotFound, Some("user_not_found"))
        );
        let body = r#"{"error_summary":"group_name_already_used/.","error":{".tag":"group_name_already_used"},"user_message":{"locale":"en","text":"x"}}"#;
        let error = classify(409, Some("application/json"), None, body);
        assert_eq!(
            (error.kind, error.code.as_deref()),
            (ErrorKind::Conflict, Some("group_name_already_used"))
        );
        let body = r#"{"error_summary":"members_not_in_team/","error":{".tag":"members_not_in_team","members_not_in_team":["a@x.com"]}}"#;
        assert_eq!(
            classify(409, Some("application/json"), None, body).kind,
            ErrorKind::NotFound
        );
        let body = r#"{"error_summary":"no_new_data_specified/","error":"no_new_data_specified"}"#;
        let error = classify(409, Some("application/json"), None, body);
        assert_eq!(
            (error.kind, error.code.as_deref()),
            (ErrorKind::Permanent, Some("no_new_data_specified"))
        );
        for (tag, kind) in [
            ("suspend_inactive_user", ErrorKind::Conflict),
            ("team_license_limit", ErrorKind::Conflict),
            ("group_not_found", ErrorKind::NotFound),
            ("internal_error", ErrorKind::Transient),
            ("other", ErrorKind::Permanent),
        ] {
            assert_eq!(route_error_kind(tag), kind, "{tag}");
        }
    }

    #[test]
    fn rate_limits_take_the_delay_from_json_or_header() {
        let json_body = r#"{"error_summary":"too_many_requests/..","error":{"reason":{".tag":"too_many_requests"},"retry_after":3}}"#;
        let error = classify(429, Some("application/json"), Some("9"), json_body);
        assert_eq!(
            error.kind,
            ErrorKind::RateLimited {
                retry_after_ms: Some(3000)
            }
        );
        let error = classify(
            429,
            Some("text/plain; charset=utf-8"),
            Some("2"),
            "too_many_requests",
        );
        assert_eq!(
            error.kind,
            ErrorKind::RateLimited {
                retry_after_ms: Some(2000)
            }
        );
        let error = classify(429, Some("text/plain"), Some("0.25"), "");
        assert_eq!(
            error.kind,
            ErrorKind::RateLimited {
                retry_after_ms: Some(250)
            }
        );
        let error = classify(429, Some("text/plain"), None, "slow down");
        assert_eq!(
            error.kind,
            ErrorKind::RateLimited {
                retry_after_ms: None
            }
        );
        assert!(error.kind.is_retryable());
    }

    #[test]
    fn other_statuses_classify() {
        let expired = classify(
            401,
            Some("application/json"),
            None,
            r#"{"error_summary":"expired_access_token/..","error":{".tag":"expired_access_token"}}"#,
        );
        assert_eq!(
            (expired.kind, expired.code.as_deref()),
            (ErrorKind::Auth, Some("expired_access_token"))
        );
        let scope = classify(
            400,
            Some("text/plain; charset=utf-8"),
            None,
            r#"Error in call to API function "team/members/list": Your app (ID: 1) is not permitted to access this endpoint because it does not have the required scope 'members.read'."#,
        );
        assert_eq!(scope.kind, ErrorKind::Auth);
        assert_eq!(
            classify(
                400,
                Some("text/plain"),
                None,
                "Error in call to API function: bad JSON"
            )
            .kind,
            ErrorKind::Permanent
        );
        assert_eq!(
            classify(
                400,
                Some("application/json"),
                None,
                r#"{"error":"invalid_grant","error_description":"refresh token is malformed"}"#
            )
            .kind,
            ErrorKind::Auth
        );
        assert_eq!(
            classify(
                403,
                Some("application/json"),
                None,
                r#"{"error":{".tag":"team_access_denied"}}"#
            )
            .kind,
            ErrorKind::Auth
        );
        assert_eq!(classify(500, None, None, "").kind, ErrorKind::Transient);
        assert_eq!(
            classify(503, None, None, "maintenance").kind,
            ErrorKind::Transient
        );
        assert_eq!(
            classify(404, None, None, "no such route").kind,
            ErrorKind::Permanent
        );
        assert_eq!(classify(302, None, None, "").kind, ErrorKind::Permanent);
        assert_eq!(
            classify(409, Some("text/plain"), None, "not json").kind,
            ErrorKind::Permanent
        );
    }

    #[test]
    fn long_bodies_are_cut_in_errors() {
        let error = classify(500, None, None, &"é".repeat(2000));
        assert!(
            error.message.chars().count() < 400,
            "{}",
            error.message.len()
        );
        let _ = SourceId::new("unused").unwrap();
    }
}
