//! The plan report: one self-contained HTML page for reviewing a plan before it is applied
//! (`teamsync plan --report plan.html`, Python's `Plan.to_html()`).
//!
//! The page loads nothing: its style and its script are inline and its Content-Security-Policy
//! forbids every fetch, so it can be mailed, attached to a change ticket or opened offline.
//! Every string that comes from the directory or the team (names, emails, reasons, warnings,
//! context details) is HTML-escaped; none of them is ever placed inside the script.
//!
//! [`plan_html`] is a pure function of the plan and a [`ReportContext`] (which the caller fills
//! with what the plan does not know, such as when and from which config it was made), so the
//! same plan always gives the same page.

use std::fmt::Write as _;

use teamsync_core::{Action, DesiredState, Operation, Phase, Plan, WarningKind};

/// What a report shows besides the plan: a title and a few labelled details (the config file,
/// the time the plan was made, the team), in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReportContext {
    /// The page's heading; "teamsync plan" when empty.
    pub title: String,
    /// Labelled details shown under the heading, e.g. `("Config", "/etc/teamsync.toml")`.
    pub details: Vec<(String, String)>,
}

impl ReportContext {
    /// No title of its own, no details.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the heading.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Adds a labelled detail.
    pub fn with_detail(mut self, label: impl Into<String>, value: impl Into<String>) -> Self {
        self.details.push((label.into(), value.into()));
        self
    }
}

/// The guard's finding on a plan over its limits, for people: "suspends 39 of 200 managed
/// members (limit 25)", "removes 30 group memberships (limit 25)", or both joined by "and".
/// `None` when the plan is within the limits and applies without permission.
pub fn guard_finding(plan: &Plan) -> Option<String> {
    let g = &plan.guard;
    if !g.needs_permission() {
        return None;
    }
    let mut parts = Vec::new();
    if g.deprovisions > g.deprovision_limit {
        let suspends = plan
            .operations
            .iter()
            .filter(|op| matches!(op.action, Action::Suspend { .. }))
            .count();
        let verb = match (suspends, g.deprovisions - suspends) {
            (_, 0) => "suspends",
            (0, _) => "removes",
            _ => "suspends or removes",
        };
        parts.push(format!(
            "{verb} {} of {} managed members (limit {})",
            g.deprovisions, plan.stats.managed_members, g.deprovision_limit
        ));
    }
    if g.group_member_removals > g.group_member_removal_limit {
        parts.push(format!(
            "removes {} group memberships (limit {})",
            g.group_member_removals, g.group_member_removal_limit
        ));
    }
    Some(parts.join(" and "))
}

/// The smallest `N` for which permission "up to N" (`--allow-deprovision N`,
/// `Permission::UpTo(N)`) lets this plan apply; `None` when it needs no permission.
pub fn permission_needed(plan: &Plan) -> Option<usize> {
    let g = &plan.guard;
    if !g.needs_permission() {
        return None;
    }
    let over = |count: usize, limit: usize| if count > limit { count } else { 0 };
    Some(
        over(g.deprovisions, g.deprovision_limit)
            .max(over(g.group_member_removals, g.group_member_removal_limit)),
    )
}

/// Directory users a run will not sync because of their email, by cause (`teamsync check`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedUsers {
    /// Entries without any email.
    pub no_email: usize,
    /// Entries whose email Dropbox would refuse.
    pub invalid_email: usize,
    /// Users sharing one email with another user (none of them is invited).
    pub shared_email: usize,
}

impl SkippedUsers {
    /// All of them.
    pub fn total(&self) -> usize {
        self.no_email + self.invalid_email + self.shared_email
    }

    /// "3 users will be skipped: 1 without an email, 2 sharing an email" (or that none will).
    pub fn sentence(&self) -> String {
        if self.total() == 0 {
            return "no user is skipped for its email".to_owned();
        }
        let mut causes = Vec::new();
        if self.no_email > 0 {
            causes.push(format!("{} without an email", self.no_email));
        }
        if self.invalid_email > 0 {
            causes.push(format!(
                "{} with an email Dropbox refuses",
                self.invalid_email
            ));
        }
        if self.shared_email > 0 {
            causes.push(format!(
                "{} sharing an email with another user",
                self.shared_email
            ));
        }
        format!(
            "{} will be skipped: {} (`teamsync plan` names them)",
            count(self.total(), "user"),
            causes.join(", ")
        )
    }
}

