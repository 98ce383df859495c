//! `teamsync config explain [KEY]`: every key of the config file with its meaning and default.
//!
//! The text is the doc comments of [`ConfigFile`] and the types under it (the `[policy]` knobs
//! are [`teamsync_core::Policy`]'s), read at run time through
//! [`teamsync_core::docs::Documented`]; the defaults are the real `Default` values, serialized.
//! So the binary alone explains its config, and the Rust docs and the explanation cannot drift.

use std::fmt::Write as _;

use teamsync_core::docs::{DefaultDoc, Documented, FieldDoc, Shape, TypeDoc};

use super::schema::ConfigFile;

/// Width the explanation is wrapped to.
pub const WIDTH: usize = 80;

/// One key of the config file.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KeyDoc {
    /// Dotted path: `policy.on_leave`, `directory.url`.
    pub path: String,
    /// The values of the enclosing tags this key belongs to: `kind = "ldap"` for
    /// `directory.url`. Empty for keys every config has.
    pub only_with: Vec<(String, String)>,
    /// A table of further keys (`[policy]`, `policy.max_deprovision`) rather than a value.
    pub section: bool,
    /// Its doc comment.
    pub doc: &'static str,
    /// Required, or its default.
    pub default: DefaultDoc,
    /// The values it takes, with their doc comments, when it takes one of a few.
    pub values: Vec<(&'static str, &'static str)>,
}

impl KeyDoc {
    /// `directory.url (kind = "ldap")`: the path and what it applies to.
    pub fn title(&self) -> String {
        let mut title = if self.section {
            format!("[{}]", self.path)
        } else {
            self.path.clone()
        };
        if !self.only_with.is_empty() {
            let with: Vec<String> = self
                .only_with
                .iter()
                .map(|(tag, value)| format!("{tag} = \"{value}\""))
                .collect();
            let _ = write!(title, " (with {})", with.join(", "));
        }
        title
    }

    /// The default as the config would spell it (`"suspend"`, `{ floor = 25, percent = 10.0 }`),
    /// `None` for a required key or one that is absent by default.
    pub fn default_toml(&self) -> Option<String> {
        match &self.default {
            DefaultDoc::Value(value) => Some(toml_inline(value)),
            _ => None,
        }
    }
}

/// Every key, in the order of the structs: top-level keys, `[directory]` by kind, `[team]`,
/// `[policy]`, `[notify]`.
pub fn keys() -> Vec<KeyDoc> {
    let mut out = Vec::new();
    walk("", &[], &ConfigFile::type_doc(), None, &mut out);
    out
}

/// Why `explain KEY` printed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", unknown_key_message(.key, .close))]
#[non_exhaustive]
pub struct UnknownKey {
    /// What was asked.
    pub key: String,
    /// Keys that look like it.
    pub close: Vec<String>,
}

fn unknown_key_message(key: &str, close: &[String]) -> String {
    let mut message = format!("no config key {}", teamsync_core::text::quoted(key));
    if close.is_empty() {
        message.push_str("; run `teamsync config explain` for the list of keys");
    } else {
        let _ = write!(message, "; did you mean {}?", close.join(", "));
    }
    message
}

/// The key at `path` and every key under it (`policy` gives all of `[policy]`); a key of
/// several directory kinds (`directory.ca_file`) gives each.
pub fn lookup(path: &str) -> Result<Vec<KeyDoc>, UnknownKey> {
    let path = path.trim().trim_matches(['[', ']']);
    let all = keys();
    let under = format!("{path}.");
    let found: Vec<KeyDoc> = all
        .iter()
        .filter(|k| k.path == path || k.path.starts_with(&under))
        .cloned()
        .collect();
    if !found.is_empty() {
        return Ok(found);
    }
    Err(UnknownKey {
        key: path.to_owned(),
        close: close_matches(path, &all),
    })
}

