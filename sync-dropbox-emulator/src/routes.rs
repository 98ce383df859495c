//! The team routes: argument parsing, the rule calls on [`Team`], and result shapes.
//! Everything here is synchronous and runs under the state lock.

use std::time::SystemTime;

use serde_json::{Value, json};

use crate::seed::{AccessType, ManagementType};
use crate::team::{JobKind, NewMember, ProfileChanges, RemoveOptions, Team};
use crate::wire::{self, Args, BadInput, Cursor, RouteError, tag_of};

/// The outcome of a route, before HTTP.
#[derive(Debug)]
pub(crate) enum Reply {
    /// 200 with this JSON (`null` for Void results).
    Ok(Value),
    /// 200 with this already-serialised JSON (large pages skip the `Value` tree).
    OkSerialized(String),
    /// 409 route error.
    Route(RouteError),
    /// 400 text: the argument did not validate.
    BadInput(String),
}

impl From<RouteError> for Reply {
    fn from(e: RouteError) -> Self {
        Reply::Route(e)
    }
}

impl From<BadInput> for Reply {
    fn from(e: BadInput) -> Self {
        Reply::BadInput(e.0)
    }
}

/// Most members one `members/add_v2` call may carry (route doc).
pub const MAX_MEMBERS_PER_ADD: usize = 20;

/// Route behaviour that comes from configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RouteSettings {
    pub(crate) async_add_threshold: usize,
    pub(crate) added_members_active: bool,
}

/// The scope each served route requires; `None` for routes the emulator does not serve.
pub(crate) fn required_scope(route: &str) -> Option<&'static str> {
    Some(match route {
        "team/get_info" => "team_info.read",
        "team/members/list_v2" | "team/members/list/continue_v2" | "team/members/get_info_v2" => {
            "members.read"
        }
        "team/members/add_v2"
        | "team/members/add/job_status/get_v2"
        | "team/members/set_profile_v2"
        | "team/members/suspend"
        | "team/members/unsuspend" => "members.write",
        "team/members/remove" | "team/members/remove/job_status/get" | "team/members/recover" => {
            "members.delete"
        }
        "team/groups/list"
        | "team/groups/list/continue"
        | "team/groups/get_info"
        | "team/groups/members/list"
        | "team/groups/members/list/continue"
        | "team/groups/job_status/get" => "groups.read",
        "team/groups/create"
        | "team/groups/update"
        | "team/groups/delete"
        | "team/groups/members/add"
        | "team/groups/members/remove" => "groups.write",
        _ => return None,
    })
}

type RouteResult = Result<Value, Reply>;

/// Runs one route against the team.
pub(crate) fn dispatch(
    team: &mut Team,
    settings: RouteSettings,
    route: &str,
    arg: &Value,
    now: SystemTime,
) -> Reply {
    let result = match route {
        "team/get_info" => get_info(team),
        "team/members/list_v2" => return members_list(team, arg).unwrap_or_else(|e| e),
        "team/members/list/continue_v2" => {
            return members_list_continue(team, arg).unwrap_or_else(|e| e);
        }
        "team/members/get_info_v2" => members_get_info(team, arg),
        "team/members/add_v2" => members_add(team, settings, arg, now),
        "team/members/add/job_status/get_v2" => poll(team, JobKind::MembersAdd, arg),
        "team/members/set_profile_v2" => members_set_profile(team, arg),
        "team/members/suspend" => members_suspend(team, arg, now),
        "team/members/unsuspend" => members_unsuspend(team, arg),
        "team/members/remove" => members_remove(team, arg),
        "team/members/remove/job_status/get" => poll(team, JobKind::MembersRemove, arg),
        "team/members/recover" => members_recover(team, arg, now),
        "team/groups/list" => groups_list(team, arg),
        "team/groups/list/continue" => groups_list_continue(team, arg),
        "team/groups/get_info" => groups_get_info(team, arg),
        "team/groups/create" => groups_create(team, arg, now),
        "team/groups/update" => groups_update(team, arg),
        "team/groups/delete" => groups_delete(team, arg),
        "team/groups/job_status/get" => poll(team, JobKind::Groups, arg),
        "team/groups/members/add" => groups_members_add(team, arg),
        "team/groups/members/remove" => groups_members_remove(team, arg),
        "team/groups/members/list" => groups_members_list(team, arg),
        "team/groups/members/list/continue" => groups_members_list_continue(team, arg),
        other => Err(Reply::BadInput(format!(
            "Unknown API function: \"{other}\""
        ))),
    };
    match result {
        Ok(v) => Reply::Ok(v),
        Err(reply) => reply,
    }
}

