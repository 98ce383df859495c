//! `teamsync plan`/`apply` end to end: the Samba AD DC fixture (`scripts/fixtures/samba.sh`,
//! population in `scripts/fixtures/samba/population.py`) → the real binary → the Dropbox
//! emulator, started by the test on a free loopback port.
//!
//! Reads `TEAMSYNC_AD_URL`, `TEAMSYNC_AD_LDAPS_URL`, `TEAMSYNC_AD_CA`, `TEAMSYNC_AD_BIND_DN`,
//! `TEAMSYNC_AD_BIND_PW`, `TEAMSYNC_AD_BASE`, and fails when they are missing. By hand:
//!
//! ```text
//! scripts/fixtures/samba.sh start /tmp/ad && set -a && . /tmp/ad/samba.env && set +a
//! cargo nextest run -p teamsync-cli --test ad
//! ```
//!
//! The population test only reads the DC. The change test works on a subtree of its own,
//! `OU=TeamsyncCli` (outside `OU=Teamsync`, which sync-ldap's tests assert on), which it creates
//! when missing, resets to its initial state first, changes, and puts back; it never deletes,
//! so it leaves no tombstones for other tests to see.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use std::process::{Command, Output};

use ldap3::{Ldap, LdapConnAsync, Mod};
use teamsync_dropbox_emulator::{Emulator, EmulatorConfig, MemberStatus, TeamState};

struct Fixture {
    url: String,
    ldaps_url: String,
    ca: PathBuf,
    bind_dn: String,
    base: String,
}

fn var(name: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty()).unwrap_or_else(|| {
        panic!(
            "{name} is not set: these tests need the Samba AD DC fixture. Run scripts/test.sh, or \
             `scripts/fixtures/samba.sh start DIR && set -a && . DIR/samba.env && set +a` first"
        )
    })
}

fn fixture() -> Fixture {
    // The password is passed to teamsync through the environment (`{ env = "TEAMSYNC_AD_BIND_PW" }`).
    var("TEAMSYNC_AD_BIND_PW");
    Fixture {
        url: var("TEAMSYNC_AD_URL"),
        ldaps_url: var("TEAMSYNC_AD_LDAPS_URL"),
        ca: PathBuf::from(var("TEAMSYNC_AD_CA")),
        bind_dn: var("TEAMSYNC_AD_BIND_DN"),
        base: var("TEAMSYNC_AD_BASE"),
    }
}

const WRITE_ROUTES: &[&str] = &[
    "team/members/add_v2",
    "team/members/set_profile_v2",
    "team/members/suspend",
    "team/members/unsuspend",
    "team/members/remove",
    "team/members/recover",
    "team/groups/create",
    "team/groups/update",
    "team/groups/delete",
    "team/groups/members/add",
    "team/groups/members/remove",
];

struct Env {
    runtime: tokio::runtime::Runtime,
    emulator: Option<Emulator>,
    dir: tempfile::TempDir,
}

