//! Every knob of the sync rules, with the defaults of DESIGN §3.

use serde::{Deserialize, Serialize};

use crate::model::MemberRef;
use crate::rules::Rules;

/// What happens to a managed member who should no longer be on the team.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, crate::docs::Documented,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LeaveAction {
    /// Suspend (keeps the seat and the data; reversible).
    Suspend,
    /// Remove from the team (recoverable for a few days).
    Remove,
}

/// What happens to a pending invitation when its person should not be on the team.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, crate::docs::Documented,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InvitedDeprovision {
    /// Withdraw the invitation (Dropbox cannot suspend an invited member).
    RemoveInvitation,
    /// Leave the invitation pending.
    Leave,
}

/// Which directory groups become Dropbox groups.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, crate::docs::Documented,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GroupSync {
    /// No group sync; managed groups are treated as having left scope.
    Off,
    /// Groups reachable from the user root(s).
    UserRoots,
    /// Groups reachable from `DesiredState::group_roots`.
    GroupRoots,
}

/// What happens to a managed group that left scope, was deleted, or when group sync is off.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, crate::docs::Documented,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GroupLeave {
    /// Remove its managed members, keep the group (the AD Connector's rule).
    Empty,
    /// Delete the group.
    Delete,
    /// Leave it as it is.
    Keep,
}

/// What happens to a removed member's files.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, crate::docs::Documented)]
#[serde(tag = "mode", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RemovalTransfer {
    /// Files stay with the removed account.
    None,
    /// Files go to `dest`; `admin` receives transfer errors.
    Transfer {
        /// Receives the files.
        dest: MemberRef,
        /// Receives transfer errors.
        admin: MemberRef,
    },
    /// The account becomes a Basic account that keeps its files (forces `wipe_data = false`).
    KeepAccount,
}

/// A limit that is the larger of a fixed count and a share of a total.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, crate::docs::Documented)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// Always allowed, whatever the total.
    pub floor: usize,
    /// Allowed share of the total, in percent.
    pub percent: f64,
}

impl Limit {
    /// A limit of `max(floor, ceil(total * percent / 100))`.
    pub fn new(floor: usize, percent: f64) -> Self {
        Self { floor, percent }
    }

    /// The number allowed out of `total`: `max(floor, ceil(total * percent / 100))`.
    pub fn allowed(&self, total: usize) -> usize {
        let share = (total as f64 * self.percent / 100.0).ceil();
        let share = if share.is_finite() && share > 0.0 {
            share as usize
        } else {
            0
        };
        share.max(self.floor)
    }
}

/// The sync rules. `Policy::default()` is DESIGN §3's defaults.
///
/// The struct is `#[non_exhaustive]`: new knobs arrive with a default that keeps today's
/// behaviour, so build one from [`Policy::default()`] and change what you need with the
/// chainable `with_*` setters (one per field), or assign the public fields of a `mut` value.
///
/// ```
/// use teamsync_core::{GroupSync, LeaveAction, Limit, Policy};
///
/// let policy = Policy::default()
///     .with_on_leave(LeaveAction::Remove)
///     .with_group_sync(GroupSync::GroupRoots)
///     .with_max_deprovision(Limit::new(10, 5.0));
/// assert_eq!(policy.on_leave, LeaveAction::Remove);
/// assert!(policy.wipe_data); // untouched knobs keep their defaults
///
/// let mut same = Policy::default();
/// same.on_leave = LeaveAction::Remove;
/// same.group_sync = GroupSync::GroupRoots;
/// same.max_deprovision = Limit::new(10, 5.0);
/// assert_eq!(policy, same);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, crate::docs::Documented)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Policy {
    /// Prefix of the external id that marks a member or group as teamsync's. Default
    /// `"teamsync:"`; may not be empty and must leave room in Dropbox's 64 characters.
    pub external_id_prefix: String,
    /// Adopt a member with no external id whose email matches an in-scope user. Default `true`.
    pub manage_existing_users: bool,
    /// Adopt a member whose external id belongs to another tool when its email matches.
    /// Default `false`.
    pub adopt_foreign: bool,
    /// Take over an unmanaged Dropbox group that has a synced group's name. Default `false`.
    pub adopt_existing_groups: bool,
    /// Which groups are synced. Default `"user_roots"`.
    pub group_sync: GroupSync,
    /// A synced group with members outside user scope fails to sync (the AD Connector's rule)
    /// instead of syncing its in-scope members. Default `false`.
    pub strict_group_scope: bool,
    /// A member who left user scope. Default `"suspend"`.
    pub on_leave: LeaveAction,
    /// A member whose directory entry was deleted. Default `"suspend"`.
    pub on_delete: LeaveAction,
    /// An invited member who should not be on the team. Default `"remove_invitation"`.
    pub on_invited_deprovision: InvitedDeprovision,
    /// Wipe devices on suspend and remove. Default `true`.
    pub wipe_data: bool,
    /// Files of removed members. Default `{ mode = "none" }`.
    pub transfer: RemovalTransfer,
    /// Team admins may be suspended or removed. Default `false`.
    pub deprovision_admins: bool,
    /// A managed group that left scope. Default `"empty"`.
    pub on_group_leave: GroupLeave,
    /// Most suspensions and removals a plan may hold without permission, out of the managed
    /// members. Default 25 or 10 %, whichever is larger.
    pub max_deprovision: Limit,
    /// Most group member removals a plan may hold without permission, out of the managed
    /// group memberships. Default 25 or 10 %, whichever is larger.
    pub max_group_member_removals: Limit,
    /// Ask Dropbox to send its welcome email to invited people. Default `true`.
    pub send_welcome_email: bool,
    /// Scope, group, mapping and matching rules as expressions ([`crate::rules`]); none by
    /// default. Compiled when the policy is deserialized.
    #[serde(skip_serializing_if = "Rules::is_empty")]
    pub rules: Rules,
}