fn get_info(team: &Team) -> RouteResult {
    let provisioned = team.licensed_members();
    Ok(json!({
        "name": team.name,
        "team_id": team.team_id,
        "num_licensed_users": team.license_limit.unwrap_or(provisioned),
        "num_provisioned_users": provisioned,
        "num_used_licenses": provisioned,
        "policies": {
            "sharing": {
                "shared_folder_member_policy": {".tag": "team"},
                "shared_folder_join_policy": {".tag": "from_anyone"},
                "shared_link_create_policy": {".tag": "team_only"},
                "group_creation_policy": {".tag": "admins_only"},
                "shared_folder_link_restriction_policy": {".tag": "anyone"},
                "enforce_link_password_policy": {".tag": "optional"},
                "default_link_expiration_days_policy": {".tag": "none"},
                "shared_link_default_permissions_policy": {".tag": "default"},
            },
            "emm_state": {".tag": "disabled"},
            "office_addin": {".tag": "disabled"},
            "suggest_members_policy": {".tag": "enabled"},
            "top_level_content_policy": {".tag": "admin_only"},
        },
    }))
}

fn user_arg(arg: &Value) -> Result<wire::UserSelector, Reply> {
    let args = Args::new(arg)?;
    Ok(wire::user_selector(args.required("user")?)?)
}

#[derive(serde::Serialize)]
struct MembersPageView<'a> {
    members: Vec<crate::team::MemberInfoView<'a>>,
    cursor: String,
    has_more: bool,
}

/// `MembersListV2Result`, serialised straight from the team (no `Value` tree).
fn members_page(team: &Team, start: usize, limit: usize, include_removed: bool) -> Reply {
    let page = team.members_page(start, limit, include_removed);
    let view = MembersPageView {
        members: page
            .items
            .iter()
            .map(|&idx| team.member_info_view(None, idx))
            .collect(),
        cursor: team.members_cursor(page.next, include_removed, limit),
        has_more: page.has_more,
    };
    match serde_json::to_string(&view) {
        Ok(body) => Reply::OkSerialized(body),
        Err(e) => Reply::BadInput(format!("internal error rendering members: {e}")),
    }
}

fn members_list(team: &Team, arg: &Value) -> Result<Reply, Reply> {
    let args = Args::new(arg)?;
    let limit = args.u32_in("limit", 1, 1000, 1000)?;
    let include_removed = args.bool_or("include_removed", false)?;
    Ok(members_page(team, 0, limit as usize, include_removed))
}

/// Decodes a cursor of this team generation, or answers `invalid_cursor`.
fn cursor_arg(team: &Team, arg: &Value, kind: &'static str) -> Result<Cursor, Reply> {
    let args = Args::new(arg)?;
    let text = args.str("cursor")?;
    match Cursor::decode(text, kind) {
        Some(c) if c.generation == team.generation => Ok(c),
        _ => Err(RouteError::tag("invalid_cursor").into()),
    }
}

/// The largest `limit` of the list routes.
const MAX_PAGE: usize = 1000;

fn members_list_continue(team: &Team, arg: &Value) -> Result<Reply, Reply> {
    let c = cursor_arg(team, arg, "members")?;
    Ok(members_page(team, c.a as usize, page_size(c.c), c.b == 1))
}

/// The page size a cursor carries (the `limit` of the call that opened the listing).
fn page_size(stored: u64) -> usize {
    if stored == 0 {
        MAX_PAGE
    } else {
        stored.min(MAX_PAGE as u64) as usize
    }
}

fn members_get_info(team: &Team, arg: &Value) -> RouteResult {
    let args = Args::new(arg)?;
    let mut items = Vec::new();
    for sel in args.list("members")? {
        let sel = wire::user_selector(sel)?;
        items.push(match team.find_member(&sel) {
            Some(idx) => team.tagged_member_info_v2("member_info", idx),
            None => json!({".tag": "id_not_found", "id_not_found": sel.raw()}),
        });
    }
    Ok(json!({ "members_info": items }))
}