/// Up to five keys that look like `asked`: a small edit distance on the whole path or the
/// last part, or a shared word (`percent`, `suspend`).
fn close_matches(asked: &str, all: &[KeyDoc]) -> Vec<String> {
    let asked = asked.to_lowercase();
    let asked_last = asked.rsplit('.').next().unwrap_or(&asked).to_owned();
    let words = |s: &str| -> Vec<String> {
        s.split(['.', '_'])
            .filter(|w| w.len() >= 3)
            .map(str::to_owned)
            .collect()
    };
    let asked_words = words(&asked);
    let mut scored: Vec<(usize, String)> = Vec::new();
    for key in all {
        if scored.iter().any(|(_, p)| *p == key.path) {
            continue;
        }
        let last = key.path.rsplit('.').next().unwrap_or(&key.path);
        let distance = edit_distance(&asked, &key.path).min(edit_distance(&asked_last, last));
        let shared = words(&key.path)
            .iter()
            .filter(|w| asked_words.contains(w))
            .count();
        let near = distance <= (asked_last.len() / 3).max(2);
        if near || shared > 0 {
            // Near misses first, then by how many words they share.
            let score = if near { distance } else { 100 - shared.min(99) };
            scored.push((score, key.path.clone()));
        }
    }
    scored.sort();
    scored.into_iter().take(5).map(|(_, p)| p).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(row[j + 1])
            };
            previous = current;
        }
    }
    row[b.len()]
}

fn walk(
    prefix: &str,
    only_with: &[(String, String)],
    doc: &TypeDoc,
    parent_default: Option<&serde_json::Value>,
    out: &mut Vec<KeyDoc>,
) {
    for entry in &doc.entries {
        let path = if prefix.is_empty() {
            entry.key.to_owned()
        } else {
            format!("{prefix}.{}", entry.key)
        };
        let default = match (&entry.default, parent_default) {
            // A key of a table whose own default is a value: the key's part of it.
            (DefaultDoc::Required, Some(serde_json::Value::Object(map))) => map
                .get(entry.key)
                .map_or(DefaultDoc::Required, |v| DefaultDoc::Value(v.clone())),
            (default, _) => default.clone(),
        };
        let nested = entry.nested.map(|f| f());
        match nested {
            Some(inner) if inner.shape == Shape::Keys => {
                out.push(key(
                    &path,
                    only_with,
                    true,
                    entry,
                    default.clone(),
                    Vec::new(),
                ));
                walk(&path, only_with, &inner, default_value(&default), out);
            }
            Some(inner) if inner.tag.is_some() => {
                tagged(&path, only_with, entry, default, &inner, out)
            }
            Some(inner) => {
                let values = inner.entries.iter().map(|v| (v.key, v.doc)).collect();
                out.push(key(&path, only_with, false, entry, default, values));
            }
            None => out.push(key(&path, only_with, false, entry, default, Vec::new())),
        }
    }
}

/// An internally tagged enum (`[directory]` by `kind`, `policy.transfer` by `mode`): a table
/// with the tag, whose values list the keys that come with them.
fn tagged(
    path: &str,
    only_with: &[(String, String)],
    entry: &FieldDoc,
    default: DefaultDoc,
    inner: &TypeDoc,
    out: &mut Vec<KeyDoc>,
) {
    let tag = inner.tag.unwrap_or("kind");
    let tag_default = match default_value(&default) {
        Some(serde_json::Value::Object(map)) => map
            .get(tag)
            .map_or(DefaultDoc::Required, |v| DefaultDoc::Value(v.clone())),
        _ => DefaultDoc::Required,
    };
    out.push(key(path, only_with, true, entry, default, Vec::new()));
    out.push(KeyDoc {
        path: format!("{path}.{tag}"),
        only_with: only_with.to_vec(),
        section: false,
        doc: inner.doc,
        default: tag_default,
        values: inner.entries.iter().map(|v| (v.key, v.doc)).collect(),
    });
    for variant in &inner.entries {
        if let Some(keys) = variant.nested.map(|f| f()) {
            let mut with = only_with.to_vec();
            with.push((tag.to_owned(), variant.key.to_owned()));
            walk(path, &with, &keys, None, out);
        }
    }
}

fn key(
    path: &str,
    only_with: &[(String, String)],
    section: bool,
    entry: &FieldDoc,
    default: DefaultDoc,
    values: Vec<(&'static str, &'static str)>,
) -> KeyDoc {
    KeyDoc {
        path: path.to_owned(),
        only_with: only_with.to_vec(),
        section,
        doc: entry.doc,
        default,
        values,
    }
}

fn default_value(default: &DefaultDoc) -> Option<&serde_json::Value> {
    match default {
        DefaultDoc::Value(value) => Some(value),
        _ => None,
    }
}

/// A value as TOML writes it inline.
pub fn toml_inline(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "(not set)".to_owned(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        // JSON's string escapes are TOML's basic-string escapes.
        serde_json::Value::String(_) => value.to_string(),
        serde_json::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(toml_inline).collect();
            format!("[{}]", items.join(", "))
        }
        serde_json::Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{k} = {}", toml_inline(v)))
                .collect();
            if items.is_empty() {
                "{}".to_owned()
            } else {
                format!("{{ {} }}", items.join(", "))
            }
        }
    }
}