impl Env {
    fn new(added_members_active: bool) -> Env {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emulator = runtime
            .block_on(Emulator::start(EmulatorConfig {
                added_members_active,
                ..EmulatorConfig::default()
            }))
            .unwrap();
        Env {
            runtime,
            emulator: Some(emulator),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn emulator(&self) -> &Emulator {
        self.emulator.as_ref().unwrap()
    }

    fn write_config(&self, directory: &str) {
        let text = format!(
            "log_file = \"teamsync.log\"\nlock_file = \"teamsync.lock\"\n\n[directory]\n{directory}\n\
             [team]\nbase_url = \"{}\"\ntoken = {{ env = \"TEAMSYNC_TEST_TOKEN\" }}\n",
            self.emulator().base_url()
        );
        let path = self.dir.path().join("teamsync.toml");
        std::fs::write(&path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let output = Command::new(env!("CARGO_BIN_EXE_teamsync"))
            .args([
                "--config",
                self.dir.path().join("teamsync.toml").to_str().unwrap(),
            ])
            .args(args)
            .env("TEAMSYNC_TEST_TOKEN", self.emulator().access_token())
            .env("NO_PROXY", "127.0.0.1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let shown: String = stdout.chars().take(6000).collect();
        eprintln!(
            "teamsync {args:?} -> {:?}\n--- stdout (start)\n{shown}\n--- stderr\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn write_calls(&self) -> u64 {
        self.emulator()
            .call_counts()
            .iter()
            .filter(|(route, _)| WRITE_ROUTES.contains(&route.as_str()))
            .map(|(_, n)| n)
            .sum()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            self.runtime.block_on(emulator.shutdown());
        }
    }
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("killed by a signal")
}

/// Group name → sorted lower-case member emails.
fn groups(state: &TeamState) -> BTreeMap<String, Vec<String>> {
    state
        .groups
        .iter()
        .map(|g| {
            let mut emails: Vec<String> =
                g.members.iter().map(|m| m.email.to_lowercase()).collect();
            emails.sort();
            (g.name.clone(), emails)
        })
        .collect()
}

#[test]
fn population_is_mirrored_member_by_member_over_ldaps_then_a_second_apply_writes_nothing() {
    if fixture_missing(
        "population_is_mirrored_member_by_member_over_ldaps_then_a_second_apply_writes_nothing",
    ) {
        return;
    }
    let fx = fixture();
    let env = Env::new(false);
    env.write_config(&format!(
        "kind = \"ldap\"\nurl = \"{}\"\nca_file = \"{}\"\nprofile = \"active_directory\"\nbase_dn = \"{}\"\n\
         bind_dn = \"{}\"\nbind_password = {{ env = \"TEAMSYNC_AD_BIND_PW\" }}\nuser_roots = [\"CN=ts-root,OU=Groups,OU=Teamsync,{}\"]\n",
        fx.ldaps_url,
        fx.ca.display(),
        fx.base,
        fx.bind_dn,
        fx.base
    ));

    let check = env.run(&["check"]);
    assert_eq!(code(&check), 0);
    assert!(String::from_utf8_lossy(&check.stdout).contains("users in scope"));

    let output = env.run(&["apply"]);
    assert_eq!(code(&output), 0);
    let state = env.emulator().state();

    // Every member, by email: exactly the enabled, in-scope users with a usable, unique email.
    let mut expected: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (email, given, surname) in [
        ("plain.user@fx.test", "Plain", "User"),
        ("proxy.primary@fx.test", "Proxy", "User"),
        ("unicode.user@fx.test", "Zoë", "Łukasiewicz-Núñez 山田"),
        ("deep.user@fx.test", "Deep", "User"),
        ("cycle.a@fx.test", "Cycle", "A"),
        ("cycle.b@fx.test", "Cycle", "B"),
        ("holder.user@fx.test", "Holder", "User"),
        ("prim.user@fx.test", "Prim", "User"),
    ] {
        expected.insert(email.into(), (given.into(), surname.into()));
    }
    for i in 0..1600 {
        expected.insert(
            format!("big.{i:04}@fx.test"),
            ("Big".into(), format!("{i:04}")),
        );
    }
    let found: BTreeMap<String, (String, String)> = state
        .members
        .iter()
        .map(|m| {
            (
                m.email.to_lowercase(),
                (m.given_name.clone(), m.surname.clone()),
            )
        })
        .collect();
    let missing: Vec<&String> = expected
        .keys()
        .filter(|e| !found.contains_key(*e))
        .collect();
    let extra: Vec<&String> = found
        .keys()
        .filter(|e| !expected.contains_key(*e))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, unexpected {extra:?}"
    );
    assert_eq!(found, expected);
    let mut external_ids = HashSet::new();
    for member in &state.members {
        assert_eq!(member.status, MemberStatus::Invited, "{}", member.email);
        let external_id = member
            .external_id
            .as_deref()
            .unwrap_or_else(|| panic!("{} has no external id", member.email));
        let guid = external_id
            .strip_prefix("teamsync:")
            .unwrap_or_else(|| panic!("{external_id} is not managed"));
        assert_eq!(
            guid.len(),
            36,
            "{external_id}: an objectGUID in string form"
        );
        assert!(
            external_ids.insert(external_id.to_owned()),
            "{external_id} twice"
        );
    }

    // Groups: every group under the root, flattened (nesting and the cycle), members in scope.
    let groups = groups(&state);
    let one = |e: &str| vec![e.to_owned()];
    let cycle = vec!["cycle.a@fx.test".to_owned(), "cycle.b@fx.test".to_owned()];
    let mut big: Vec<String> = (0..1600).map(|i| format!("big.{i:04}@fx.test")).collect();
    big.sort();
    let expected_groups: BTreeMap<String, Vec<String>> = [
        ("ts-l1", one("deep.user@fx.test")),
        ("ts-l2", one("deep.user@fx.test")),
        ("ts-l3", one("deep.user@fx.test")),
        ("ts-cycle-a", cycle.clone()),
        ("ts-cycle-b", cycle),
        ("ts-big", big),
        ("ts-primary", one("prim.user@fx.test")),
        ("ts-computer-holder", one("holder.user@fx.test")),
    ]
    .into_iter()
    .map(|(n, m)| (n.to_owned(), m))
    .collect();
    assert_eq!(groups, expected_groups);

    // The plan reported what it skipped.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("dup@fx.test") || stdout.to_lowercase().contains("dup@fx.test"),
        "email collision reported"
    );

    env.emulator().reset_call_counts();
    let again = env.run(&["apply"]);
    assert_eq!(code(&again), 0);
    assert!(String::from_utf8_lossy(&again.stdout).contains("No changes"));
    assert_eq!(env.write_calls(), 0, "{:?}", env.emulator().call_counts());
}

// ---- the change test: a subtree of its own ----

const UAC_ENABLED: &str = "544"; // 0x220
const UAC_DISABLED: &str = "546"; // 0x222

struct CliTree {
    ou: String,
}

impl CliTree {
    fn new(fx: &Fixture) -> CliTree {
        CliTree {
            ou: format!("OU=TeamsyncCli,{}", fx.base),
        }
    }
    fn user_dn(&self, sam: &str) -> String {
        format!("CN={sam},{}", self.ou)
    }
    fn group_dn(&self, name: &str) -> String {
        format!("CN={name},{}", self.ou)
    }
}

async fn admin(fx: &Fixture) -> Ldap {
    let (conn, mut ldap) = LdapConnAsync::new(&fx.url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the AD fixture at {}: {e}", fx.url));
    ldap3::drive!(conn);
    ldap.simple_bind(&fx.bind_dn, &var("TEAMSYNC_AD_BIND_PW"))
        .await
        .and_then(|r| r.success())
        .expect("admin bind");
    ldap
}

fn set(values: &[&str]) -> HashSet<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

/// Adds an entry unless it exists (result 68).
async fn ensure(ldap: &mut Ldap, dn: &str, attrs: Vec<(String, HashSet<String>)>) {
    let result = ldap.add(dn, attrs).await.expect("add");
    assert!(result.rc == 0 || result.rc == 68, "adding {dn}: {result:?}");
}

async fn replace(ldap: &mut Ldap, dn: &str, attr: &str, values: &[&str]) {
    ldap.modify(dn, vec![Mod::Replace(attr.to_owned(), set(values))])
        .await
        .and_then(|r| r.success())
        .unwrap_or_else(|e| panic!("modify {dn} {attr}: {e}"));
}

const PEOPLE: [(&str, &str, &str); 4] = [
    ("cli.ann", "Ann", "Lee"),
    ("cli.ben", "Ben", "Ng"),
    ("cli.cat", "Cat", "Wu"),
    ("cli.dan", "Dan", "Ro"),
];

/// Creates the subtree when missing and puts every attribute the test changes back to its
/// initial value: cli-root ⊃ {cli-eng, cli-sales, cli.ann}; cli-eng = {ann, ben};
/// cli-sales = {cat, dan}; everyone enabled, original names.
async fn reset_tree(ldap: &mut Ldap, tree: &CliTree) {
    ensure(
        ldap,
        &tree.ou,
        vec![
            ("objectClass".into(), set(&["top", "organizationalUnit"])),
            ("ou".into(), set(&["TeamsyncCli"])),
        ],
    )
    .await;
    for (sam, given, surname) in PEOPLE {
        ensure(
            ldap,
            &tree.user_dn(sam),
            vec![
                (
                    "objectClass".into(),
                    set(&["top", "person", "organizationalPerson", "user"]),
                ),
                ("sAMAccountName".into(), set(&[sam])),
                ("userAccountControl".into(), set(&[UAC_ENABLED])),
                ("mail".into(), set(&[&format!("{sam}@fx.test")])),
                ("givenName".into(), set(&[given])),
                ("sn".into(), set(&[surname])),
            ],
        )
        .await;
        replace(ldap, &tree.user_dn(sam), "givenName", &[given]).await;
        replace(ldap, &tree.user_dn(sam), "sn", &[surname]).await;
        replace(
            ldap,
            &tree.user_dn(sam),
            "userAccountControl",
            &[UAC_ENABLED],
        )
        .await;
    }
    for name in ["cli-eng", "cli-sales", "cli-root"] {
        ensure(
            ldap,
            &tree.group_dn(name),
            vec![
                ("objectClass".into(), set(&["top", "group"])),
                ("sAMAccountName".into(), set(&[name])),
                ("groupType".into(), set(&["-2147483646"])),
            ],
        )
        .await;
    }
    replace(
        ldap,
        &tree.group_dn("cli-eng"),
        "member",
        &[&tree.user_dn("cli.ann"), &tree.user_dn("cli.ben")],
    )
    .await;
    replace(
        ldap,
        &tree.group_dn("cli-sales"),
        "member",
        &[&tree.user_dn("cli.cat"), &tree.user_dn("cli.dan")],
    )
    .await;
    replace(
        ldap,
        &tree.group_dn("cli-root"),
        "member",
        &[
            &tree.group_dn("cli-eng"),
            &tree.group_dn("cli-sales"),
            &tree.user_dn("cli.ann"),
        ],
    )
    .await;
}

/// `(verb, target)` of every operation of `plan --json`.
fn operations(output: &Output) -> BTreeSet<(String, String)> {
    let plan: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("plan --json prints JSON");
    let ops = plan["operations"].as_array().expect("operations");
    let mut found = BTreeSet::new();
    for op in ops {
        // The action is flattened into the operation, tagged by `kind`.
        let kind = op["kind"].as_str().expect("kind").to_owned();
        found.insert((kind, op["target"].as_str().unwrap_or_default().to_owned()));
    }
    found
}

#[test]
fn directory_changes_become_exactly_these_operations() {
    if fixture_missing("directory_changes_become_exactly_these_operations") {
        return;
    }
    let fx = fixture();
    let tree = CliTree::new(&fx);
    let env = Env::new(true);
    env.runtime.block_on(async {
        let mut ldap = admin(&fx).await;
        reset_tree(&mut ldap, &tree).await;
    });
    // StartTLS on ldap:// with the fixture's CA.
    env.write_config(&format!(
        "kind = \"ldap\"\nurl = \"{}\"\nstarttls = true\nca_file = \"{}\"\nprofile = \"active_directory\"\nbase_dn = \"{}\"\n\
         bind_dn = \"{}\"\nbind_password = {{ env = \"TEAMSYNC_AD_BIND_PW\" }}\nuser_roots = [\"{}\"]\n",
        fx.url,
        fx.ca.display(),
        tree.ou,
        fx.bind_dn,
        tree.group_dn("cli-root")
    ));

    let first = env.run(&["apply"]);
    assert_eq!(code(&first), 0);
    let state = env.emulator().state();
    let statuses: BTreeMap<String, MemberStatus> = state
        .members
        .iter()
        .map(|m| (m.email.clone(), m.status))
        .collect();
    assert_eq!(
        statuses,
        PEOPLE
            .iter()
            .map(|(sam, _, _)| (format!("{sam}@fx.test"), MemberStatus::Active))
            .collect::<BTreeMap<_, _>>()
    );
    let s = |v: &[&str]| v.iter().map(|e| (*e).to_owned()).collect::<Vec<String>>();
    assert_eq!(
        groups(&state),
        BTreeMap::from([
            (
                "cli-eng".to_owned(),
                s(&["cli.ann@fx.test", "cli.ben@fx.test"])
            ),
            (
                "cli-sales".to_owned(),
                s(&["cli.cat@fx.test", "cli.dan@fx.test"])
            ),
        ])
    );
    env.emulator().reset_call_counts();
    assert_eq!(code(&env.run(&["apply"])), 0);
    assert_eq!(env.write_calls(), 0);

    // The changes: dan disabled, ann out of cli-eng (still in scope through cli-root), ben
    // moved from cli-eng to cli-sales, cat renamed.
    env.runtime.block_on(async {
        let mut ldap = admin(&fx).await;
        replace(
            &mut ldap,
            &tree.user_dn("cli.dan"),
            "userAccountControl",
            &[UAC_DISABLED],
        )
        .await;
        replace(&mut ldap, &tree.group_dn("cli-eng"), "member", &[]).await;
        replace(
            &mut ldap,
            &tree.group_dn("cli-sales"),
            "member",
            &[
                &tree.user_dn("cli.cat"),
                &tree.user_dn("cli.dan"),
                &tree.user_dn("cli.ben"),
            ],
        )
        .await;
        replace(
            &mut ldap,
            &tree.user_dn("cli.cat"),
            "givenName",
            &["Catherine"],
        )
        .await;
        replace(&mut ldap, &tree.user_dn("cli.cat"), "sn", &["Wu-Lee"]).await;
    });
    let planned = env.run(&["plan", "--json"]);
    let result = std::panic::catch_unwind(|| {
        assert_eq!(code(&planned), 0);
        let expected: BTreeSet<(String, String)> = [
            ("update_profile", "cli.cat@fx.test"),
            ("add_group_member", "cli-sales: cli.ben@fx.test"),
            ("remove_group_member", "cli-eng: cli.ann@fx.test"),
            ("remove_group_member", "cli-eng: cli.ben@fx.test"),
            ("suspend", "cli.dan@fx.test"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        assert_eq!(operations(&planned), expected);

        env.emulator().reset_call_counts();
        assert_eq!(code(&env.run(&["apply"])), 0);
        let state = env.emulator().state();
        let cat = state.member_by_email("cli.cat@fx.test").unwrap();
        assert_eq!(
            (cat.given_name.as_str(), cat.surname.as_str()),
            ("Catherine", "Wu-Lee")
        );
        assert_eq!(
            state.member_by_email("cli.dan@fx.test").unwrap().status,
            MemberStatus::Suspended
        );
        let groups = groups(&state);
        assert_eq!(groups["cli-eng"], Vec::<String>::new());
        assert_eq!(
            groups["cli-sales"],
            s(&["cli.ben@fx.test", "cli.cat@fx.test", "cli.dan@fx.test"])
        );
        env.emulator().reset_call_counts();
        assert_eq!(code(&env.run(&["apply"])), 0);
        assert_eq!(env.write_calls(), 0);
    });
    // Put the directory back whatever happened.
    env.runtime.block_on(async {
        let mut ldap = admin(&fx).await;
        reset_tree(&mut ldap, &tree).await;
    });
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn exit_4_bind_refused() {
    if fixture_missing("exit_4_bind_refused") {
        return;
    }
    let fx = fixture();
    let env = Env::new(false);
    env.write_config(&format!(
        "kind = \"ldap\"\nurl = \"{}\"\nca_file = \"{}\"\nprofile = \"active_directory\"\nbase_dn = \"{}\"\n\
         bind_dn = \"{}\"\nbind_password = {{ file = \"wrong-password\" }}\nuser_roots = [\"CN=ts-root,OU=Groups,OU=Teamsync,{}\"]\n",
        fx.ldaps_url,
        fx.ca.display(),
        fx.base,
        fx.bind_dn,
        fx.base
    ));
    std::fs::write(env.dir.path().join("wrong-password"), "not-the-password").unwrap();
    let output = env.run(&["check"]);
    assert_eq!(
        code(&output),
        4,
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Without the Samba AD fixture (scripts/fixtures/samba.sh start DIR; load DIR/samba.env) a test prints one line and passes, so that plain `cargo test` works on a
/// contributor's machine; `scripts/test.sh` starts the fixture, so CI runs every test.
fn fixture_missing(test: &str) -> bool {
    let missing = std::env::var_os("TEAMSYNC_AD_URL").is_none_or(|v| v.is_empty());
    if missing {
        eprintln!(
            "SKIPPED {test}: TEAMSYNC_AD_URL is not set; start the Samba AD fixture (scripts/fixtures/samba.sh start DIR; load DIR/samba.env)"
        );
    }
    missing
}