fn members_add(
    team: &mut Team,
    settings: RouteSettings,
    arg: &Value,
    now: SystemTime,
) -> RouteResult {
    let args = Args::new(arg)?;
    let new_members = args.list("new_members")?;
    if new_members.len() > MAX_MEMBERS_PER_ADD {
        return Err(Reply::BadInput(format!(
            "new_members: {} members given, at most {MAX_MEMBERS_PER_ADD} per call",
            new_members.len()
        )));
    }
    let force_async = args.bool_or("force_async", false)?;
    // Validate every member before changing anything: a bad argument fails the whole call.
    let mut parsed = Vec::with_capacity(new_members.len());
    for (i, m) in new_members.iter().enumerate() {
        let m = Args::new(m)?;
        let email = m.str("member_email")?;
        if !wire::is_valid_email(email) {
            return Err(Reply::BadInput(format!(
                "new_members[{i}].member_email: '{email}' is not a valid email address"
            )));
        }
        let given_name = m.opt_str("member_given_name")?.unwrap_or("");
        let surname = m.opt_str("member_surname")?.unwrap_or("");
        if !wire::is_valid_name_part(given_name) || !wire::is_valid_name_part(surname) {
            return Err(Reply::BadInput(format!(
                "new_members[{i}]: name part too long or has one of /:?*<>\"|"
            )));
        }
        let external_id = m.opt_str("member_external_id")?;
        if external_id.is_some_and(|e| e.chars().count() > 64) {
            return Err(Reply::BadInput(format!(
                "new_members[{i}].member_external_id: longer than 64"
            )));
        }
        if let Some(roles) = m.get("role_ids") {
            if roles.as_array().is_none_or(|r| r.len() > 1) {
                return Err(Reply::BadInput(format!(
                    "new_members[{i}].role_ids: at most 1 item"
                )));
            }
        }
        parsed.push(NewMember {
            email,
            given_name,
            surname,
            external_id,
            persistent_id: m.opt_str("member_persistent_id")?,
            is_directory_restricted: m.opt_bool("is_directory_restricted")?,
        });
    }
    let results: Vec<Value> = parsed
        .iter()
        .map(
            |new| match team.add_member(new, settings.added_members_active, now) {
                Ok(idx) => team.tagged_member_info_v2("success", idx),
                Err(tag) => json!({".tag": tag, tag: new.email}),
            },
        )
        .collect();
    let complete = json!({".tag": "complete", "complete": results});
    if force_async || parsed.len() > settings.async_add_threshold {
        let id = team.launch_job(JobKind::MembersAdd, complete);
        Ok(json!({".tag": "async_job_id", "async_job_id": id}))
    } else {
        Ok(complete)
    }
}

fn poll(team: &mut Team, kind: JobKind, arg: &Value) -> RouteResult {
    let args = Args::new(arg)?;
    let id = args.str("async_job_id")?;
    Ok(team.poll_job(kind, id)?)
}

fn members_set_profile(team: &mut Team, arg: &Value) -> RouteResult {
    let args = Args::new(arg)?;
    let user = wire::user_selector(args.required("user")?)?;
    let changes = ProfileChanges {
        new_email: args.opt_str("new_email")?,
        new_external_id: args.opt_str("new_external_id")?,
        new_given_name: args.opt_str("new_given_name")?,
        new_surname: args.opt_str("new_surname")?,
        new_persistent_id: args.opt_str("new_persistent_id")?,
        new_is_directory_restricted: args.opt_bool("new_is_directory_restricted")?,
    };
    if let Some(email) = changes.new_email.filter(|e| !e.is_empty()) {
        if !wire::is_valid_email(email) {
            return Err(Reply::BadInput(format!(
                "new_email: '{email}' is not a valid email address"
            )));
        }
    }
    for part in [changes.new_given_name, changes.new_surname]
        .into_iter()
        .flatten()
    {
        if !wire::is_valid_name_part(part) {
            return Err(Reply::BadInput(
                "new_given_name/new_surname: too long or has one of /:?*<>\"|".into(),
            ));
        }
    }
    if changes
        .new_external_id
        .is_some_and(|e| e.chars().count() > 64)
    {
        return Err(Reply::BadInput("new_external_id: longer than 64".into()));
    }
    let idx = team.set_profile(&user, &changes)?;
    Ok(json!({ "member_info": team.member_info_v2(idx) }))
}