/// The doc text for a reader: rustdoc links (``[`X`]``) as plain code, paragraphs reflowed.
pub fn plain_doc(doc: &str) -> String {
    let mut text = String::with_capacity(doc.len());
    let mut rest = doc;
    while let Some(start) = rest.find("[`") {
        match rest[start + 2..].find("`]") {
            Some(end) => {
                text.push_str(&rest[..start]);
                text.push('`');
                text.push_str(&rest[start + 2..start + 2 + end]);
                text.push('`');
                rest = &rest[start + 2 + end + 2..];
                // A link target in parentheses right after the link text.
                if rest.starts_with('(')
                    && let Some(close) = rest.find(')')
                {
                    rest = &rest[close + 1..];
                }
            }
            None => break,
        }
    }
    text.push_str(rest);
    text
}

/// `text` wrapped to `width`, each line starting with `indent`; blank lines and list items
/// (`* `, `- `) start new lines.
pub fn wrap(text: &str, indent: &str, width: usize) -> String {
    let room = width.saturating_sub(indent.chars().count()).max(20);
    let mut out = String::new();
    let mut line = String::new();
    let flush = |line: &mut String, out: &mut String| {
        if !line.is_empty() {
            out.push_str(indent);
            out.push_str(line.trim_end());
            out.push('\n');
            line.clear();
        }
    };
    for source in plain_doc(text).lines() {
        let source = source.trim();
        if source.is_empty() {
            flush(&mut line, &mut out);
            continue;
        }
        if source.starts_with("* ") || source.starts_with("- ") {
            flush(&mut line, &mut out);
        }
        for word in source.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
                flush(&mut line, &mut out);
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    flush(&mut line, &mut out);
    out
}

/// The explanation of `keys`, wrapped to [`WIDTH`] columns.
pub fn render(keys: &[KeyDoc]) -> String {
    let mut out = String::new();
    for key in keys {
        if key.section {
            let _ = writeln!(out, "{}", key.title());
        } else {
            let default = match &key.default {
                DefaultDoc::Required => " (required)".to_owned(),
                DefaultDoc::NotSet => " (not set by default)".to_owned(),
                DefaultDoc::Value(_) => match key.default_toml() {
                    Some(value) => format!(" = {value} (default)"),
                    None => String::new(),
                },
                _ => String::new(),
            };
            let title = key.title();
            if title.chars().count() + default.chars().count() <= WIDTH {
                let _ = writeln!(out, "{title}{default}");
            } else {
                let _ = writeln!(out, "{title}");
                out.push_str(&wrap(default.trim(), "    ", WIDTH));
            }
        }
        if key.doc.is_empty() {
            out.push_str("    (undocumented)\n");
        } else {
            out.push_str(&wrap(key.doc, "    ", WIDTH));
        }
        if !key.values.is_empty() {
            out.push_str("    One of:\n");
            // Values in a column with their docs beside them, when the column is narrow.
            let column = key
                .values
                .iter()
                .map(|(v, _)| v.len() + 2)
                .max()
                .unwrap_or(0);
            for (value, doc) in &key.values {
                let quoted = format!("\"{value}\"");
                if column <= 20 {
                    let indent = " ".repeat(6 + column + 2);
                    let text = wrap(doc, &indent, WIDTH);
                    let text = text.strip_prefix(indent.as_str()).unwrap_or(&text);
                    let _ = write!(out, "      {quoted:<column$}  {text}");
                    if text.is_empty() {
                        out.push('\n');
                    }
                } else {
                    let _ = writeln!(out, "      {quoted}");
                    out.push_str(&wrap(doc, "          ", WIDTH));
                }
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_policy_knob_has_a_doc_and_its_real_default() {
        let keys = keys();
        let policy = serde_json::to_value(teamsync_core::Policy::default()).unwrap();
        let serde_json::Value::Object(policy) = policy else {
            panic!("a policy serializes as a table")
        };
        for (name, value) in &policy {
            let path = format!("policy.{name}");
            let key = keys
                .iter()
                .find(|k| k.path == path)
                .unwrap_or_else(|| panic!("{path} is not explained"));
            assert!(!key.doc.trim().is_empty(), "{path} has no doc");
            assert_eq!(key.default, DefaultDoc::Value(value.clone()), "{path}");
        }
        // ... and nothing is listed under [policy] that the policy does not have.
        let rules = teamsync_core::Policy::type_doc();
        for entry in &rules.entries {
            assert!(
                keys.iter()
                    .any(|k| k.path == format!("policy.{}", entry.key)),
                "{}",
                entry.key
            );
        }
        let text = render(&lookup("policy").unwrap());
        assert!(
            text.contains("policy.on_leave = \"suspend\" (default)"),
            "{text}"
        );
        assert!(text.contains("[policy.max_deprovision]\n"), "{text}");
        assert!(
            text.contains("policy.max_deprovision.floor = 25 (default)"),
            "{text}"
        );
    }

    #[test]
    fn every_key_is_documented_and_fits_80_columns() {
        for key in keys() {
            assert!(!key.doc.trim().is_empty(), "{} has no doc", key.title());
            for (value, doc) in &key.values {
                assert!(
                    !doc.trim().is_empty(),
                    "{} = {value:?} has no doc",
                    key.path
                );
            }
        }
        let text = render(&keys());
        for line in text.lines() {
            assert!(line.chars().count() <= WIDTH, "too wide: {line}");
            assert!(!line.contains("[`"), "rustdoc link left: {line}");
        }
    }

    #[test]
    fn directory_keys_are_listed_by_kind_with_their_defaults() {
        let keys = keys();
        let find = |path: &str, kind: &str| {
            keys.iter()
                .find(|k| k.path == path && k.only_with.iter().any(|(_, v)| v == kind))
                .unwrap_or_else(|| panic!("{path} for {kind}"))
                .clone()
        };
        assert_eq!(find("directory.url", "ldap").default, DefaultDoc::Required);
        assert_eq!(
            find("directory.bind_dn", "ldap").default,
            DefaultDoc::NotSet
        );
        assert_eq!(
            find("directory.starttls", "ldap").default,
            DefaultDoc::Value(false.into())
        );
        assert_eq!(
            find("directory.format", "file").default,
            DefaultDoc::Value("auto".into())
        );
        assert_eq!(
            find("directory.columns.group_separator", "file").default,
            DefaultDoc::Value(";".into())
        );
        assert_eq!(
            find("directory.tenant_id", "entra").default,
            DefaultDoc::Required
        );
        let kind = keys.iter().find(|k| k.path == "directory.kind").unwrap();
        let kinds: Vec<&str> = kind.values.iter().map(|(v, _)| *v).collect();
        assert_eq!(kinds, ["ldap", "file", "entra"]);
        let team = keys.iter().find(|k| k.path == "team.base_url").unwrap();
        assert_eq!(
            team.default,
            DefaultDoc::Value(super::super::schema::DEFAULT_BASE_URL.into())
        );
        let profile = find("directory.profile", "ldap");
        assert!(
            profile.values.iter().any(|(v, _)| *v == "389ds"),
            "{profile:?}"
        );
        // Every value listed is one serde reads.
        for (value, _) in &profile.values {
            serde_json::from_value::<super::super::schema::ProfileName>((*value).into())
                .unwrap_or_else(|e| panic!("{value}: {e}"));
        }
        // user_base_dn / group_base_dn say what they are for.
        for key in ["directory.user_base_dn", "directory.group_base_dn"] {
            let doc = find(key, "ldap").doc;
            assert!(doc.contains("base_dn"), "{key}: {doc}");
        }
    }

    #[test]
    fn an_unknown_key_names_close_matches() {
        let error = lookup("policy.max_suspend_percent").unwrap_err();
        assert!(
            error
                .close
                .iter()
                .any(|k| k.starts_with("policy.max_deprovision")),
            "{error}"
        );
        let error = lookup("policy.on_leeve").unwrap_err();
        assert_eq!(
            error.close.first().map(String::as_str),
            Some("policy.on_leave")
        );
        assert!(
            error.to_string().contains("did you mean policy.on_leave"),
            "{error}"
        );
        let error = lookup("zzzzzzzz").unwrap_err();
        assert!(
            error.to_string().contains("teamsync config explain"),
            "{error}"
        );
    }

    #[test]
    fn a_section_lists_its_keys_and_a_tagged_key_its_variants() {
        let transfer = lookup("policy.transfer").unwrap();
        let paths: Vec<String> = transfer.iter().map(KeyDoc::title).collect();
        assert!(
            paths.contains(&"policy.transfer.mode".to_owned()),
            "{paths:?}"
        );
        assert!(
            paths.contains(&"policy.transfer.dest (with mode = \"transfer\")".to_owned()),
            "{paths:?}"
        );
        let mode = transfer
            .iter()
            .find(|k| k.path == "policy.transfer.mode")
            .unwrap();
        assert_eq!(mode.default, DefaultDoc::Value("none".into()));
    }
}
