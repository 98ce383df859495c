//! `teamsync plan --report plan.html` through the real binary (the demo's directory as a file
//! source, the emulator seeded with the demo's drifted team), then the page in a real browser:
//! Debian's `chromium`, headless, takes a screenshot, dumps the DOM after the page's script has
//! run (counts, a known operation, the guard's verdict), and the filter box is driven through
//! the page's `#filter=` address hook, which fills the box and fires its `input` event.
//!
//! Without chromium on PATH (or `TEAMSYNC_CHROMIUM`) the browser half is skipped with one
//! printed line; `scripts/deps/chromium.sh` installs it and `scripts/test.sh` runs it.
//! `TEAMSYNC_UPDATE_SCREENSHOT=1` also copies the screenshot to `docs/plan-report.png`.
#![allow(clippy::unwrap_used)]

#[path = "reliability_support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

const DEMO_DIRECTORY: &str = include_str!("../demo/directory.json");
const DEMO_TEAM: &str = include_str!("../demo/team.json");

/// A group name that would run script, break out of an attribute or close a tag if it were not
/// escaped.
const HOSTILE_GROUP: &str = r#"<script>document.body.setAttribute('data-pwned','1')</script>"'><img src=x onerror=alert(1)>"#;

fn demo_env(directory: &str, policy: &str) -> Env {
    let env = Env::new(&seed(serde_json::from_str(DEMO_TEAM).unwrap()));
    env.file_config("directory.json", directory, "", policy);
    env
}

fn plan_report(env: &Env) -> (PathBuf, String) {
    let output = env.run(&["plan", "--report", "plan.html"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("plan report written to plan.html"),
        "{}",
        stderr(&output)
    );
    let path = env.path("plan.html");
    let html = std::fs::read_to_string(&path).unwrap();
    (path, html)
}

#[test]
fn the_report_holds_counts_operations_consequences_warnings_and_the_verdict() {
    let env = demo_env(DEMO_DIRECTORY, "");
    let (_, html) = plan_report(&env);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("id=\"count-total\">23<"), "{html}");
    assert!(html.contains("id=\"count-deprovision\">3<"));
    assert!(html.contains("<td class=\"target\">dan.brown@acme.example</td><td class=\"reason\">disabled in the directory (person E1004)</td><td class=\"consequence\">devices wiped</td>"));
    assert!(html.contains("data-kind=\"group_name_conflict\""));
    assert!(html.contains("data-verdict=\"within-limits\""));
    assert!(html.contains("<dt>Config</dt>"));
    // The plan itself is untouched by the report: the table still goes to stdout.
    let log = env.log();
    assert!(log.contains("plan report written to plan.html"), "{log}");
}