fn members_suspend(team: &mut Team, arg: &Value, now: SystemTime) -> RouteResult {
    let args = Args::new(arg)?;
    let user = wire::user_selector(args.required("user")?)?;
    args.bool_or("wipe_data", true)?;
    team.suspend(&user, now)?;
    Ok(Value::Null)
}

fn members_unsuspend(team: &mut Team, arg: &Value) -> RouteResult {
    let user = user_arg(arg)?;
    team.unsuspend(&user)?;
    Ok(Value::Null)
}

fn members_remove(team: &mut Team, arg: &Value) -> RouteResult {
    let args = Args::new(arg)?;
    let user = wire::user_selector(args.required("user")?)?;
    let opt_selector = |name: &str| -> Result<Option<wire::UserSelector>, Reply> {
        match args.get(name) {
            None => Ok(None),
            Some(v) => Ok(Some(wire::user_selector(v)?)),
        }
    };
    let opts = RemoveOptions {
        wipe_data: args.bool_or("wipe_data", true)?,
        transfer_dest: opt_selector("transfer_dest_id")?,
        transfer_admin: opt_selector("transfer_admin_id")?,
        keep_account: args.bool_or("keep_account", false)?,
        retain_team_shares: args.bool_or("retain_team_shares", false)?,
        permanently_delete_files: args.bool_or("permanently_delete_files", false)?,
    };
    team.remove(&user, &opts)?;
    // Removal transfers or wipes data in the background at Dropbox: always a job.
    let id = team.launch_job(JobKind::MembersRemove, json!({".tag": "complete"}));
    Ok(json!({".tag": "async_job_id", "async_job_id": id}))
}

fn members_recover(team: &mut Team, arg: &Value, now: SystemTime) -> RouteResult {
    let user = user_arg(arg)?;
    team.recover(&user, now)?;
    Ok(Value::Null)
}

fn groups_page_json(team: &Team, start: usize, limit: usize) -> Value {
    let page = team.groups_page(start, limit);
    let groups: Vec<Value> = page.items.iter().map(|&g| team.group_summary(g)).collect();
    json!({"groups": groups, "cursor": team.groups_cursor(page.next, limit), "has_more": page.has_more})
}

fn groups_list(team: &Team, arg: &Value) -> RouteResult {
    let args = Args::new(arg)?;
    let limit = args.u32_in("limit", 1, 1000, 1000)?;
    Ok(groups_page_json(team, 0, limit as usize))
}

fn groups_list_continue(team: &Team, arg: &Value) -> RouteResult {
    let c = cursor_arg(team, arg, "groups")?;
    Ok(groups_page_json(team, c.a as usize, page_size(c.b)))
}

fn groups_get_info(team: &Team, arg: &Value) -> RouteResult {
    let (tag, ids) = match tag_of(arg) {
        Some(tag @ ("group_ids" | "group_external_ids")) => {
            match arg.get(tag).and_then(Value::as_array) {
                Some(ids) => (tag, ids),
                None => return Err(Reply::BadInput(format!("'{tag}' must carry a list"))),
            }
        }
        _ => {
            return Err(Reply::BadInput(
                "GroupsSelector: expected group_ids or group_external_ids".into(),
            ));
        }
    };
    let mut items = Vec::new();
    for id in ids {
        let Some(id) = id.as_str() else {
            return Err(Reply::BadInput(format!("{tag}: expected strings")));
        };
        let sel = if tag == "group_ids" {
            wire::GroupSelector::GroupId(id.to_owned())
        } else {
            wire::GroupSelector::ExternalId(id.to_owned())
        };
        items.push(match team.find_group(&sel) {
            Ok(g) => {
                let system = team.groups[g].management_type == ManagementType::SystemManaged;
                let mut info = team.group_full_info(g, !system);
                if let Some(obj) = info.as_object_mut() {
                    obj.insert(".tag".into(), json!("group_info"));
                }
                info
            }
            Err(_) => json!({".tag": "id_not_found", "id_not_found": id}),
        });
    }
    Ok(Value::Array(items))
}

fn management_type_arg(args: &Args<'_>, name: &str) -> Result<Option<ManagementType>, Reply> {
    match args.get(name) {
        None => Ok(None),
        Some(v) => match tag_of(v).and_then(ManagementType::from_tag) {
            Some(mt) => Ok(Some(mt)),
            None => Err(Reply::BadInput(format!(
                "{name}: unknown GroupManagementType"
            ))),
        },
    }
}

