//! Dropbox wire conventions as pure functions: reading Stone-serialised arguments (unions with
//! `.tag`, the void shorthand string, defaults), the route-error value, timestamps, cursors
//! and names. No state, no I/O.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

/// A route error: answered as HTTP 409 `{error_summary, error}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RouteError {
    /// The tag path for `error_summary` (before the `/` and dots), e.g. `"user_not_found"`.
    pub(crate) summary: String,
    /// The `error` value, e.g. `{".tag":"user_not_found"}`.
    pub(crate) error: Value,
}

impl RouteError {
    /// A void tag: `{".tag": tag}`.
    pub(crate) fn tag(tag: &str) -> Self {
        RouteError {
            summary: tag.to_owned(),
            error: json!({ ".tag": tag }),
        }
    }

    /// A tag carrying a value: `{".tag": tag, tag: value}`.
    pub(crate) fn with_value(tag: &str, value: Value) -> Self {
        let mut error = Map::new();
        error.insert(".tag".into(), Value::String(tag.to_owned()));
        error.insert(tag.to_owned(), value);
        RouteError {
            summary: tag.to_owned(),
            error: Value::Object(error),
        }
    }

    /// The 409 body; `dots` (0..=3) mimics Dropbox's random trailing dots in `error_summary`.
    pub(crate) fn body(&self, dots: usize) -> Value {
        json!({
            "error_summary": format!("{}/{}", self.summary, ".".repeat(dots.min(3))),
            "error": self.error,
        })
    }
}

/// A malformed argument: answered as HTTP 400 text, like Dropbox's input validation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BadInput(pub(crate) String);

pub(crate) type ArgResult<T> = Result<T, BadInput>;

fn bad<T>(msg: impl Into<String>) -> ArgResult<T> {
    Err(BadInput(msg.into()))
}

/// The tag of a union value: `{".tag":"x",...}` or the void shorthand `"x"`.
pub(crate) fn tag_of(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        Value::Object(map) => map.get(".tag").and_then(Value::as_str),
        _ => None,
    }
}

/// A struct argument. `null` (and an empty body, which the server turns into `null`) stands
/// for a struct whose fields all have defaults.
pub(crate) struct Args<'a> {
    fields: Option<&'a Map<String, Value>>,
}

impl<'a> Args<'a> {
    pub(crate) fn new(value: &'a Value) -> ArgResult<Self> {
        match value {
            Value::Null => Ok(Args { fields: None }),
            Value::Object(map) => Ok(Args { fields: Some(map) }),
            other => bad(format!("expected object, got {}", kind(other))),
        }
    }

    /// A field, treating an explicit `null` as absent (Stone allows `null` for optional fields).
    pub(crate) fn get(&self, name: &str) -> Option<&'a Value> {
        self.fields
            .and_then(|m| m.get(name))
            .filter(|v| !v.is_null())
    }

    pub(crate) fn required(&self, name: &str) -> ArgResult<&'a Value> {
        match self.get(name) {
            Some(v) => Ok(v),
            None => bad(format!("missing required field '{name}'")),
        }
    }

    pub(crate) fn opt_str(&self, name: &str) -> ArgResult<Option<&'a str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => bad(format!("{name}: expected string, got {}", kind(other))),
        }
    }

    pub(crate) fn str(&self, name: &str) -> ArgResult<&'a str> {
        match self.opt_str(name)? {
            Some(s) => Ok(s),
            None => bad(format!("missing required field '{name}'")),
        }
    }

    pub(crate) fn bool_or(&self, name: &str, default: bool) -> ArgResult<bool> {
        match self.get(name) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => bad(format!("{name}: expected boolean, got {}", kind(other))),
        }
    }

    pub(crate) fn opt_bool(&self, name: &str) -> ArgResult<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(_) => self.bool_or(name, false).map(Some),
        }
    }

    /// A `UInt32(min_value=min, max_value=max) = default`.
    pub(crate) fn u32_in(&self, name: &str, min: u32, max: u32, default: u32) -> ArgResult<u32> {
        match self.get(name) {
            None => Ok(default),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if v >= u64::from(min) && v <= u64::from(max) => Ok(v as u32),
                _ => bad(format!("{name}: {n} is not within range [{min}, {max}]")),
            },
            Some(other) => bad(format!("{name}: expected integer, got {}", kind(other))),
        }
    }

    pub(crate) fn list(&self, name: &str) -> ArgResult<&'a Vec<Value>> {
        match self.required(name)? {
            Value::Array(items) => Ok(items),
            other => bad(format!("{name}: expected list, got {}", kind(other))),
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// Dropbox's `UserSelectorArg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UserSelector {
    TeamMemberId(String),
    ExternalId(String),
    Email(String),
}

