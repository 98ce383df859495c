//! Rules as expressions: scope, group selection and naming, attribute mappings and matching,
//! written in [CEL](https://cel.dev) (the Common Expression Language of Kubernetes, Google IAM
//! conditions and Envoy) and evaluated by the `cel` crate.
//!
//! Rules are source-independent: they see a directory user or group as the core holds it, so
//! they work the same for LDAP, AD, files and Python dicts.
//!
//! * `user`: `id`, `email`, `given_name`, `surname`, `enabled`, `groups` (the names of every
//!   group the user is in, through nesting, sorted) and every attribute the source read
//!   (`user.department`). A missing attribute is an error for that user; test with
//!   `has(user.department)`.
//! * `group`: `id`, `name`.
//!
//! Rules are compiled once ([`Rules::compile`], or when a [`Policy`](crate::Policy) is
//! deserialized); a syntax error, or a name the rule cannot see, names the rule and the
//! position. An expression that fails for one user (a missing attribute, a wrong type) leaves
//! that user's member exactly as it is, reported with the user and the rule: it never
//! deprovisions. Every operation and warning a rule causes names the rule.
//!
//! ```toml
//! [[rules.scope]]
//! name = "sales"
//! include = 'user.department == "Sales"'
//!
//! [[rules.scope]]
//! name = "no-contractors"
//! exclude = 'has(user.title) && user.title.startsWith("Contractor")'
//!
//! [[rules.groups]]
//! name = "teams-only"
//! include = 'group.name.startsWith("team-")'
//!
//! [rules]
//! group_name = '"AD " + group.name'
//!
//! [rules.mapping]
//! email = { expr = 'user.email != "" ? user.email : user.uid + "@corp.example"' }
//! given_name = { expr = "user.nickname", when = "on_create" }
//!
//! [[rules.match]]
//! name = "entra"
//! by = "external_id"
//! expr = '"azure:" + user.id'
//!
//! [[rules.match]]
//! name = "email"
//! by = "email"
//! ```

mod compile;
pub(crate) mod prepare;
mod values;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub(crate) use compile::Compiled;

/// The rules as written in a config: expressions as source text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct RulesConfig {
    /// Which users are in scope, among those the directory's roots reach. A user must match
    /// one include rule (when there are any) and no exclude rule.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<ScopeRuleConfig>,
    /// Which reachable groups are synced: include and exclude rules over `group`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<ScopeRuleConfig>,
    /// The Dropbox group name, as an expression over `group` (e.g. `"AD " + group.name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// The email and names a member gets.
    #[serde(skip_serializing_if = "MappingConfig::is_empty")]
    pub mapping: MappingConfig,
    /// How a user finds a team member teamsync does not own yet, in precedence order (first
    /// hit wins). Empty means by email, as without rules.
    #[serde(rename = "match", skip_serializing_if = "Vec::is_empty")]
    pub matching: Vec<MatchRuleConfig>,
}

impl RulesConfig {
    /// No rules at all.
    pub fn is_empty(&self) -> bool {
        self.scope.is_empty()
            && self.groups.is_empty()
            && self.group_name.is_none()
            && self.mapping.is_empty()
            && self.matching.is_empty()
    }
}

/// One include or exclude rule (`[[rules.scope]]`, `[[rules.groups]]`): exactly one of
/// `include` and `exclude`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ScopeRuleConfig {
    /// Named in every operation and warning the rule causes.
    pub name: String,
    /// In scope when true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<String>,
    /// Out of scope when true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<String>,
}

impl ScopeRuleConfig {
    /// An include rule.
    pub fn include(name: impl Into<String>, expr: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            include: Some(expr.into()),
            exclude: None,
        }
    }

    /// An exclude rule.
    pub fn exclude(name: impl Into<String>, expr: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            include: None,
            exclude: Some(expr.into()),
        }
    }
}

/// `[rules.mapping]`: each field an expression over `user`, or the directory's value when unset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct MappingConfig {
    /// Login email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<MappingRuleConfig>,
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<MappingRuleConfig>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surname: Option<MappingRuleConfig>,
}

impl MappingConfig {
    /// No mapping.
    pub fn is_empty(&self) -> bool {
        self.email.is_none() && self.given_name.is_none() && self.surname.is_none()
    }
}

/// One mapping: an expression giving a string, and when it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MappingRuleConfig {
    /// Gives the value (a string).
    pub expr: String,
    /// When the value is written.
    #[serde(default)]
    pub when: MappingWhen,
}