fn groups_create(team: &mut Team, arg: &Value, now: SystemTime) -> RouteResult {
    let args = Args::new(arg)?;
    let name = args.str("group_name")?;
    // add_creator_as_owner: a team token has no acting admin to add, so it is accepted and ignored.
    args.bool_or("add_creator_as_owner", false)?;
    let external_id = args.opt_str("group_external_id")?;
    let management_type = management_type_arg(&args, "group_management_type")?;
    let gidx = team.create_group(name, external_id, management_type, now)?;
    Ok(team.group_full_info(gidx, true))
}

fn groups_update(team: &mut Team, arg: &Value) -> RouteResult {
    let args = Args::new(arg)?;
    let group = wire::group_selector(args.required("group")?)?;
    let return_members = args.bool_or("return_members", true)?;
    let new_name = args.opt_str("new_group_name")?;
    let new_external_id = args.opt_str("new_group_external_id")?;
    let new_management_type = management_type_arg(&args, "new_group_management_type")?;
    let gidx = team.update_group(&group, new_name, new_external_id, new_management_type)?;
    Ok(team.group_full_info(gidx, return_members))
}

fn groups_delete(team: &mut Team, arg: &Value) -> RouteResult {
    let group = wire::group_selector(arg)?;
    team.delete_group(&group)?;
    let id = team.launch_job(JobKind::Groups, json!({".tag": "complete"}));
    Ok(json!({".tag": "async_job_id", "async_job_id": id}))
}

/// `GroupMembersChangeResult`: the deprecated but required `async_job_id` is one space.
fn members_change_result(team: &Team, gidx: usize, return_members: bool) -> Value {
    json!({"group_info": team.group_full_info(gidx, return_members), "async_job_id": " "})
}

fn groups_members_add(team: &mut Team, arg: &Value) -> RouteResult {
    let args = Args::new(arg)?;
    let group = wire::group_selector(args.required("group")?)?;
    let return_members = args.bool_or("return_members", true)?;
    let mut members = Vec::new();
    for m in args.list("members")? {
        let m = Args::new(m)?;
        let user = wire::user_selector(m.required("user")?)?;
        let access = match m.get("access_type") {
            None => {
                return Err(Reply::BadInput(
                    "members: missing required field 'access_type'".into(),
                ));
            }
            Some(v) => tag_of(v)
                .and_then(AccessType::from_tag)
                .ok_or_else(|| Reply::BadInput("access_type: expected member or owner".into()))?,
        };
        members.push((user, access));
    }
    let gidx = team.add_group_members(&group, &members)?;
    Ok(members_change_result(team, gidx, return_members))
}

fn groups_members_remove(team: &mut Team, arg: &Value) -> RouteResult {
    let args = Args::new(arg)?;
    let group = wire::group_selector(args.required("group")?)?;
    let return_members = args.bool_or("return_members", true)?;
    let users = args
        .list("users")?
        .iter()
        .map(wire::user_selector)
        .collect::<Result<Vec<_>, _>>()?;
    let gidx = team.remove_group_members(&group, &users)?;
    Ok(members_change_result(team, gidx, return_members))
}

fn group_members_page_json(team: &Team, gidx: usize, start: usize, limit: usize) -> Value {
    let page = team.group_members_page(gidx, start, limit);
    let members: Vec<Value> = page
        .items
        .iter()
        .map(|&idx| team.group_member_info(gidx, idx))
        .collect();
    json!({"members": members, "cursor": team.group_members_cursor(gidx, page.next, limit), "has_more": page.has_more})
}

fn groups_members_list(team: &Team, arg: &Value) -> RouteResult {
    let args = Args::new(arg)?;
    let group = wire::group_selector(args.required("group")?)?;
    let limit = args.u32_in("limit", 1, 1000, 1000)?;
    let gidx = team.find_group(&group)?;
    Ok(group_members_page_json(team, gidx, 0, limit as usize))
}

fn groups_members_list_continue(team: &Team, arg: &Value) -> RouteResult {
    let c = cursor_arg(team, arg, "group_members")?;
    let gidx = c.a as usize;
    if team.groups.get(gidx).is_none_or(|g| g.deleted) {
        return Err(RouteError::tag("invalid_cursor").into());
    }
    Ok(group_members_page_json(
        team,
        gidx,
        c.b as usize,
        page_size(c.c),
    ))
}
