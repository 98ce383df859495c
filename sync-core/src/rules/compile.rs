//! Compiling rules once: parsing, the names each expression may use, and evaluating a compiled
//! expression over one user or group.

use crate::text::quoted;
use std::collections::BTreeSet;
use std::sync::Arc;

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use cel::{Context, Env, Program, Value};

use super::values::{GROUP_FIELDS, GroupVal, USER_FIELDS, UserResolver};
use super::{MappingWhen, MatchBy, RuleError, RulesConfig, ScopeRuleConfig};

/// Names CEL gives to types, usable as values (`type(x) == string`).
const TYPE_NAMES: [&str; 11] = [
    "bool",
    "bytes",
    "double",
    "dyn",
    "int",
    "list",
    "map",
    "null_type",
    "string",
    "type",
    "uint",
];

/// An include or exclude rule, compiled.
pub(crate) struct Predicate {
    pub(crate) name: String,
    pub(crate) exclude: bool,
    pub(crate) program: Program,
}

/// A profile field a mapping writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Email,
    GivenName,
    Surname,
}

impl Field {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Field::Email => "email",
            Field::GivenName => "given_name",
            Field::Surname => "surname",
        }
    }
}

/// A mapping, compiled.
pub(crate) struct Mapping {
    pub(crate) field: Field,
    pub(crate) when: MappingWhen,
    pub(crate) program: Program,
}

/// A match rule, compiled.
pub(crate) struct Matcher {
    pub(crate) name: String,
    /// `None` matches by email.
    pub(crate) external_id: Option<Program>,
}

/// Every expression of a [`RulesConfig`](super::RulesConfig), compiled.
pub(crate) struct Compiled {
    env: Arc<Env>,
    pub(crate) scope: Vec<Predicate>,
    pub(crate) groups: Vec<Predicate>,
    pub(crate) group_name: Option<Program>,
    pub(crate) mappings: Vec<Mapping>,
    pub(crate) matching: Vec<Matcher>,
    pub(crate) user_attributes: BTreeSet<String>,
    /// Some user expression reads `user.groups`: the nesting closure is computed.
    pub(crate) needs_user_groups: bool,
}

/// Which variable an expression sees.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Subject {
    User,
    Group,
}

impl Subject {
    fn variable(self) -> &'static str {
        match self {
            Subject::User => "user",
            Subject::Group => "group",
        }
    }
}

impl Compiled {
    pub(crate) fn new(config: &RulesConfig) -> Result<Self, RuleError> {
        let mut env = Env::stdlib();
        // Pure string functions (lowerAscii, trim, split, replace, join …).
        env.add_extension(cel::extensions::strings)
            .map_err(|e| RuleError {
                rule: "rules".to_owned(),
                position: None,
                message: format!("the expression environment could not be built: {e}"),
            })?;
        let mut c = Compiled {
            env: Arc::new(env),
            scope: Vec::new(),
            groups: Vec::new(),
            group_name: None,
            mappings: Vec::new(),
            matching: Vec::new(),
            user_attributes: BTreeSet::new(),
            needs_user_groups: false,
        };
        let mut names = BTreeSet::new();
        for rule in &config.scope {
            let p = c.predicate(rule, "scope rule", Subject::User, &mut names)?;
            c.scope.push(p);
        }
        let mut names = BTreeSet::new();
        for rule in &config.groups {
            let p = c.predicate(rule, "group rule", Subject::Group, &mut names)?;
            c.groups.push(p);
        }
        if let Some(src) = &config.group_name {
            c.group_name = Some(c.expression("group_name rule", src, Subject::Group)?);
        }
        for (field, mapping) in [
            (Field::Email, &config.mapping.email),
            (Field::GivenName, &config.mapping.given_name),
            (Field::Surname, &config.mapping.surname),
        ] {
            if let Some(m) = mapping {
                let program = c.expression(
                    &format!("mapping {}", quoted(field.key())),
                    &m.expr,
                    Subject::User,
                )?;
                c.mappings.push(Mapping {
                    field,
                    when: m.when,
                    program,
                });
            }
        }
        let mut names = BTreeSet::new();
        for rule in &config.matching {
            let label = format!("match rule {}", quoted(&rule.name));
            check_name(&label, &rule.name, &mut names)?;
            let external_id = match (rule.by, &rule.expr) {
                (MatchBy::Email, None) => None,
                (MatchBy::Email, Some(_)) => {
                    return Err(plain(
                        &label,
                        "by = \"email\" takes no expr; remove it, or use by = \"external_id\"",
                    ));
                }
                (MatchBy::ExternalId, Some(src)) => {
                    Some(c.expression(&label, src, Subject::User)?)
                }
                (MatchBy::ExternalId, None) => {
                    return Err(plain(
                        &label,
                        "by = \"external_id\" needs an expr giving the external id, e.g. expr = '\"azure:\" + user.id'",
                    ));
                }
            };
            c.matching.push(Matcher {
                name: rule.name.clone(),
                external_id,
            });
        }
        Ok(c)
    }

