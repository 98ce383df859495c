//! Text for people: names and ids come from the directory and the team, so they may hold a
//! newline (forging a log line), an escape sequence (clearing or rewriting a terminal) or a
//! bidirectional override (showing `moc.evil` as `evil.com`). Every text output — the plan
//! table, the text log, mail — passes them through [`escape_for_display`]. JSON output stays
//! exact: it escapes control characters by itself and is read by programs.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal or a line-oriented log as itself: C0 and C1 control
/// characters (tab, newline and escape included), DEL, and the Unicode bidirectional
/// formatting characters (embeddings, overrides, isolates, marks).
pub fn is_unsafe_for_display(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
        // Line and paragraph separators end a line in some viewers.
        || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `text` with every character of [`is_unsafe_for_display`] written as a visible escape:
/// `\n`, `\r`, `\t`, or `\u{…}` (Rust's notation). Borrowed when nothing needed escaping, the
/// common case. A backslash is left as it is: the escapes are for reading, not for parsing
/// back.
pub fn escape_for_display(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_for_display) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe_for_display(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` in double quotes for a message, escaped as [`escape_for_display`] does: what Rust's
/// `{:?}` would show for a plain name, without its debug escapes (`\"`, `\\`) for people to
/// decode. The quotes show where a name with spaces, or an empty one, begins and ends.
pub fn quoted(text: &str) -> String {
    format!("\"{}\"", escape_for_display(text))
}

/// A delay for people: "250 ms", "3 s", "1.5 s", "2 min 5 s", "3 h 20 min" (never Rust's
/// `3.000000001s`).
pub fn human_duration(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms} ms");
    }
    let secs = d.as_secs();
    if secs < 60 {
        let tenths = (ms % 1000) / 100;
        return if tenths == 0 {
            format!("{secs} s")
        } else {
            format!("{secs}.{tenths} s")
        };
    }
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m, s) {
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, _) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_and_unicode_is_kept() {
        assert!(matches!(
            escape_for_display("Zoë Ōtake 山田"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn forged_log_lines_escape_codes_and_bidi_overrides_are_made_visible() {
        assert_eq!(
            escape_for_display("Eng\n2026-01-01T00:00:00Z teamsync[1] apply end: exit code 0"),
            "Eng\\n2026-01-01T00:00:00Z teamsync[1] apply end: exit code 0"
        );
        assert_eq!(escape_for_display("\u{1b}[2Jx"), "\\u{1b}[2Jx");
        assert_eq!(escape_for_display("a\u{202e}moc"), "a\\u{202e}moc");
        assert_eq!(
            escape_for_display("a\r\tb\u{7f}\u{85}"),
            "a\\r\\tb\\u{7f}\\u{85}"
        );
        assert_eq!(escape_for_display("x\u{2028}y"), "x\\u{2028}y");
    }

    #[test]
    fn quoted_names_carry_no_debug_escapes() {
        assert_eq!(quoted("Sales"), "\"Sales\"");
        assert_eq!(quoted("O\"Brien \\ Co"), "\"O\"Brien \\ Co\"");
        assert_eq!(quoted("a\nb"), "\"a\\nb\"");
        assert_eq!(quoted(""), "\"\"");
    }

    #[test]
    fn durations_in_words() {
        use std::time::Duration;
        assert_eq!(human_duration(Duration::from_millis(250)), "250 ms");
        assert_eq!(human_duration(Duration::from_secs(3)), "3 s");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(human_duration(Duration::from_secs(125)), "2 min 5 s");
        assert_eq!(human_duration(Duration::from_secs(120)), "2 min");
        assert_eq!(
            human_duration(Duration::from_secs(3 * 3600 + 20 * 60)),
            "3 h 20 min"
        );
    }
}
