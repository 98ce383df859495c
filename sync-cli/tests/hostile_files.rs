//! Files an attacker prepared (issue 11, "Files, terminal and log"), through the real binary:
//! symlinks planted where teamsync writes (the refresh token's old fixed temp name, the log,
//! the lock) never receive anything, and `plan --out` on a full disk leaves the previous plan
//! intact.
#![allow(clippy::unwrap_used)]
#![cfg(unix)]

#[path = "reliability_support/mod.rs"]
mod support;

use std::io::Write as _;
use std::process::Stdio;

use support::*;

fn team() -> teamsync_dropbox_emulator::TeamSeed {
    seed(serde_json::json!({
        "members": [{"email": "admin@corp.test", "given_name": "Ad", "surname": "Min", "is_admin": true}]
    }))
}

fn directory(users: usize) -> String {
    serde_json::to_string(&simple_directory(users, 3)).unwrap()
}

#[test]
fn auth_never_writes_the_refresh_token_through_a_planted_symlink() {
    let env = Env::new(&team());
    env.file_config("people.json", &directory(3), "", "");
    let text = std::fs::read_to_string(env.path("teamsync.toml"))
        .unwrap()
        .replace(
            &format!("token = {{ env = \"{TOKEN_VAR}\" }}"),
            "refresh_token = { file = \"secrets/refresh-token\" }\napp_secret = { env = \"TEAMSYNC_TEST_APP_SECRET\" }",
        )
        .replace("[team]\n", &format!("[team]\napp_key = \"{}\"\n", env.emulator().app_key()));
    env.write_config(&text);
    std::fs::create_dir_all(env.path("secrets")).unwrap();
    // The attacker's file, and links at the name the old code wrote through and at the target.
    let stolen = env.path("attacker-owned");
    std::fs::write(&stolen, "").unwrap();
    std::os::unix::fs::symlink(&stolen, env.path("secrets/refresh-token.tmp-teamsync")).unwrap();
    let mut child = env
        .command(&["auth"])
        .env("TEAMSYNC_TEST_APP_SECRET", env.emulator().app_secret())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let code_text = format!("{}\n", env.emulator().authorization_code());
    child
        .stdin
        .take()
        .unwrap()
        .write_all(code_text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    show(&["auth"], &output);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(&stolen).unwrap(),
        "",
        "the planted link received the token"
    );
    let stored = env.path("secrets/refresh-token");
    assert!(
        !std::fs::symlink_metadata(&stored)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(!std::fs::read_to_string(&stored).unwrap().trim().is_empty());
    // No temp file of ours is left beside it.
    let leftovers: Vec<String> = std::fs::read_dir(env.path("secrets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_symlink_planted_at_the_log_or_the_lock_is_refused_and_its_target_untouched() {
    for planted in ["teamsync.log", "teamsync.lock"] {
        let env = Env::new(&team());
        env.file_config("people.json", &directory(3), "", "");
        let victim = env.path("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        std::os::unix::fs::symlink(&victim, env.path(planted)).unwrap();
        let output = env.run(&["plan"]);
        assert_ne!(code(&output), 0, "{planted}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("is a symbolic link"),
            "{planted}: {}",
            stderr(&output)
        );
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap(),
            "precious\n",
            "{planted}"
        );
        assert_eq!(env.write_calls(), 0);
    }
}

/// A real full disk: a 64 KiB tmpfs in a private mount namespace (`unshare -m`, as root). The
/// plan of 2,000 people is far larger than that, so writing it fails; the previous plan must
/// still be there, whole.
#[test]
fn plan_out_on_a_full_disk_keeps_the_previous_plan() {
    let env = Env::new(&team());
    env.file_config("people.json", &directory(2000), "", "");
    let probe = std::process::Command::new("unshare")
        .args(["-m", "true"])
        .output();
    if !matches!(&probe, Ok(o) if o.status.success()) {
        eprintln!(
            "SKIPPED plan_out_on_a_full_disk_keeps_the_previous_plan: `unshare -m` is not available here (needs root and util-linux)"
        );
        return;
    }
    let small = env.path("small");
    std::fs::create_dir_all(&small).unwrap();
    let previous = "{\"previous\": \"plan\"}\n";
    let binary = env!("CARGO_BIN_EXE_teamsync");
    let script = format!(
        "mount -t tmpfs -o size=64k tmpfs '{small}' && printf '%s' '{previous}' > '{small}/plan.json' && \
         '{binary}' --config '{config}' plan --out '{small}/plan.json'; code=$?; \
         cat '{small}/plan.json' > '{copy}'; ls -a '{small}' > '{listing}'; exit $code",
        small = small.display(),
        config = env.path("teamsync.toml").display(),
        copy = env.path("after.json").display(),
        listing = env.path("listing.txt").display(),
    );
    let output = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .env(TOKEN_VAR, env.emulator().access_token())
        .env("NO_PROXY", "127.0.0.1")
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    show(&["plan", "--out", "<64 KiB tmpfs>/plan.json"], &output);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot write"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(env.path("after.json")).unwrap(),
        previous
    );
    let listing = std::fs::read_to_string(env.path("listing.txt")).unwrap();
    assert!(
        !listing.contains(".tmp"),
        "a temp file was left behind: {listing}"
    );
}