    fn predicate(
        &mut self,
        rule: &ScopeRuleConfig,
        kind: &str,
        subject: Subject,
        names: &mut BTreeSet<String>,
    ) -> Result<Predicate, RuleError> {
        let label = format!("{kind} {}", quoted(&rule.name));
        check_name(&label, &rule.name, names)?;
        let (exclude, src) = match (&rule.include, &rule.exclude) {
            (Some(src), None) => (false, src),
            (None, Some(src)) => (true, src),
            _ => return Err(plain(&label, "give exactly one of include and exclude")),
        };
        let program = self.expression(&label, src, subject)?;
        Ok(Predicate {
            name: rule.name.clone(),
            exclude,
            program,
        })
    }

    /// Parses one expression and checks the names it uses.
    fn expression(
        &mut self,
        label: &str,
        src: &str,
        subject: Subject,
    ) -> Result<Program, RuleError> {
        if src.trim().is_empty() {
            return Err(plain(label, "the expression is empty"));
        }
        let program = self.env.compile(src).map_err(|errors| {
            let first = errors.errors.first();
            RuleError {
                rule: label.to_owned(),
                position: first.and_then(|e| {
                    let (line, column) = e.pos;
                    // The parser counts lines from 1 and columns from 0.
                    Some((u32::try_from(line).ok()?, u32::try_from(column).ok()? + 1))
                }),
                message: first.map_or_else(|| errors.to_string(), |e| e.msg.clone()),
            }
        })?;
        let mut check = NameCheck {
            subject,
            bound: Vec::new(),
            found: Vec::new(),
            error: None,
        };
        check.walk(program.expression());
        if let Some((id, message)) = check.error {
            let position = program
                .source_info()
                .offset_for(id)
                .map(|(start, _)| line_column(src, start as usize));
            return Err(RuleError {
                rule: label.to_owned(),
                position,
                message,
            });
        }
        if subject == Subject::User {
            for field in check.found {
                if field == "groups" {
                    self.needs_user_groups = true;
                } else if !USER_FIELDS.contains(&field.as_str()) {
                    self.user_attributes.insert(field);
                }
            }
        }
        Ok(program)
    }

    /// A context resolving `user` through `resolver`, for evaluating every user expression of
    /// one user.
    pub(crate) fn user_context<'v>(&self, resolver: &'v UserResolver<'v>) -> Context<'v, 'v> {
        let mut ctx = Context::with_env(Arc::clone(&self.env));
        ctx.set_variable_resolver(resolver);
        ctx
    }

    /// A context binding `group`.
    pub(crate) fn group_context<'v>(&self, group: GroupVal<'v>) -> Context<'v, 'v> {
        let mut ctx = Context::with_env(Arc::clone(&self.env));
        ctx.add_variable_as_val("group", Box::new(group));
        ctx
    }
}

/// Evaluates `program` in `ctx`.
pub(crate) fn eval(ctx: &Context<'_, '_>, program: &Program) -> Result<Value, String> {
    program.execute(ctx).map_err(|e| e.to_string())
}

fn plain(label: &str, message: &str) -> RuleError {
    RuleError {
        rule: label.to_owned(),
        position: None,
        message: message.to_owned(),
    }
}