/// One chainable setter per field: `with_<field>(value)` returns the policy with that field
/// set, so code outside the crate can build a `#[non_exhaustive]` value.
macro_rules! setters {
    ($($field:ident: $ty:ty => $setter:ident),* $(,)?) => {
        $(
            #[doc = concat!("Sets [`", stringify!($field), "`](Self::", stringify!($field), ").")]
            #[must_use]
            pub fn $setter(mut self, value: $ty) -> Self {
                self.$field = value;
                self
            }
        )*
    };
}

impl Policy {
    /// Sets [`external_id_prefix`](Self::external_id_prefix).
    #[must_use]
    pub fn with_external_id_prefix(mut self, value: impl Into<String>) -> Self {
        self.external_id_prefix = value.into();
        self
    }

    setters! {
        manage_existing_users: bool => with_manage_existing_users,
        adopt_foreign: bool => with_adopt_foreign,
        adopt_existing_groups: bool => with_adopt_existing_groups,
        group_sync: GroupSync => with_group_sync,
        strict_group_scope: bool => with_strict_group_scope,
        on_leave: LeaveAction => with_on_leave,
        on_delete: LeaveAction => with_on_delete,
        on_invited_deprovision: InvitedDeprovision => with_on_invited_deprovision,
        wipe_data: bool => with_wipe_data,
        transfer: RemovalTransfer => with_transfer,
        deprovision_admins: bool => with_deprovision_admins,
        on_group_leave: GroupLeave => with_on_group_leave,
        max_deprovision: Limit => with_max_deprovision,
        max_group_member_removals: Limit => with_max_group_member_removals,
        send_welcome_email: bool => with_send_welcome_email,
        rules: Rules => with_rules,
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            external_id_prefix: "teamsync:".to_owned(),
            manage_existing_users: true,
            adopt_foreign: false,
            adopt_existing_groups: false,
            group_sync: GroupSync::UserRoots,
            strict_group_scope: false,
            on_leave: LeaveAction::Suspend,
            on_delete: LeaveAction::Suspend,
            on_invited_deprovision: InvitedDeprovision::RemoveInvitation,
            wipe_data: true,
            transfer: RemovalTransfer::None,
            deprovision_admins: false,
            on_group_leave: GroupLeave::Empty,
            max_deprovision: Limit {
                floor: 25,
                percent: 10.0,
            },
            max_group_member_removals: Limit {
                floor: 25,
                percent: 10.0,
            },
            send_welcome_email: true,
            rules: Rules::default(),
        }
    }
}

/// Why a policy cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The prefix leaves no room for an id in Dropbox's 64-character external id.
    #[error("external_id_prefix {} is too long: Dropbox external ids hold 64 characters", crate::text::quoted(.0))]
    PrefixTooLong(String),
    /// The prefix is empty, so every external id would look like ours.
    #[error("external_id_prefix may not be empty")]
    EmptyPrefix,
    /// A limit's percentage is not a number between 0 and 100.
    #[error("{0}.percent must be between 0 and 100")]
    BadPercent(&'static str),
}

impl Policy {
    /// Checks the knobs that can be wrong on their own.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.external_id_prefix.is_empty() {
            return Err(PolicyError::EmptyPrefix);
        }
        if self.external_id_prefix.chars().count() >= 64 {
            return Err(PolicyError::PrefixTooLong(self.external_id_prefix.clone()));
        }
        for (name, limit) in [
            ("max_deprovision", self.max_deprovision),
            ("max_group_member_removals", self.max_group_member_removals),
        ] {
            if !(0.0..=100.0).contains(&limit.percent) {
                return Err(PolicyError::BadPercent(name));
            }
        }
        Ok(())
    }

    /// Wipe flag for a removal: keeping the account needs `wipe_data = false`.
    pub(crate) fn remove_wipes(&self) -> bool {
        self.wipe_data && !matches!(self.transfer, RemovalTransfer::KeepAccount)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    #[test]
    fn limit_is_floor_or_share() {
        let l = Limit {
            floor: 25,
            percent: 10.0,
        };
        assert_eq!(l.allowed(0), 25);
        assert_eq!(l.allowed(100), 25);
        assert_eq!(l.allowed(251), 26);
        assert_eq!(l.allowed(10_000), 1000);
    }

    #[test]
    fn defaults_are_design_defaults() {
        let p = Policy::default();
        assert_eq!(p.external_id_prefix, "teamsync:");
        assert!(p.manage_existing_users && !p.adopt_foreign && !p.adopt_existing_groups);
        assert_eq!(p.on_leave, LeaveAction::Suspend);
        assert_eq!(p.on_delete, LeaveAction::Suspend);
        assert_eq!(
            p.on_invited_deprovision,
            InvitedDeprovision::RemoveInvitation
        );
        assert!(p.wipe_data && !p.deprovision_admins);
        assert_eq!(p.on_group_leave, GroupLeave::Empty);
        p.validate().unwrap();
    }

    #[test]
    fn partial_policy_json_keeps_defaults_and_rejects_unknown() {
        let p: Policy = serde_json::from_str(r#"{"on_leave":"remove"}"#).unwrap();
        assert_eq!(p.on_leave, LeaveAction::Remove);
        assert!(p.wipe_data);
        assert!(serde_json::from_str::<Policy>(r#"{"on_leeve":"remove"}"#).is_err());
    }
}