/// Counts the users `plan` (made from `desired`) skips for their email, from its warnings:
/// entries the source could not map for want of a usable email, invalid emails, and the users
/// behind each shared email.
pub fn skipped_users(desired: &DesiredState, plan: &Plan) -> SkippedUsers {
    let mut skipped = SkippedUsers::default();
    for w in &plan.warnings {
        match w.kind {
            WarningKind::SourceIssue if w.message.starts_with("no email") => skipped.no_email += 1,
            WarningKind::SourceIssue if w.message.contains("unusable email") => {
                skipped.invalid_email += 1;
            }
            WarningKind::InvalidEmail if w.message.contains("empty") => skipped.no_email += 1,
            WarningKind::InvalidEmail => skipped.invalid_email += 1,
            WarningKind::EmailCollision => {
                let shared = w.subject.trim().to_lowercase();
                skipped.shared_email += desired
                    .users
                    .iter()
                    .filter(|u| u.email.trim().to_lowercase() == shared)
                    .count();
            }
            _ => {}
        }
    }
    skipped
}

/// The report page for `plan`.
pub fn plan_html(plan: &Plan, context: &ReportContext) -> String {
    let mut page = String::with_capacity(8 * 1024 + plan.operations.len() * 400);
    let title = if context.title.is_empty() {
        "teamsync plan"
    } else {
        context.title.as_str()
    };
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    // Nothing may be fetched: no images, fonts, frames or connections; only the inline parts.
    page.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n",
    );
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(page, "<title>{}</title>", escape(title));
    let _ = writeln!(page, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(page, "<header>\n<h1>{}</h1>", escape(title));
    if !context.details.is_empty() {
        page.push_str("<dl class=\"details\">\n");
        for (label, value) in &context.details {
            let _ = writeln!(page, "<dt>{}</dt><dd>{}</dd>", escape(label), escape(value));
        }
        page.push_str("</dl>\n");
    }
    page.push_str("</header>\n<main>\n");
    stats(&mut page, plan);
    page.push_str("<div class=\"top\">\n");
    summary(&mut page, plan);
    guard(&mut page, plan);
    page.push_str("</div>\n");
    filter_box(&mut page, plan);
    operations(&mut page, plan);
    warnings(&mut page, plan);
    page.push_str("</main>\n");
    let _ = writeln!(page, "<script>{SCRIPT}</script>\n</body>\n</html>");
    page
}

fn stats(page: &mut String, plan: &Plan) {
    let s = &plan.stats;
    page.push_str("<p class=\"stats\">");
    let _ = write!(
        page,
        "Directory: <b id=\"users-in-scope\">{}</b> in scope ({} enabled), {} synced. Team: {}, {}.",
        count(s.users_in_scope, "user"),
        s.users_enabled,
        count(s.groups_in_scope, "group"),
        count(s.managed_members, "managed member"),
        count(s.managed_groups, "managed group")
    );
    let verbs: Vec<String> = plan
        .counts()
        .iter()
        .map(|(verb, n)| format!("{n} {}", escape(verb)))
        .collect();
    let _ = write!(
        page,
        "<br>Plan: {}{}, {}.",
        count(plan.operations.len(), "operation"),
        if verbs.is_empty() {
            String::new()
        } else {
            format!(" ({})", verbs.join(", "))
        },
        count(plan.warnings.len(), "warning")
    );
    page.push_str("</p>\n");
}

fn summary(page: &mut String, plan: &Plan) {
    page.push_str("<section id=\"summary\">\n<h2>Operations by phase</h2>\n");
    page.push_str("<table class=\"counts\">\n<thead><tr><th>phase</th><th>operations</th></tr></thead>\n<tbody>\n");
    for phase in Phase::ALL {
        let n = plan
            .operations
            .iter()
            .filter(|op| op.phase == phase)
            .count();
        let _ = writeln!(
            page,
            "<tr{}><td>{}</td><td class=\"n\" id=\"count-{}\">{n}</td></tr>",
            if n == 0 { " class=\"zero\"" } else { "" },
            escape(phase.title()),
            phase_key(phase)
        );
    }
    let _ = writeln!(
        page,
        "</tbody>\n<tfoot><tr><th>all operations</th><th class=\"n\" id=\"count-total\">{}</th></tr>\
         <tr><th>warnings and conflicts</th><th class=\"n\" id=\"count-warnings\">{}</th></tr></tfoot>\n</table>",
        plan.operations.len(),
        plan.warnings.len()
    );
    page.push_str("</section>\n");
}