#[test]
fn the_report_escapes_directory_strings_and_names_the_guard_flag() {
    let mut directory: serde_json::Value = serde_json::from_str(DEMO_DIRECTORY).unwrap();
    directory["groups"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": HOSTILE_GROUP, "id": "grp-666", "groups": ["All Staff"]}));
    directory["people"][0]["groups"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!(HOSTILE_GROUP));
    let env = demo_env(
        &directory.to_string(),
        "[policy]\nmax_deprovision = { floor = 1, percent = 0.0 }\n",
    );
    let (path, html) = plan_report(&env);
    assert!(!html.contains("<script>document"), "unescaped markup");
    assert!(!html.contains("<img"), "unescaped markup");
    assert!(html.contains("&lt;script&gt;document.body.setAttribute(&#39;data-pwned&#39;,&#39;1&#39;)&lt;/script&gt;&quot;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("data-verdict=\"needs-permission\""));
    assert!(html.contains("<code>teamsync apply --allow-deprovision 3</code>"));

    let Some(browser) = Browser::find() else {
        return;
    };
    let dom = browser.dump_dom(&path, "");
    assert!(
        !dom.contains("data-pwned=\"1\""),
        "the hostile group name ran as script"
    );
    assert!(dom.contains("&lt;script&gt;document.body"), "{dom}");
    assert!(dom.contains("id=\"count-total\">25<"), "{dom}");
}

#[test]
fn the_report_renders_and_filters_in_a_real_browser() {
    let env = demo_env(DEMO_DIRECTORY, "");
    let (path, _) = plan_report(&env);
    let Some(browser) = Browser::find() else {
        return;
    };
    // 23 operations and 1 warning.
    let dom = browser.dump_dom(&path, "");
    assert!(dom.contains("data-rows-shown=\"24\""), "{dom}");
    assert!(dom.contains("24 of 24 rows shown"));
    assert!(dom.contains("id=\"count-total\">23<"));
    assert!(dom.contains("id=\"count-group_adds\">7<"));
    assert!(dom.contains(
        "<td class=\"verb\">suspend</td><td class=\"target\">dan.brown@acme.example</td>"
    ));
    assert!(dom.contains("Guard: within limits"));

    // Two words, both must match: only Dan's suspension is left, and the other phases hide.
    let dom = browser.dump_dom(&path, "#filter=suspend%20dan.brown");
    assert!(dom.contains("data-rows-shown=\"1\""), "{dom}");
    assert!(dom.contains("1 of 24 rows shown"));
    let visible_rows: Vec<&str> = dom
        .lines()
        .filter(|l| l.contains("class=\"row ") && !l.contains(" hidden\""))
        .collect();
    assert_eq!(visible_rows.len(), 1, "{visible_rows:#?}");
    assert!(visible_rows[0].contains("dan.brown@acme.example"));
    assert!(dom.contains("<tbody class=\"phase hidden\" data-phase=\"groups\">"));

    // A word of a warning finds the warning; nothing matches nothing.
    let dom = browser.dump_dom(&path, "#filter=MARKETING");
    assert!(dom.contains("data-rows-shown=\"1\""), "{dom}");
    let dom = browser.dump_dom(&path, "#filter=no-such-person");
    assert!(dom.contains("0 of 24 rows shown"), "{dom}");

    let shot = browser.screenshot(&path, env.dir.path());
    if std::env::var_os("TEAMSYNC_UPDATE_SCREENSHOT").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/plan-report.png");
        std::fs::copy(&shot, &docs).unwrap();
        eprintln!("screenshot copied to {}", docs.display());
    }
}

/// Headless chromium, run once per page.
struct Browser {
    program: PathBuf,
    profile: tempfile::TempDir,
}

impl Browser {
    /// `TEAMSYNC_CHROMIUM`, else `chromium` on PATH; `None` (after one printed line) without it.
    fn find() -> Option<Browser> {
        let program = std::env::var_os("TEAMSYNC_CHROMIUM")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("PATH").and_then(|paths| {
                    std::env::split_paths(&paths)
                        .map(|dir| dir.join("chromium"))
                        .find(|p| p.is_file())
                })
            });
        let Some(program) = program else {
            eprintln!(
                "SKIPPED: the browser half of this test: no chromium on PATH (install it with scripts/deps/chromium.sh)"
            );
            return None;
        };
        Some(Browser {
            program,
            profile: tempfile::tempdir().unwrap(),
        })
    }

    fn run(&self, args: &[String]) -> String {
        let mut child = Command::new(&self.program)
            .args([
                "--headless",
                // The page is ours and local; root (CI containers) cannot use the sandbox.
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", self.profile.path().display()))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A hung browser fails the test instead of hanging it (a safeguard, not a timing).
        let deadline = Instant::now() + Duration::from_secs(120);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("chromium did not finish within 120 s: {args:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "chromium {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn url(page: &Path, fragment: &str) -> String {
        format!(
            "file://{}{fragment}",
            page.canonicalize().unwrap().display()
        )
    }

    /// The DOM after the page's script ran.
    fn dump_dom(&self, page: &Path, fragment: &str) -> String {
        self.run(&[
            "--virtual-time-budget=5000".to_owned(),
            "--dump-dom".to_owned(),
            Browser::url(page, fragment),
        ])
    }

    /// A PNG of the page's first screen, checked to be one.
    fn screenshot(&self, page: &Path, dir: &Path) -> PathBuf {
        let shot = dir.join("plan-report.png");
        self.run(&[
            "--window-size=1280,1400".to_owned(),
            format!("--screenshot={}", shot.display()),
            Browser::url(page, ""),
        ]);
        let png = std::fs::read(&shot).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
        assert!(png.len() > 10_000, "a suspiciously small screenshot");
        shot
    }
}
