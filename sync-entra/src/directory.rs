//! [`EntraDirectory`]: one snapshot = all users (paged, `$top=999`), all groups, the roots
//! resolved, direct members of every group reachable from them (nesting kept for the core),
//! the enterprise app's assignments, and soft-deleted users as tombstones.

use std::collections::{BTreeSet, HashMap, HashSet};

use async_trait::async_trait;
use futures::StreamExt as _;
use serde_json::Value;
use teamsync_core::{
    DesiredState, Directory, DirectoryError, DirectoryErrorKind, DirectoryGroup, ReadOptions,
    ReadReporter, ReadStage, SourceId, SourceIssue,
};

use crate::auth::token_roles;
use crate::config::EntraConfig;
use crate::graph::{Failure, Graph, Refusal};
use crate::map::{self, MappedUser, UserRules, printable};

/// Member listings read at once.
const MEMBER_CONCURRENCY: usize = 4;

/// The permission each read needs, for messages and [`EntraDirectory::check`].
const USERS_PERMISSION: &str = "User.Read.All";
const GROUPS_PERMISSION: &str = "GroupMember.Read.All";
const APP_PERMISSION: &str = "Application.Read.All";

/// A [`Directory`] over Microsoft Entra ID, read through Microsoft Graph v1.0 with an
/// app-only token.
#[derive(Debug)]
pub struct EntraDirectory {
    config: EntraConfig,
    graph: Graph,
}

/// What [`EntraDirectory::check`] found the app may read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessReport {
    /// The application permissions in the token's `roles` claim, when it is readable.
    pub roles: Option<Vec<String>>,
    /// Permissions a snapshot needs that Graph refused, by name (`User.Read.All`,
    /// `GroupMember.Read.All`, `Application.Read.All`).
    pub missing: Vec<&'static str>,
}

fn failure(what: &str, permission: &str, f: Failure) -> DirectoryError {
    match f {
        Failure::Directory(e) => e,
        Failure::Refused(r) => refused(what, permission, &r),
    }
}

fn refused(what: &str, permission: &str, r: &Refusal) -> DirectoryError {
    match r.status {
        401 => DirectoryError::new(
            DirectoryErrorKind::Bind,
            format!(
                "Graph refused the access token reading {what} ({}: {})",
                r.code, r.message
            ),
        ),
        403 => DirectoryError::new(
            DirectoryErrorKind::Bind,
            format!(
                "the app may not read {what}: grant it the {permission} application permission (with admin consent) — Graph said {}: {}",
                r.code, r.message
            ),
        ),
        404 => DirectoryError::new(
            DirectoryErrorKind::RootNotFound,
            format!("{what} does not exist ({}: {})", r.code, r.message),
        ),
        _ => DirectoryError::new(
            DirectoryErrorKind::Incomplete,
            format!(
                "reading {what}: Graph answered {} {}: {}",
                r.status, r.code, r.message
            ),
        ),
    }
}