fn guard(page: &mut String, plan: &Plan) {
    let g = &plan.guard;
    let limits = format!(
        "{} (limit {}), {} (limit {})",
        count(g.deprovisions, "suspension or removal"),
        g.deprovision_limit,
        count(g.group_member_removals, "group member removal"),
        g.group_member_removal_limit
    );
    match (guard_finding(plan), permission_needed(plan)) {
        (Some(finding), Some(n)) => {
            let _ = writeln!(
                page,
                "<section id=\"guard\" class=\"guard refused\" data-verdict=\"needs-permission\">\n\
                 <h2>Guard: needs permission</h2>\n<p>The plan {}. <code>teamsync apply</code> refuses it \
                 unless you allow it: <code>teamsync apply --allow-deprovision {n}</code> allows exactly \
                 this, <code>--force</code> allows anything.</p>\n<p class=\"limits\">{}</p>\n</section>",
                escape(&finding),
                escape(&limits)
            );
        }
        _ => {
            let _ = writeln!(
                page,
                "<section id=\"guard\" class=\"guard ok\" data-verdict=\"within-limits\">\n\
                 <h2>Guard: within limits</h2>\n<p>The plan applies without explicit permission.</p>\n\
                 <p class=\"limits\">{}</p>\n</section>",
                escape(&limits)
            );
        }
    }
}

fn filter_box(page: &mut String, plan: &Plan) {
    let rows = plan.operations.len() + plan.warnings.len();
    let _ = writeln!(
        page,
        "<section id=\"filter-section\">\n<label for=\"filter\">Filter</label> \
         <input id=\"filter\" type=\"search\" autocomplete=\"off\" spellcheck=\"false\" \
         placeholder=\"an email, a group, a verb (suspend), a word of a reason…\"> \
         <span id=\"shown\" aria-live=\"polite\">{rows} of {rows} rows shown</span>\n\
         <noscript><p>The filter needs JavaScript; every row is shown.</p></noscript>\n</section>"
    );
}

fn operations(page: &mut String, plan: &Plan) {
    page.push_str("<section id=\"operations\">\n<h2>Operations</h2>\n");
    if plan.operations.is_empty() {
        page.push_str(
            "<p class=\"empty\">No changes: the team matches the directory.</p>\n</section>\n",
        );
        return;
    }
    page.push_str(
        "<table class=\"ops\">\n<thead><tr><th>#</th><th></th><th>action</th><th>target</th>\
         <th>reason</th><th>consequence</th></tr></thead>\n",
    );
    for phase in Phase::ALL {
        let ops: Vec<(usize, &Operation)> = plan
            .operations
            .iter()
            .enumerate()
            .filter(|(_, op)| op.phase == phase)
            .collect();
        if ops.is_empty() {
            continue;
        }
        let key = phase_key(phase);
        let _ = writeln!(
            page,
            "<tbody class=\"phase\" data-phase=\"{key}\">\n<tr class=\"phase-head\"><th colspan=\"6\">{} \
             (<span class=\"phase-count\">{}</span>)</th></tr>",
            escape(phase.title()),
            ops.len()
        );
        for (index, op) in ops {
            let sign = op.action.sign();
            let class = match sign {
                '+' => "add",
                '-' => "take",
                _ => "change",
            };
            let _ = writeln!(
                page,
                "<tr class=\"row op {class}\" data-index=\"{index}\" data-action=\"{}\">\
                 <td class=\"n\">{}</td><td class=\"sign\">{}</td><td class=\"verb\">{}</td>\
                 <td class=\"target\">{}</td><td class=\"reason\">{}</td><td class=\"consequence\">{}</td></tr>",
                escape(&op.action.verb().replace(' ', "-")),
                index + 1,
                escape(&sign.to_string()),
                escape(op.action.verb()),
                escape(&op.target),
                escape(&op.reason),
                escape(&op.consequence().unwrap_or_default())
            );
        }
        page.push_str("</tbody>\n");
    }
    page.push_str("</table>\n</section>\n");
}

fn warnings(page: &mut String, plan: &Plan) {
    page.push_str("<section id=\"warnings\">\n<h2>Warnings and conflicts</h2>\n");
    if plan.warnings.is_empty() {
        page.push_str("<p class=\"empty\">None.</p>\n</section>\n");
        return;
    }
    page.push_str(
        "<table class=\"warnings\">\n<thead><tr><th>kind</th><th>subject</th><th>what happens</th></tr></thead>\n<tbody>\n",
    );
    for w in &plan.warnings {
        let kind = warning_key(w.kind);
        let _ = writeln!(
            page,
            "<tr class=\"row warning\" data-kind=\"{kind}\"><td class=\"kind\">{}</td>\
             <td class=\"subject\">{}</td><td class=\"message\">{}</td></tr>",
            escape(&kind.replace('_', " ")),
            escape(&w.subject),
            escape(&w.message)
        );
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
}

/// "1 user", "2 users"; a noun of several words takes the plural on its last word only when
/// it is not "X or Y" (then on both).
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        return format!("1 {noun}");
    }
    let plural = noun
        .split(" or ")
        .map(|part| format!("{part}s"))
        .collect::<Vec<_>>()
        .join(" or ");
    format!("{n} {plural}")
}