impl UserSelector {
    /// The identifier as the caller gave it (what `id_not_found` and error lists echo back).
    pub(crate) fn raw(&self) -> &str {
        match self {
            UserSelector::TeamMemberId(s)
            | UserSelector::ExternalId(s)
            | UserSelector::Email(s) => s,
        }
    }
}

/// Reads a union member whose value is a primitive: `{".tag":"t","t":"value"}`.
fn tagged_string<'a>(value: &'a Value, tag: &str) -> ArgResult<&'a str> {
    match value.get(tag) {
        Some(Value::String(s)) => Ok(s),
        _ => bad(format!("'{tag}' must carry a string '{tag}' field")),
    }
}

pub(crate) fn user_selector(value: &Value) -> ArgResult<UserSelector> {
    match tag_of(value) {
        Some("team_member_id") => Ok(UserSelector::TeamMemberId(
            tagged_string(value, "team_member_id")?.to_owned(),
        )),
        Some("external_id") => Ok(UserSelector::ExternalId(
            tagged_string(value, "external_id")?.to_owned(),
        )),
        Some("email") => Ok(UserSelector::Email(
            tagged_string(value, "email")?.to_owned(),
        )),
        Some(other) => bad(format!("unknown UserSelectorArg tag '{other}'")),
        None => bad("UserSelectorArg: expected a union with '.tag'"),
    }
}

/// Dropbox's `GroupSelector`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GroupSelector {
    GroupId(String),
    ExternalId(String),
}

pub(crate) fn group_selector(value: &Value) -> ArgResult<GroupSelector> {
    match tag_of(value) {
        Some("group_id") => Ok(GroupSelector::GroupId(
            tagged_string(value, "group_id")?.to_owned(),
        )),
        Some("group_external_id") => Ok(GroupSelector::ExternalId(
            tagged_string(value, "group_external_id")?.to_owned(),
        )),
        Some(other) => bad(format!("unknown GroupSelector tag '{other}'")),
        None => bad("GroupSelector: expected a union with '.tag'"),
    }
}