fn check_name(label: &str, name: &str, names: &mut BTreeSet<String>) -> Result<(), RuleError> {
    if name.trim().is_empty() {
        return Err(plain(
            label,
            "every rule needs a name (it is shown in each operation the rule causes)",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(plain(label, "a rule name may not hold control characters"));
    }
    if !names.insert(name.to_owned()) {
        return Err(plain(
            label,
            "two rules of this kind have this name; names must be unique",
        ));
    }
    Ok(())
}

/// 1-based line and column of the `offset`-th character of `src`.
fn line_column(src: &str, offset: usize) -> (u32, u32) {
    let (mut line, mut column) = (1u32, 1u32);
    for c in src.chars().take(offset) {
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

/// Walks an expression: every free name must be the subject's variable (or a type name), and
/// the subject's fields read with `.` are collected.
struct NameCheck {
    subject: Subject,
    /// Variables bound by the enclosing comprehensions (`g` in `user.groups.exists(g, …)`).
    bound: Vec<String>,
    found: Vec<String>,
    error: Option<(u64, String)>,
}

impl NameCheck {
    fn fail(&mut self, id: u64, message: String) {
        if self.error.is_none() {
            self.error = Some((id, message));
        }
    }

    fn walk(&mut self, e: &IdedExpr) {
        if self.error.is_some() {
            return;
        }
        let var = self.subject.variable();
        match &e.expr {
            Expr::Unspecified | Expr::Literal(_) => {}
            Expr::Ident(name) => {
                let known = name == var
                    || name.starts_with('@')
                    || self.bound.iter().any(|b| b == name)
                    || TYPE_NAMES.contains(&name.as_str());
                if !known {
                    let other = match self.subject {
                        Subject::User => "group",
                        Subject::Group => "user",
                    };
                    let hint = if name == other {
                        format!("this rule sees `{var}`, not `{other}`")
                    } else {
                        format!("only `{var}` is known here")
                    };
                    self.fail(e.id, format!("unknown name `{name}`: {hint}"));
                }
            }
            Expr::Select(select) => {
                if let Expr::Ident(name) = &select.operand.expr {
                    if name == var && !self.bound.iter().any(|b| b == name) {
                        if self.subject == Subject::Group
                            && !GROUP_FIELDS.contains(&select.field.as_str())
                        {
                            self.fail(
                                e.id,
                                format!(
                                    "a group has only {}; `group.{}` is not one of them",
                                    GROUP_FIELDS.join(" and "),
                                    select.field
                                ),
                            );
                            return;
                        }
                        self.found.push(select.field.clone());
                    }
                }
                self.walk(&select.operand);
            }
            Expr::Call(call) => {
                if let Some(target) = &call.target {
                    self.walk(target);
                }
                for arg in &call.args {
                    self.walk(arg);
                }
            }
            Expr::Comprehension(comp) => {
                if matches!(&comp.iter_range.expr, Expr::Ident(name) if name == var) {
                    self.fail(
                        comp.iter_range.id,
                        format!("`{var}` cannot be iterated (its fields have no order); read its fields by name"),
                    );
                    return;
                }
                self.walk(&comp.iter_range);
                self.walk(&comp.accu_init);
                let depth = self.bound.len();
                self.bound.push(comp.iter_var.clone());
                if let Some(v) = &comp.iter_var2 {
                    self.bound.push(v.clone());
                }
                self.bound.push(comp.accu_var.clone());
                self.walk(&comp.loop_cond);
                self.walk(&comp.loop_step);
                self.walk(&comp.result);
                self.bound.truncate(depth);
            }
            Expr::List(list) => {
                for element in &list.elements {
                    self.walk(element);
                }
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    self.walk_entry(&entry.expr);
                }
            }
            Expr::Struct(s) => {
                for entry in &s.entries {
                    self.walk_entry(&entry.expr);
                }
            }
        }
    }

    fn walk_entry(&mut self, entry: &EntryExpr) {
        match entry {
            EntryExpr::StructField(field) => self.walk(&field.value),
            EntryExpr::MapEntry(map_entry) => {
                self.walk(&map_entry.key);
                self.walk(&map_entry.value);
            }
        }
    }
}
