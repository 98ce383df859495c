//! Where a key is in the config text, from the TOML parser's own spans: dotted keys
//! (`directory.kind = "file"`), inline tables (`token = { env = "X" }`) and headers all count,
//! so every error can name the line to fix.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The parsed document with spans, for locating keys.
pub(crate) struct Spans<'a> {
    text: &'a str,
    root: Option<Spanned<DeTable<'a>>>,
}

/// A key found in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located {
    /// Dotted path, e.g. `directory.attributes.email`.
    pub key: String,
    /// 1-based line of the key.
    pub line: usize,
}

impl<'a> Spans<'a> {
    /// Parses `text`; a text that is not TOML locates nothing.
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            root: DeTable::parse(text).ok(),
        }
    }

    /// 1-based line of a byte offset.
    pub(crate) fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    /// The line of a dotted key; when the key is not set, the line of the nearest table on
    /// its path that is.
    pub(crate) fn line_of(&self, key: &str) -> Option<usize> {
        let root = self.root.as_ref()?;
        let mut table = root.get_ref();
        let mut line = None;
        for part in key.split('.') {
            let Some((k, v)) = table.iter().find(|(k, _)| k.get_ref().as_ref() == part) else {
                break;
            };
            line = Some(self.line(k.span().start));
            match v.get_ref() {
                DeValue::Table(inner) => table = inner,
                _ => break,
            }
        }
        line
    }

    /// The dotted path of the deepest key whose key or value holds `offset`.
    pub(crate) fn path_at(&self, offset: usize) -> Vec<String> {
        let mut path = Vec::new();
        if let Some(root) = &self.root {
            descend(root.get_ref(), offset, &mut path);
        }
        path
    }

    /// Every place `name` is set as a key, deepest tables included.
    pub(crate) fn find_key(&self, name: &str) -> Vec<Located> {
        let mut found = Vec::new();
        if let Some(root) = &self.root {
            self.collect(root.get_ref(), "", name, &mut found);
        }
        found
    }

    fn collect(&self, table: &DeTable<'_>, prefix: &str, name: &str, found: &mut Vec<Located>) {
        for (k, v) in table.iter() {
            let key = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            if k.get_ref().as_ref() == name {
                found.push(Located {
                    key: key.clone(),
                    line: self.line(k.span().start),
                });
            }
            if let DeValue::Table(inner) = v.get_ref() {
                self.collect(inner, &key, name, found);
            }
        }
    }
}

fn contains(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && offset < span.end.max(span.start + 1)
}

/// The deepest path whose key or value holds `offset`. Every table is searched, whatever its
/// own span: a `[table]` header's span does not cover the keys under it.
fn descend(table: &DeTable<'_>, offset: usize, path: &mut Vec<String>) {
    let mut best: Vec<String> = Vec::new();
    for (k, v) in table.iter() {
        let mut candidate = vec![k.get_ref().to_string()];
        let here = contains(&k.span(), offset) || contains(&v.span(), offset);
        if let DeValue::Table(inner) = v.get_ref() {
            let mut deeper = Vec::new();
            descend(inner, offset, &mut deeper);
            if !deeper.is_empty() {
                candidate.extend(deeper);
            } else if !here {
                continue;
            }
        } else if !here {
            continue;
        }
        if candidate.len() > best.len() {
            best = candidate;
        }
    }
    path.extend(best);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn headers_dotted_keys_and_inline_tables_have_lines() {
        let text = "allow = 1\ndirectory.kind = \"file\"\n\n[team]\ntoken = { env = \"X\" }\n[directory.attributes]\nemail = [\"mail\"]\n";
        let spans = Spans::new(text);
        assert_eq!(spans.line_of("allow"), Some(1));
        assert_eq!(spans.line_of("directory.kind"), Some(2));
        assert_eq!(spans.line_of("team"), Some(4));
        assert_eq!(spans.line_of("team.token"), Some(5));
        assert_eq!(spans.line_of("team.token.env"), Some(5));
        assert_eq!(spans.line_of("directory.attributes.email"), Some(7));
        // Not set: the nearest table that is.
        assert_eq!(spans.line_of("team.base_url"), Some(4));
        assert_eq!(spans.line_of("notify.to"), None);
        let found = spans.find_key("email");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key, "directory.attributes.email");
        let offset = text.find("\"X\"").unwrap();
        assert_eq!(spans.path_at(offset), vec!["team", "token", "env"]);
    }
}