/// The phase's name in the JSON plan (`group_adds`), used in ids and data attributes.
fn phase_key(phase: Phase) -> String {
    serde_json::to_value(phase)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The warning kind's name in the JSON plan (`email_collision`).
fn warning_key(kind: WarningKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Text made safe for HTML content and for double- or single-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newline would only confuse a reader (and
            // a NUL is a parse error); show them as the replacement character.
            c if c.is_control() && c != '\t' && c != '\n' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #59636e; --line: #d1d9e0;
  --add: #1a7f37; --take: #cf222e; --change: #9a6700; --ok-bg: #dafbe1; --bad-bg: #ffebe9; --head: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #3d444d;
  --add: #3fb950; --take: #f85149; --change: #d29922; --ok-bg: #12261e; --bad-bg: #2d1214; --head: #151b23; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 78rem; padding: 1.5rem; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--fg); background: var(--bg); }
h1 { margin: 0 0 .5rem; font-size: 1.6rem; } h2 { font-size: 1.15rem; margin: 1.6rem 0 .6rem; }
dl.details { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: 0; color: var(--muted); }
dl.details dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid var(--line); }
thead th { background: var(--head); font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; width: 3rem; }
table.counts { width: auto; min-width: 22rem; } table.counts td, table.counts th { padding: .15rem .5rem; } table.counts tr.zero td { color: var(--muted); }
tr.phase-head th { background: var(--head); padding-top: .7rem; }
td.sign { font-family: ui-monospace, monospace; font-weight: 700; width: 1.2rem; }
tr.add td.sign { color: var(--add); } tr.take td.sign { color: var(--take); } tr.change td.sign { color: var(--change); }
td.verb { white-space: nowrap; } td.target, td.subject { overflow-wrap: anywhere; font-family: ui-monospace, monospace; font-size: .9em; }
td.consequence { color: var(--take); } td.reason, td.message { color: var(--fg); }
td.kind { white-space: nowrap; color: var(--change); }
p.stats { margin: 1.2rem 0 0; font-size: 1.05em; }
.top { display: grid; grid-template-columns: max-content minmax(18rem, 40rem); gap: 0 2rem; align-items: start; }
@media (max-width: 50rem) { .top { grid-template-columns: 1fr; } }
.guard { border: 1px solid var(--line); border-radius: 6px; padding: .2rem 1rem; margin-top: 1.6rem; }
.guard.ok { background: var(--ok-bg); } .guard.refused { background: var(--bad-bg); border-color: var(--take); }
.guard h2 { margin: .6rem 0 .3rem; } .limits { color: var(--muted); font-size: .9em; }
#filter-section { position: sticky; top: 0; background: var(--bg); padding: .8rem 0; border-bottom: 1px solid var(--line); margin-top: 1.2rem; }
#filter { width: min(32rem, 70vw); padding: .35rem .5rem; font: inherit; border: 1px solid var(--line); border-radius: 6px;
  background: var(--bg); color: var(--fg); }
#shown { color: var(--muted); margin-left: .6rem; }
.empty { color: var(--muted); }
tr.hidden, tbody.hidden { display: none; }
code { font-family: ui-monospace, monospace; font-size: .92em; }
@media print { #filter-section { display: none; } }
"#;

/// The filter: every whitespace-separated word of the box must occur (case-insensitively) in a
/// row's text; phase headings whose rows are all hidden hide too. `#filter=WORDS` in the page's
/// address fills the box and fires its `input` event, as typing does (a link to a filtered
/// view; also how the browser test drives the box).
const SCRIPT: &str = r##"
(function () {
  "use strict";
  var box = document.getElementById("filter");
  var shown = document.getElementById("shown");
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.row"));
  var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
  function apply() {
    var words = box.value.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 0; });
    var visible = 0;
    rows.forEach(function (row, i) {
      var hit = words.every(function (w) { return texts[i].indexOf(w) !== -1; });
      row.classList.toggle("hidden", !hit);
      if (hit) { visible += 1; }
    });
    document.querySelectorAll("tbody.phase").forEach(function (body) {
      body.classList.toggle("hidden", body.querySelector("tr.row:not(.hidden)") === null);
    });
    shown.textContent = visible + " of " + rows.length + " rows shown";
    document.body.setAttribute("data-rows-shown", String(visible));
  }
  box.addEventListener("input", apply);
  var hash = window.location.hash;
  if (hash.indexOf("#filter=") === 0) {
    try { box.value = decodeURIComponent(hash.slice(8)); } catch (e) { box.value = hash.slice(8); }
    box.dispatchEvent(new Event("input"));
  } else {
    apply();
  }
}());
"##;

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