/// Object ids are GUIDs; anything else in a path would change the request.
fn path_safe(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

impl EntraDirectory {
    /// A directory with these settings. Fails on settings that can never work (URLs, empty
    /// ids, an unreadable certificate, no scope); Entra is not contacted until a read.
    pub fn new(config: EntraConfig) -> Result<Self, DirectoryError> {
        if config.root_groups.iter().all(|r| r.trim().is_empty()) && config.app_id.is_none() {
            return Err(DirectoryError::new(
                DirectoryErrorKind::Config,
                "no root_groups and no app_id: nothing is in scope",
            ));
        }
        if let Some(app) = &config.app_id {
            if !path_safe(app.trim()) {
                return Err(DirectoryError::new(
                    DirectoryErrorKind::Config,
                    format!(
                        "app_id {} must be the service principal's object id (a GUID)",
                        teamsync_core::text::quoted(app)
                    ),
                ));
            }
        }
        let graph = Graph::new(&config)?;
        Ok(Self { config, graph })
    }

    /// The settings.
    pub fn config(&self) -> &EntraConfig {
        &self.config
    }

    /// Graph requests sent so far by this directory (retries included).
    pub fn requests_sent(&self) -> u64 {
        self.graph
            .requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}/v1.0/{path_and_query}", self.graph.graph_url)
    }

    /// Gets a token and probes each read a snapshot makes with one small request, naming the
    /// permissions Graph refuses. Token errors (`invalid_client`, unknown app) are errors.
    pub async fn check(&self) -> Result<AccessReport, DirectoryError> {
        let token = self.graph.access_token(true).await?;
        let mut probes = vec![
            ("users?$select=id&$top=1".to_owned(), USERS_PERMISSION),
            ("groups?$select=id&$top=1".to_owned(), GROUPS_PERMISSION),
        ];
        if let Some(app) = &self.config.app_id {
            probes.push((
                format!("servicePrincipals/{}/appRoleAssignedTo?$top=1", app.trim()),
                APP_PERMISSION,
            ));
        }
        let mut missing = Vec::new();
        for (path, permission) in probes {
            match self.graph.get(&self.url(&path), &[]).await {
                Ok(_) => {}
                Err(Failure::Refused(r)) if r.status == 403 => missing.push(permission),
                Err(Failure::Refused(r)) if r.status == 404 => {}
                Err(f) => return Err(failure(&path, permission, f)),
            }
        }
        Ok(AccessReport {
            roles: token_roles(&token),
            missing,
        })
    }

    async fn read(&self, reporter: &ReadReporter) -> Result<DesiredState, DirectoryError> {
        self.graph.begin_read();
        let cfg = &self.config;
        let rules = UserRules {
            id: cfg.id,
            email: cfg.email,
            include_guests: cfg.include_guests,
        };

        // Users: every user of the tenant, mapped as they stream in.
        let mut users = Vec::new();
        let mut issues = Vec::new();
        let mut source_of: HashMap<String, SourceId> = HashMap::new();
        let mut seen_ids: HashSet<SourceId> = HashSet::new();
        let users_url = self.url(&format!("users?$select={}&$top=999", map::USER_SELECT));
        let mut users_listed = 0;
        self.graph
            .list_pages(
                &users_url,
                &[],
                |item| match map::map_user(&item, rules) {
                    MappedUser::User { object_id, user } => {
                        if !seen_ids.insert(user.id.clone()) {
                            issues.push(SourceIssue {
                                entry: user.locator.clone().unwrap_or_default(),
                                problem: format!("another user has the same id {}", user.id),
                                id: Some(user.id.clone()),
                                email: None,
                            });
                            return;
                        }
                        source_of.insert(object_id, user.id.clone());
                        users.push(user);
                    }
                    MappedUser::Excluded { object_id, id } => {
                        seen_ids.insert(id.clone());
                        source_of.insert(object_id, id);
                    }
                    MappedUser::Issue { object_id, issue } => {
                        if let (Some(oid), Some(id)) = (object_id, &issue.id) {
                            seen_ids.insert(id.clone());
                            source_of.insert(oid, id.clone());
                        }
                        issues.push(issue);
                    }
                },
                |page| {
                    users_listed += page;
                    reporter.counted(ReadStage::DirectoryUsers, users_listed, None);
                },
            )
            .await
            .map_err(|f| failure("users", USERS_PERMISSION, f))?;
        reporter.finished(ReadStage::DirectoryUsers, users_listed);

        // Groups: ids and names of all, to resolve roots by name and name the synced groups.
        let mut names: HashMap<String, String> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        let mut groups_listed = 0;
        self.graph
            .list_pages(
                &self.url("groups?$select=id,displayName&$top=999"),
                &[],
                |item| {
                    if let Some(id) = item
                        .get("id")
                        .and_then(Value::as_str)
                        .filter(|id| path_safe(id))
                    {
                        let name = item
                            .get("displayName")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        if names.insert(id.to_owned(), name.to_owned()).is_none() {
                            order.push(id.to_owned());
                        }
                    }
                },
                |page| {
                    groups_listed += page;
                    reporter.counted(ReadStage::DirectoryGroups, groups_listed, None);
                },
            )
            .await
            .map_err(|f| failure("groups", GROUPS_PERMISSION, f))?;
        reporter.finished(ReadStage::DirectoryGroups, groups_listed);

        let mut roots = Vec::new();
        for root in cfg
            .root_groups
            .iter()
            .map(|r| r.trim())
            .filter(|r| !r.is_empty())
        {
            roots.push(resolve_root(root, &names, &order)?);
        }

        // The enterprise app's assignments: a root of its own, named after the app.
        let mut app_root: Option<DirectoryGroup> = None;
        if let Some(app) = cfg.app_id.as_deref().map(str::trim) {
            let what = format!("service principal {app}");
            let sp = self
                .graph
                .get(
                    &self.url(&format!("servicePrincipals/{app}?$select=id,displayName")),
                    &[],
                )
                .await
                .map_err(|f| failure(&what, APP_PERMISSION, f))?;
            let name = sp
                .get("displayName")
                .and_then(Value::as_str)
                .map(|s| printable(s, 256))
                .unwrap_or_else(|| app.to_owned());
            let mut members = Vec::new();
            self.graph
                .list(
                    &self.url(&format!(
                        "servicePrincipals/{app}/appRoleAssignedTo?$top=999"
                    )),
                    &[],
                    |item| {
                        let kind = item
                            .get("principalType")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        if let Some(pid) = item.get("principalId").and_then(Value::as_str) {
                            if kind == "User" || kind == "Group" {
                                members.push(pid.to_owned());
                            }
                        }
                    },
                )
                .await
                .map_err(|f| failure(&format!("the assignments of {what}"), APP_PERMISSION, f))?;
            let id = SourceId::new(app).map_err(|e| {
                DirectoryError::new(DirectoryErrorKind::Config, format!("app_id: {e}"))
            })?;
            app_root = Some(DirectoryGroup {
                id,
                name,
                members: members
                    .into_iter()
                    .filter_map(|m| SourceId::new(m).ok())
                    .collect(),
                locator: Some(format!("servicePrincipals/{app}")),
            });
        }

        // Direct members of every group reachable from the roots, level by level.
        let mut frontier: Vec<String> = roots.clone();
        if let Some(app) = &app_root {
            frontier.extend(
                app.members
                    .iter()
                    .map(|m| m.as_str().to_owned())
                    .filter(|m| names.contains_key(m)),
            );
        }
        let mut visited: HashSet<String> = HashSet::new();
        let mut members_of: HashMap<String, Vec<(String, bool)>> = HashMap::new();
        frontier.retain(|g| visited.insert(g.clone()));
        let mut member_lists = 0;
        while !frontier.is_empty() {
            let results: Vec<_> = futures::stream::iter(frontier.drain(..).map(|g| async move {
                let mut members = Vec::new();
                let url = self.url(&format!("groups/{g}/members?$select=id&$top=999"));
                let listed = self
                    .graph
                    .list(&url, &[], |item| {
                        let kind = item
                            .get("@odata.type")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        if let Some(id) = item.get("id").and_then(Value::as_str) {
                            match kind {
                                "#microsoft.graph.user" => members.push((id.to_owned(), false)),
                                "#microsoft.graph.group" => members.push((id.to_owned(), true)),
                                _ => {} // devices, contacts, service principals: not people
                            }
                        }
                    })
                    .await;
                (g, listed, members)
            }))
            .buffer_unordered(MEMBER_CONCURRENCY)
            .collect()
            .await;
            for (g, listed, members) in results {
                listed.map_err(|f| {
                    failure(&format!("the members of group {g}"), GROUPS_PERMISSION, f)
                })?;
                member_lists += 1;
                reporter.counted(ReadStage::DirectoryGroupMembers, member_lists, None);
                for (id, is_group) in &members {
                    if *is_group && path_safe(id) && visited.insert(id.clone()) {
                        frontier.push(id.clone());
                    }
                }
                members_of.insert(g, members);
            }
        }

        reporter.finished(ReadStage::DirectoryGroupMembers, member_lists);

        // Soft-deleted users: tombstones.
        let mut deleted: BTreeSet<SourceId> = BTreeSet::new();
        let deleted_url = self.url("directory/deletedItems/microsoft.graph.user?$select=id,userPrincipalName,onPremisesImmutableId&$top=999");
        let mut deleted_listed = 0;
        self.graph
            .list_pages(
                &deleted_url,
                &[],
                |item| {
                    if let Ok(id) = map::user_source_id(&item, cfg.id) {
                        deleted.insert(id);
                    }
                },
                |page| {
                    deleted_listed += page;
                    reporter.counted(ReadStage::DirectoryDeleted, deleted_listed, None);
                },
            )
            .await
            .map_err(|f| failure("deleted users", USERS_PERMISSION, f))?;
        reporter.finished(ReadStage::DirectoryDeleted, deleted_listed);
        // Known ids the complete user listing no longer holds were hard-deleted.
        for known in &cfg.known_ids {
            if !seen_ids.contains(known) && !deleted.contains(known) {
                deleted.insert(known.clone());
            }
        }
        for id in &seen_ids {
            deleted.remove(id);
        }

        let mut groups: Vec<DirectoryGroup> = Vec::with_capacity(members_of.len() + 1);
        for id in order.iter().filter(|id| members_of.contains_key(*id)) {
            let Ok(group_id) = SourceId::new(id) else {
                continue;
            };
            let members = members_of[id]
                .iter()
                .filter_map(|(m, is_group)| {
                    if *is_group {
                        SourceId::new(m).ok()
                    } else {
                        source_of.get(m).cloned().or_else(|| SourceId::new(m).ok())
                    }
                })
                .collect();
            groups.push(DirectoryGroup {
                id: group_id,
                name: printable(&names[id], 256),
                members,
                locator: Some(format!("groups/{id}")),
            });
        }
        let mut user_roots: Vec<SourceId> =
            roots.iter().filter_map(|r| SourceId::new(r).ok()).collect();
        if let Some(mut app) = app_root {
            app.members = app
                .members
                .into_iter()
                .map(|m| source_of.get(m.as_str()).cloned().unwrap_or(m))
                .collect();
            user_roots.push(app.id.clone());
            groups.push(app);
        }
        user_roots.dedup();
        Ok(DesiredState {
            group_roots: user_roots.clone(),
            user_roots,
            users,
            groups,
            deleted: deleted.into_iter().collect(),
            issues,
        })
    }
}

/// A root named by object id, or by a display name exactly one group has.
fn resolve_root(
    root: &str,
    names: &HashMap<String, String>,
    order: &[String],
) -> Result<String, DirectoryError> {
    if names.contains_key(root) {
        return Ok(root.to_owned());
    }
    let matching: Vec<&String> = order
        .iter()
        .filter(|id| names[*id].eq_ignore_ascii_case(root))
        .collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(DirectoryError::new(
            DirectoryErrorKind::RootNotFound,
            format!(
                "no group has the object id or display name {}",
                teamsync_core::text::quoted(root)
            ),
        )),
        many => Err(DirectoryError::new(
            DirectoryErrorKind::Config,
            format!(
                "{} groups are named {} ({}); name the root group by its object id instead",
                many.len(),
                teamsync_core::text::quoted(root),
                many.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

#[async_trait]
impl Directory for EntraDirectory {
    async fn snapshot(&self) -> Result<DesiredState, DirectoryError> {
        self.read(&ReadReporter::silent()).await
    }

    async fn snapshot_with(&self, options: &ReadOptions) -> Result<DesiredState, DirectoryError> {
        self.read(&options.reporter()).await
    }
}