/// Checks Dropbox's `EmailAddress` alias: at most 255 characters matching
/// `^['#&A-Za-z0-9._%+-]+@[A-Za-z0-9-][A-Za-z0-9.-]*\.[A-Za-z]{2,15}$`.
pub(crate) fn is_valid_email(email: &str) -> bool {
    if email.len() > 255 {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "'#&._%+-".contains(c));
    let Some((host, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    let mut host_chars = host.chars();
    let host_ok = match host_chars.next() {
        Some(first) if first.is_ascii_alphanumeric() || first == '-' => {
            host_chars.all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        }
        _ => false,
    };
    let tld_ok = (2..=15).contains(&tld.len()) && tld.chars().all(|c| c.is_ascii_alphabetic());
    local_ok && host_ok && tld_ok
}

/// Checks `OptionalNamePart`: at most 50 characters, none of `/:?*<>"|`.
pub(crate) fn is_valid_name_part(part: &str) -> bool {
    part.chars().count() <= 50 && !part.chars().any(|c| "/:?*<>\"|".contains(c))
}

/// `users.Name.display_name`: given name and surname, whichever are present.
pub(crate) fn display_name(given_name: &str, surname: &str) -> String {
    match (given_name.is_empty(), surname.is_empty()) {
        (false, false) => format!("{given_name} {surname}"),
        (false, true) => given_name.to_owned(),
        (true, false) => surname.to_owned(),
        (true, true) => String::new(),
    }
}

/// `users.Name.abbreviated_name`: the initials.
pub(crate) fn abbreviated_name(given_name: &str, surname: &str) -> String {
    [given_name, surname]
        .iter()
        .filter_map(|p| p.chars().next())
        .flat_map(char::to_uppercase)
        .collect()
}

/// `DropboxTimestamp`: `%Y-%m-%dT%H:%M:%SZ`, UTC, no fractional seconds.
pub(crate) fn timestamp(at: SystemTime) -> String {
    let secs = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Milliseconds since the Unix epoch (`GroupFullInfo.created`).
pub(crate) fn epoch_millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// An opaque pagination cursor: a kind, the team generation it belongs to (re-seeding
/// invalidates old cursors) and up to three numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub(crate) kind: &'static str,
    pub(crate) generation: u64,
    pub(crate) a: u64,
    pub(crate) b: u64,
    pub(crate) c: u64,
}

impl Cursor {
    pub(crate) fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}|{}|{}|{}|{}",
            self.kind, self.generation, self.a, self.b, self.c
        ))
    }

    /// Decodes a cursor of the expected kind; `None` for anything else.
    pub(crate) fn decode(text: &str, kind: &'static str) -> Option<Cursor> {
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?).ok()?;
        let mut parts = raw.split('|');
        if parts.next()? != kind {
            return None;
        }
        let mut num = || parts.next().and_then(|p| p.parse::<u64>().ok());
        let (generation, a, b, c) = (num()?, num()?, num()?, num()?);
        Some(Cursor {
            kind,
            generation,
            a,
            b,
            c,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn void_shorthand_and_tagged_forms_both_read() {
        assert_eq!(tag_of(&json!("owner")), Some("owner"));
        assert_eq!(tag_of(&json!({".tag": "owner"})), Some("owner"));
        assert_eq!(tag_of(&json!(3)), None);
    }

    #[test]
    fn selectors_parse_and_reject() {
        let sel = user_selector(&json!({".tag": "email", "email": "a@b.co"})).unwrap();
        assert_eq!(sel, UserSelector::Email("a@b.co".into()));
        assert!(user_selector(&json!({".tag": "email"})).is_err());
        assert!(user_selector(&json!({".tag": "nickname", "nickname": "x"})).is_err());
        let g = group_selector(&json!({".tag": "group_external_id", "group_external_id": "e1"}))
            .unwrap();
        assert_eq!(g, GroupSelector::ExternalId("e1".into()));
    }

    #[test]
    fn args_defaults_null_and_ranges() {
        let null = Value::Null;
        let args = Args::new(&null).unwrap();
        assert_eq!(args.u32_in("limit", 1, 1000, 1000).unwrap(), 1000);
        let v = json!({"limit": 0, "flag": null});
        let args = Args::new(&v).unwrap();
        assert!(args.u32_in("limit", 1, 1000, 1000).is_err());
        assert!(args.bool_or("flag", true).unwrap());
        assert!(Args::new(&json!([1])).is_err());
    }

    #[test]
    fn email_pattern() {
        assert!(is_valid_email("jane.o'neil+x@example.co.uk"));
        assert!(!is_valid_email("no-at-sign.example.com"));
        assert!(!is_valid_email("a@b.c"));
        assert!(!is_valid_email("a b@example.com"));
        assert!(!is_valid_email("a@example.c0m"));
    }

    #[test]
    fn display_and_abbreviated_names() {
        assert_eq!(display_name("Franz", "Ferdinand"), "Franz Ferdinand");
        assert_eq!(display_name("", "Ferdinand"), "Ferdinand");
        assert_eq!(display_name("", ""), "");
        assert_eq!(abbreviated_name("franz", "Ferdinand"), "FF");
        assert_eq!(abbreviated_name("", ""), "");
    }

    #[test]
    fn timestamps_have_dropbox_format() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_709_251_199); // 2024-02-29T23:59:59Z
        assert_eq!(timestamp(t), "2024-02-29T23:59:59Z");
        assert_eq!(epoch_millis(UNIX_EPOCH + Duration::from_millis(1500)), 1500);
    }

    #[test]
    fn cursor_round_trip_and_kind_check() {
        let c = Cursor {
            kind: "members",
            generation: 2,
            a: 1000,
            b: 1,
            c: 0,
        };
        let text = c.encode();
        assert_eq!(Cursor::decode(&text, "members"), Some(c));
        assert_eq!(Cursor::decode(&text, "groups"), None);
        assert_eq!(Cursor::decode("not a cursor!", "members"), None);
    }

    #[test]
    fn route_error_body_shape() {
        let e = RouteError::with_value("users_not_found", json!(["x"]));
        let body = e.body(2);
        assert_eq!(body["error_summary"], "users_not_found/..");
        assert_eq!(body["error"][".tag"], "users_not_found");
        assert_eq!(body["error"]["users_not_found"], json!(["x"]));
    }
}