impl MappingRuleConfig {
    /// Applied on invite and on every profile update.
    pub fn always(expr: impl Into<String>) -> Self {
        Self {
            expr: expr.into(),
            when: MappingWhen::Always,
        }
    }

    /// Applied only when the member is invited (Entra's "only during object creation").
    pub fn on_create(expr: impl Into<String>) -> Self {
        Self {
            expr: expr.into(),
            when: MappingWhen::OnCreate,
        }
    }
}

/// When a mapping is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MappingWhen {
    /// On invite and whenever the value differs from the member's.
    #[default]
    Always,
    /// Only when the member is invited; an existing member's field is never changed.
    OnCreate,
}

/// `[[rules.match]]`: how a user finds a member teamsync does not own yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MatchRuleConfig {
    /// Named in the adoption's reason.
    pub name: String,
    /// What is compared.
    pub by: MatchBy,
    /// With `by = "external_id"`: the external id another tool wrote, as an expression over
    /// `user` (e.g. `"azure:" + user.id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
}

impl MatchRuleConfig {
    /// Match by email (what teamsync does without rules): `manage_existing_users` and
    /// `adopt_foreign` decide whether the member is taken over.
    pub fn email(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            by: MatchBy::Email,
            expr: None,
        }
    }

    /// Match a member whose external id is the expression's value. Such a member is taken over
    /// whatever `adopt_foreign` says: the rule names exactly which members to take.
    pub fn external_id(name: impl Into<String>, expr: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            by: MatchBy::ExternalId,
            expr: Some(expr.into()),
        }
    }
}

/// What a match rule compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MatchBy {
    /// The member's login email against the user's (mapped) email.
    Email,
    /// The member's external id against the rule's expression.
    ExternalId,
}

/// A rule that cannot be used: which rule, where in its expression, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct RuleError {
    /// The rule, as people name it: `scope rule "no-contractors"`, `mapping "email"`.
    pub rule: String,
    /// 1-based line and column in the rule's expression, when the error has a place.
    pub position: Option<(u32, u32)>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(
                f,
                "{}, line {line} column {column}: {}",
                self.rule, self.message
            ),
            None => write!(f, "{}: {}", self.rule, self.message),
        }
    }
}

/// Compiled rules. Cheap to clone; compared, printed and serialized as their [`RulesConfig`].
/// Deserializing compiles, so a config with a bad rule fails to load.
#[derive(Clone, Default)]
pub struct Rules {
    config: RulesConfig,
    compiled: Option<Arc<Compiled>>,
}

impl Rules {
    /// Compiles every expression once. Fails on the first unusable rule.
    pub fn compile(config: RulesConfig) -> Result<Self, RuleError> {
        if config.is_empty() {
            return Ok(Self {
                config,
                compiled: None,
            });
        }
        let compiled = Compiled::new(&config)?;
        Ok(Self {
            config,
            compiled: Some(Arc::new(compiled)),
        })
    }

    /// The rules as written.
    pub fn config(&self) -> &RulesConfig {
        &self.config
    }

    /// No rules: plans are exactly as without them.
    pub fn is_empty(&self) -> bool {
        self.compiled.is_none()
    }

    /// The user attributes the rules read (`user.department` gives `department`), fields such
    /// as `email` excluded: what a directory config's `attributes` list must hold.
    pub fn user_attributes(&self) -> BTreeSet<String> {
        self.compiled
            .as_ref()
            .map(|c| c.user_attributes.clone())
            .unwrap_or_default()
    }

    /// Some match rule takes over members by the external id another tool wrote, whatever
    /// `adopt_foreign` says.
    pub fn matches_by_external_id(&self) -> bool {
        self.compiled
            .as_ref()
            .is_some_and(|c| c.matching.iter().any(|m| m.external_id.is_some()))
    }

    pub(crate) fn compiled(&self) -> Option<&Compiled> {
        self.compiled.as_deref()
    }
}

impl PartialEq for Rules {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
    }
}

impl fmt::Debug for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.config.fmt(f)
    }
}

impl Serialize for Rules {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.config.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Rules {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let config = RulesConfig::deserialize(deserializer)?;
        Rules::compile(config).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<RulesConfig> for Rules {
    type Error = RuleError;
    fn try_from(config: RulesConfig) -> Result<Self, Self::Error> {
        Rules::compile(config)
    }
}

// Policies cross threads (the Python binding shares one behind an `Arc`).
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<Rules>();
};
