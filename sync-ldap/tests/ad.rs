//! sync-ldap against a real Active Directory: the Samba AD DC of `scripts/fixtures/samba.sh`,
//! loaded with `scripts/fixtures/samba/population.py` (read its docstring for the shape).
//!
//! The tests read the fixture from the environment (`TEAMSYNC_AD_URL`, `TEAMSYNC_AD_BIND_DN`,
//! `TEAMSYNC_AD_BIND_PW`, `TEAMSYNC_AD_BASE`, and `TEAMSYNC_AD_LDAPS_URL` / `TEAMSYNC_AD_CA` for
//! TLS) and fail when it is missing. `scripts/test.sh` starts the fixture and exports them; by
//! hand:
//!
//! ```text
//! scripts/fixtures/samba.sh start /tmp/ad && set -a && . /tmp/ad/samba.env && set +a
//! cargo nextest run -p teamsync-ldap --test ad
//! ```
//!
//! Expected ids are never computed by the test: they come from Samba itself, through the
//! extended-DN control (`<GUID=…>` in the DN, in AD's own string form), so the adapter's GUID
//! conversion is checked against the server rather than against a copy of itself.
//!
//! Tests run in parallel (nextest: one process each). The only ones that change the DC (rename,
//! move) use users under roots of their own and put them back before asserting.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use ldap3::controls::RawControl;
use ldap3::{Ldap, LdapConnAsync, Scope, SearchEntry};
use teamsync_core::{DesiredState, Directory, DirectoryGroup, DirectoryUser, SourceId};
use teamsync_ldap::{LdapConfig, LdapDirectory, Profile, Secret};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The extended-DN control; value `SEQUENCE { INTEGER 1 }` asks for the string GUID/SID forms.
const EXTENDED_DN_OID: &str = "1.2.840.113556.1.4.529";
const EXTENDED_DN_STRING_FORM: [u8; 5] = [0x30, 0x03, 0x02, 0x01, 0x01];
/// The show-deleted control.
const SHOW_DELETED_OID: &str = "1.2.840.113556.1.4.417";

/// Size of ts-big in the population: over AD's MaxValRange of 1,500.
const BIG_GROUP_SIZE: usize = 1600;

/// The fixture as the environment describes it.
struct Fixture {
    url: String,
    ldaps_url: Option<String>,
    ca: Option<PathBuf>,
    bind_dn: String,
    bind_pw: String,
    base: String,
}

fn fixture() -> Fixture {
    let var = |name: &str| {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty()).unwrap_or_else(|| {
            panic!(
                "{name} is not set: the AD tests need the Samba AD DC fixture. Run scripts/test.sh, or \
                 `scripts/fixtures/samba.sh start DIR && set -a && . DIR/samba.env && set +a` first"
            )
        })
    };
    Fixture {
        url: var("TEAMSYNC_AD_URL"),
        ldaps_url: std::env::var("TEAMSYNC_AD_LDAPS_URL")
            .ok()
            .filter(|v| !v.is_empty()),
        ca: std::env::var("TEAMSYNC_AD_CA")
            .ok()
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
        bind_dn: var("TEAMSYNC_AD_BIND_DN"),
        bind_pw: var("TEAMSYNC_AD_BIND_PW"),
        base: var("TEAMSYNC_AD_BASE"),
    }
}

impl Fixture {
    fn group_dn(&self, name: &str) -> String {
        format!("CN={name},OU=Groups,OU=Teamsync,{}", self.base)
    }

    fn people_ou(&self) -> String {
        format!("OU=People,OU=Teamsync,{}", self.base)
    }

    fn teamsync_ou(&self) -> String {
        format!("OU=Teamsync,{}", self.base)
    }

    /// Adapter settings for the fixture's plain ldap:// (on loopback only, hence the clear-text
    /// bind is allowed) with one user root.
    fn config(&self, user_root: &str) -> LdapConfig {
        let mut config = LdapConfig::new(
            self.url.clone(),
            self.base.clone(),
            Profile::active_directory(),
        )
        .with_bind(self.bind_dn.clone(), Secret::new(self.bind_pw.clone()));
        config.allow_plaintext_bind = true;
        config.user_root_dns = vec![self.group_dn(user_root)];
        config
    }

    /// A connection of the test's own, bound as the fixture's administrator.
    async fn admin(&self) -> Ldap {
        let (conn, mut ldap) = LdapConnAsync::new(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach the AD fixture at {}: {e}", self.url));
        ldap3::drive!(conn);
        ldap.simple_bind(&self.bind_dn, &self.bind_pw)
            .await
            .and_then(|r| r.success())
            .unwrap_or_else(|e| panic!("bind as {} failed: {e}", self.bind_dn));
        ldap
    }
}

async fn snapshot(config: LdapConfig) -> DesiredState {
    LdapDirectory::new(config)
        .expect("valid settings")
        .snapshot()
        .await
        .unwrap_or_else(|e| panic!("snapshot of the AD fixture failed: {e:?}"))
}

/// An object as Samba names it: its GUID in AD's string form and its DN.
#[derive(Debug, Clone)]
struct Object {
    guid: SourceId,
    dn: String,
}

/// Splits an extended DN `<GUID=…>;<SID=…>;CN=…` into the GUID and the plain DN.
fn parse_extended_dn(extended: &str) -> Object {
    let mut rest = extended;
    let mut guid = None;
    while let Some(stripped) = rest.strip_prefix('<') {
        let (component, after) = stripped
            .split_once('>')
            .expect("extended DN component closes");
        if let Some(g) = component.strip_prefix("GUID=") {
            guid = Some(g.to_ascii_lowercase());
        }
        rest = after.strip_prefix(';').unwrap_or(after);
    }
    let guid = guid.unwrap_or_else(|| {
        panic!("no <GUID=…> in {extended:?}: is the extended-DN control honoured?")
    });
    Object {
        guid: SourceId::new(guid).expect("a GUID is a valid id"),
        dn: rest.to_owned(),
    }
}

/// Every entry matching `filter` under `base`, by lower-cased sAMAccountName, with Samba's own
/// GUID string and DN. `show_deleted` adds the show-deleted control (for tombstones).
async fn lookup(
    ldap: &mut Ldap,
    base: &str,
    filter: &str,
    show_deleted: bool,
) -> HashMap<String, Object> {
    let mut controls = vec![RawControl {
        ctype: EXTENDED_DN_OID.into(),
        crit: true,
        val: Some(EXTENDED_DN_STRING_FORM.to_vec()),
    }];
    if show_deleted {
        controls.push(RawControl {
            ctype: SHOW_DELETED_OID.into(),
            crit: true,
            val: None,
        });
    }
    let (entries, _) = ldap
        .with_controls(controls)
        .search(base, Scope::Subtree, filter, vec!["sAMAccountName"])
        .await
        .and_then(|r| r.success())
        .unwrap_or_else(|e| panic!("lookup of {filter} under {base} failed: {e}"));
    entries
        .into_iter()
        .filter(|e| !e.is_ref() && !e.is_intermediate())
        .map(SearchEntry::construct)
        .map(|e| {
            let sam = e
                .attrs
                .get("sAMAccountName")
                .and_then(|v| v.first())
                .cloned()
                .unwrap_or_default();
            (sam.to_ascii_lowercase(), parse_extended_dn(&e.dn))
        })
        .collect()
}

/// The population's users and groups as Samba names them.
struct Population {
    users: HashMap<String, Object>,
    groups: HashMap<String, Object>,
}

impl Population {
    async fn read(fx: &Fixture) -> Self {
        let mut ldap = fx.admin().await;
        let users = lookup(
            &mut ldap,
            &fx.teamsync_ou(),
            "(&(objectCategory=person)(objectClass=user))",
            false,
        )
        .await;
        let groups = lookup(&mut ldap, &fx.teamsync_ou(), "(objectClass=group)", false).await;
        let _ = ldap.unbind().await;
        Self { users, groups }
    }

    fn user(&self, sam: &str) -> &Object {
        self.users
            .get(sam)
            .unwrap_or_else(|| panic!("user {sam} is not in the fixture"))
    }

    fn group(&self, name: &str) -> &Object {
        self.groups
            .get(name)
            .unwrap_or_else(|| panic!("group {name} is not in the fixture"))
    }
}

/// One in-scope user of the population: sAMAccountName, email, first and last name, enabled.
struct UserSpec {
    sam: String,
    email: String,
    given: String,
    surname: String,
    enabled: bool,
}

fn spec(sam: &str, email: &str, given: &str, surname: &str, enabled: bool) -> UserSpec {
    UserSpec {
        sam: sam.into(),
        email: email.into(),
        given: given.into(),
        surname: surname.into(),
        enabled,
    }
}

fn big_user(i: usize) -> String {
    format!("big.{i:04}")
}

/// The users reachable from ts-root, with what the adapter must make of them.
fn root_user_specs() -> Vec<UserSpec> {
    let mut specs = vec![
        spec("plain.user", "plain.user@fx.test", "Plain", "User", true),
        // No mail and no proxyAddresses: an empty email (and an issue).
        spec("nomail.user", "", "Nomail", "User", true),
        // proxyAddresses only: the primary `SMTP:` value, lower-cased; aliases ignored.
        spec("proxy.user", "proxy.primary@fx.test", "Proxy", "User", true),
        // Duplicate mail: the adapter reports both as read (the planner judges collisions).
        spec("dup.one", "dup@fx.test", "Dup", "One", true),
        spec("dup.two", "dup@fx.test", "Dup", "Two", true),
        // userAccountControl bit 2.
        spec(
            "disabled.user",
            "disabled.user@fx.test",
            "Disabled",
            "User",
            false,
        ),
        // accountExpires in 2020.
        spec(
            "expired.user",
            "expired.user@fx.test",
            "Expired",
            "User",
            false,
        ),
        spec(
            "unicode.user",
            "unicode.user@fx.test",
            "Zoë",
            "Łukasiewicz-Núñez 山田",
            true,
        ),
        // Only through ts-l1 -> ts-l2 -> ts-l3.
        spec("deep.user", "deep.user@fx.test", "Deep", "User", true),
        spec("cycle.a", "cycle.a@fx.test", "Cycle", "A", true),
        spec("cycle.b", "cycle.b@fx.test", "Cycle", "B", true),
        spec("holder.user", "holder.user@fx.test", "Holder", "User", true),
        // Only through primaryGroupID = ts-primary's RID.
        spec("prim.user", "prim.user@fx.test", "Prim", "User", true),
    ];
    for i in 0..BIG_GROUP_SIZE {
        let sam = big_user(i);
        specs.push(UserSpec {
            email: format!("{sam}@fx.test"),
            given: "Big".into(),
            surname: format!("{i:04}"),
            enabled: true,
            sam,
        });
    }
    specs
}

/// The exact state a snapshot rooted at ts-root must give, built from the population's shape
/// and the ids and DNs Samba reports.
fn expected_root_state(dir: &Population, deleted: Vec<SourceId>) -> DesiredState {
    let uid = |sam: &str| dir.user(sam).guid.clone();
    let gid = |name: &str| dir.group(name).guid.clone();
    let users: Vec<DirectoryUser> = root_user_specs()
        .into_iter()
        .map(|s| {
            let object = dir.user(&s.sam);
            DirectoryUser {
                id: object.guid.clone(),
                email: s.email,
                given_name: s.given,
                surname: s.surname,
                enabled: s.enabled,
                locator: Some(object.dn.clone()),
                attributes: BTreeMap::from([("sAMAccountName".to_owned(), s.sam.clone())]),
            }
        })
        .collect();
    let group = |name: &str, members: Vec<SourceId>| DirectoryGroup {
        id: gid(name),
        name: name.to_owned(),
        members,
        locator: Some(dir.group(name).dn.clone()),
    };
    let direct = [
        "plain.user",
        "nomail.user",
        "proxy.user",
        "dup.one",
        "dup.two",
        "disabled.user",
        "expired.user",
        "unicode.user",
    ];
    let mut root_members: Vec<SourceId> = direct.iter().map(|s| uid(s)).collect();
    root_members.extend(
        [
            "ts-l1",
            "ts-cycle-a",
            "ts-big",
            "ts-primary",
            "ts-computer-holder",
        ]
        .map(gid),
    );
    let groups = vec![
        group("ts-root", root_members),
        group("ts-l1", vec![gid("ts-l2")]),
        group("ts-l2", vec![gid("ts-l3")]),
        group("ts-l3", vec![uid("deep.user")]),
        group("ts-cycle-a", vec![uid("cycle.a"), gid("ts-cycle-b")]),
        group("ts-cycle-b", vec![uid("cycle.b"), gid("ts-cycle-a")]),
        group(
            "ts-big",
            (0..BIG_GROUP_SIZE).map(|i| uid(&big_user(i))).collect(),
        ),
        group("ts-primary", vec![uid("prim.user")]),
        // The computer account TS-WS01$ is a member too, and must not show.
        group("ts-computer-holder", vec![uid("holder.user")]),
    ];
    let mut state = DesiredState {
        user_roots: vec![gid("ts-root")],
        group_roots: vec![],
        users,
        groups,
        deleted,
        issues: vec![],
    };
    normalize(&mut state);
    state
}

/// Sorts everything whose order carries no meaning.
fn normalize(state: &mut DesiredState) {
    state.users.sort_by(|a, b| a.id.cmp(&b.id));
    state.groups.sort_by(|a, b| a.id.cmp(&b.id));
    for g in &mut state.groups {
        g.members.sort();
    }
    state.deleted.sort();
    state.issues.sort();
}

/// Ids of user and group tombstones in the domain, from Samba.
async fn tombstones(fx: &Fixture) -> HashMap<String, Object> {
    let mut ldap = fx.admin().await;
    let found = lookup(
        &mut ldap,
        &fx.base,
        "(&(isDeleted=TRUE)(|(&(objectClass=user)(!(objectClass=computer)))(objectClass=group)))",
        true,
    )
    .await;
    let _ = ldap.unbind().await;
    found
}

/// Compares two states field by field, naming what differs (a 1,600-user `assert_eq!` would
/// bury the difference).
fn assert_same_state(actual: &DesiredState, expected: &DesiredState) {
    let mut problems = Vec::new();
    if actual.user_roots != expected.user_roots {
        problems.push(format!(
            "user_roots: got {:?}, expected {:?}",
            actual.user_roots, expected.user_roots
        ));
    }
    if actual.group_roots != expected.group_roots {
        problems.push(format!(
            "group_roots: got {:?}, expected {:?}",
            actual.group_roots, expected.group_roots
        ));
    }
    if actual.deleted != expected.deleted {
        problems.push(format!(
            "deleted: got {:?}, expected {:?}",
            actual.deleted, expected.deleted
        ));
    }
    let by_id = |users: &[DirectoryUser]| {
        users
            .iter()
            .map(|u| (u.id.clone(), u.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let (got, want) = (by_id(&actual.users), by_id(&expected.users));
    for (id, user) in &want {
        match got.get(id) {
            None => problems.push(format!("user missing: {user:?}")),
            Some(g) if g != user => {
                problems.push(format!("user differs:\n   got {g:?}\n  want {user:?}"))
            }
            Some(_) => {}
        }
    }
    for (id, user) in &got {
        if !want.contains_key(id) {
            problems.push(format!("unexpected user: {user:?}"));
        }
    }
    let by_id = |groups: &[DirectoryGroup]| {
        groups
            .iter()
            .map(|g| (g.id.clone(), g.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let (got, want) = (by_id(&actual.groups), by_id(&expected.groups));
    for (id, group) in &want {
        match got.get(id) {
            None => problems.push(format!("group missing: {} {:?}", group.name, group.locator)),
            Some(g) if g != group => {
                let have: BTreeSet<_> = g.members.iter().collect();
                let need: BTreeSet<_> = group.members.iter().collect();
                problems.push(format!(
                    "group {} differs: name {:?} vs {:?}, locator {:?} vs {:?}, {} members vs {}; missing {:?}; extra {:?}",
                    group.name,
                    g.name,
                    group.name,
                    g.locator,
                    group.locator,
                    g.members.len(),
                    group.members.len(),
                    need.difference(&have).take(5).collect::<Vec<_>>(),
                    have.difference(&need).take(5).collect::<Vec<_>>(),
                ));
            }
            Some(_) => {}
        }
    }
    for (id, group) in &got {
        if !want.contains_key(id) {
            problems.push(format!(
                "unexpected group: {} {:?}",
                group.name, group.locator
            ));
        }
    }
    if !problems.is_empty() {
        let shown = problems.len().min(25);
        panic!(
            "{} difference(s) from the expected state:\n{}",
            problems.len(),
            problems[..shown].join("\n")
        );
    }
}

fn user<'a>(state: &'a DesiredState, id: &SourceId) -> &'a DirectoryUser {
    state
        .users
        .iter()
        .find(|u| &u.id == id)
        .unwrap_or_else(|| panic!("user {id} is not in the snapshot"))
}

fn group<'a>(state: &'a DesiredState, id: &SourceId) -> &'a DirectoryGroup {
    state
        .groups
        .iter()
        .find(|g| &g.id == id)
        .unwrap_or_else(|| panic!("group {id} is not in the snapshot"))
}

#[tokio::test]
async fn snapshot_of_the_root_is_exactly_the_population() {
    if fixture_missing("snapshot_of_the_root_is_exactly_the_population") {
        return;
    }
    let fx = fixture();
    let dir = Population::read(&fx).await;
    let deleted = tombstones(&fx)
        .await
        .into_values()
        .map(|o| o.guid)
        .collect();
    let mut state = snapshot(fx.config("ts-root")).await;
    normalize(&mut state);
    let expected = expected_root_state(&dir, deleted);
    assert_same_state(&state, &expected);

    // The one issue: the user with no address at all. Duplicates are the planner's to judge.
    let nomail = dir.user("nomail.user");
    let issue_entries: Vec<_> = state
        .issues
        .iter()
        .map(|i| (i.entry.clone(), i.id.clone()))
        .collect();
    assert_eq!(
        issue_entries,
        vec![(nomail.dn.clone(), Some(nomail.guid.clone()))],
        "issues: {:?}",
        state.issues
    );
    assert!(
        state.issues[0].problem.contains("email"),
        "issue should name the email: {:?}",
        state.issues[0]
    );
}

#[tokio::test]
async fn small_pages_read_the_same_state() {
    if fixture_missing("small_pages_read_the_same_state") {
        return;
    }
    // Samba does not enforce MaxPageSize (1,000), so pages of 1,000 would come back whole;
    // pages of 97 make the paged-results cookie loop run ~17 times over the users.
    let fx = fixture();
    let mut whole = snapshot(fx.config("ts-root")).await;
    let mut config = fx.config("ts-root");
    config.page_size = 97;
    let mut paged = snapshot(config).await;
    normalize(&mut whole);
    normalize(&mut paged);
    assert!(paged.users.len() > BIG_GROUP_SIZE);
    assert_same_state(&paged, &whole);
    assert_eq!(paged.issues, whole.issues);
}

#[tokio::test]
async fn ids_are_objectguid_in_the_form_samba_prints() {
    if fixture_missing("ids_are_objectguid_in_the_form_samba_prints") {
        return;
    }
    let fx = fixture();
    let dir = Population::read(&fx).await;
    let state = snapshot(fx.config("ts-root")).await;
    let by_dn: HashMap<String, &Object> = dir
        .users
        .values()
        .chain(dir.groups.values())
        .map(|o| (o.dn.to_ascii_lowercase(), o))
        .collect();
    for (id, locator) in state
        .users
        .iter()
        .map(|u| (&u.id, &u.locator))
        .chain(state.groups.iter().map(|g| (&g.id, &g.locator)))
    {
        let locator = locator
            .as_deref()
            .expect("every entry has its DN as locator");
        let object = by_dn
            .get(&locator.to_ascii_lowercase())
            .unwrap_or_else(|| panic!("{locator} unknown to Samba"));
        assert_eq!(id, &object.guid, "id of {locator}");
        let text = id.as_str();
        assert_eq!(text.len(), 36, "{text}");
        assert!(
            text.chars()
                .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)),
            "{text}"
        );
    }
}

#[tokio::test]
async fn nesting_three_deep_and_a_cycle_are_kept() {
    if fixture_missing("nesting_three_deep_and_a_cycle_are_kept") {
        return;
    }
    let fx = fixture();
    let dir = Population::read(&fx).await;
    let state = snapshot(fx.config("ts-root")).await;
    let gid = |n: &str| dir.group(n).guid.clone();
    let uid = |n: &str| dir.user(n).guid.clone();
    assert_eq!(group(&state, &gid("ts-l1")).members, vec![gid("ts-l2")]);
    assert_eq!(group(&state, &gid("ts-l2")).members, vec![gid("ts-l3")]);
    assert_eq!(group(&state, &gid("ts-l3")).members, vec![uid("deep.user")]);
    // deep.user is in scope only through the chain: it is not a direct member of the root.
    assert!(
        !group(&state, &gid("ts-root"))
            .members
            .contains(&uid("deep.user"))
    );
    assert_eq!(user(&state, &uid("deep.user")).email, "deep.user@fx.test");
    let mut a = vec![uid("cycle.a"), gid("ts-cycle-b")];
    a.sort();
    let mut b = vec![uid("cycle.b"), gid("ts-cycle-a")];
    b.sort();
    assert_eq!(group(&state, &gid("ts-cycle-a")).members, a);
    assert_eq!(group(&state, &gid("ts-cycle-b")).members, b);
    // Outside the root: never read into the snapshot.
    assert!(!state.users.iter().any(|u| u.id == uid("outside.user")));
}

#[tokio::test]
async fn disabled_and_expired_accounts_are_not_enabled() {
    if fixture_missing("disabled_and_expired_accounts_are_not_enabled") {
        return;
    }
    let fx = fixture();
    let dir = Population::read(&fx).await;
    let state = snapshot(fx.config("ts-root")).await;
    assert!(
        !user(&state, &dir.user("disabled.user").guid).enabled,
        "userAccountControl 0x222 has ACCOUNTDISABLE"
    );
    assert!(
        !user(&state, &dir.user("expired.user").guid).enabled,
        "accountExpires is in 2020"
    );
    assert!(user(&state, &dir.user("plain.user").guid).enabled);
    // accountExpires in the future (evaluated at a time before 2020) leaves the user enabled.
    let before_2020 = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_500_000_000);
    let early = LdapDirectory::new(fx.config("ts-root"))
        .expect("settings")
        .snapshot_at(before_2020)
        .await
        .expect("snapshot");
    assert!(
        user(&early, &dir.user("expired.user").guid).enabled,
        "not yet expired in 2017"
    );
    assert!(!user(&early, &dir.user("disabled.user").guid).enabled);
}

#[tokio::test]
async fn email_comes_from_mail_then_the_primary_proxy_address() {
    if fixture_missing("email_comes_from_mail_then_the_primary_proxy_address") {
        return;
    }
    let fx = fixture();
    let dir = Population::read(&fx).await;
    let state = snapshot(fx.config("ts-root")).await;
    let email = |sam: &str| user(&state, &dir.user(sam).guid).email.clone();
    assert_eq!(email("plain.user"), "plain.user@fx.test");
    assert_eq!(
        email("proxy.user"),
        "proxy.primary@fx.test",
        "SMTP: is primary; smtp: are aliases"
    );
    assert_eq!(
        email("nomail.user"),
        "",
        "no mail, no proxyAddresses, and UPN is not an address by default"
    );
    assert_eq!(email("dup.one"), "dup@fx.test");
    assert_eq!(
        email("dup.two"),
        "dup@fx.test",
        "both duplicates reach the planner, which reports them"
    );
    let nomail = &dir.user("nomail.user").guid;
    assert!(
        state.issues.iter().any(|i| i.id.as_ref() == Some(nomail)),
        "no issue for nomail.user: {:?}",
        state.issues
    );

    // With upn_as_email, the UPN is the last fallback.
    let mut config = fx.config("ts-root");
    config.profile.upn_as_email = true;
    let with_upn = snapshot(config).await;
    assert_eq!(user(&with_upn, nomail).email, "nomail.user@fx.test");
    assert_eq!(
        user(&with_upn, &dir.user("proxy.user").guid).email,
        "proxy.primary@fx.test"
    );
}

#[tokio::test]
async fn unicode_names_are_read_intact() {
    if fixture_missing("unicode_names_are_read_intact") {
        return;
    }
    let fx = fixture();
    let dir = Population::read(&fx).await;
    let state = snapshot(fx.config("ts-root")).await;
    let u = user(&state, &dir.user("unicode.user").guid);
    assert_eq!(u.given_name, "Zoë");
    assert_eq!(u.surname, "Łukasiewicz-Núñez 山田");
    assert_eq!(
        u.locator.as_deref(),
        Some(dir.user("unicode.user").dn.as_str())
    );
}

#[tokio::test]
async fn computer_accounts_are_not_users() {
    if fixture_missing("computer_accounts_are_not_users") {
        return;
    }
    let fx = fixture();
    let mut ldap = fx.admin().await;
    let computers = lookup(
        &mut ldap,
        &fx.teamsync_ou(),
        "(objectClass=computer)",
        false,
    )
    .await;
    let computer = computers
        .get("ts-ws01$")
        .expect("the fixture has the computer TS-WS01$");
    let state = snapshot(fx.config("ts-root")).await;
    assert!(
        !state.users.iter().any(|u| u.id == computer.guid),
        "the computer TS-WS01$ was read as a user"
    );
    let dir = Population::read(&fx).await;
    let holder = group(&state, &dir.group("ts-computer-holder").guid);
    assert_eq!(holder.members, vec![dir.user("holder.user").guid.clone()]);
}

#[tokio::test]
async fn primary_group_membership_is_synthesized() {
    if fixture_missing("primary_group_membership_is_synthesized") {
        return;
    }
    let fx = fixture();
    let dir = Population::read(&fx).await;
    // The fixture's shape: ts-primary lists no member at all; prim.user points at it by RID.
    let mut ldap = fx.admin().await;
    let (entries, _) = ldap
        .search(
            &fx.group_dn("ts-primary"),
            Scope::Base,
            "(objectClass=*)",
            vec!["member", "primaryGroupToken"],
        )
        .await
        .and_then(|r| r.success())
        .expect("read ts-primary");
    let entry = SearchEntry::construct(entries.into_iter().next().expect("ts-primary exists"));
    assert!(
        entry.attrs.get("member").is_none_or(Vec::is_empty),
        "ts-primary has member values: {:?}",
        entry.attrs
    );
    let token = entry.attrs["primaryGroupToken"][0].clone();
    let (entries, _) = ldap
        .search(
            &dir.user("prim.user").dn,
            Scope::Base,
            "(objectClass=*)",
            vec!["primaryGroupID"],
        )
        .await
        .and_then(|r| r.success())
        .expect("read prim.user");
    let prim = SearchEntry::construct(entries.into_iter().next().expect("prim.user exists"));
    assert_eq!(prim.attrs["primaryGroupID"], vec![token]);

    let state = snapshot(fx.config("ts-root")).await;
    assert_eq!(
        group(&state, &dir.group("ts-primary").guid).members,
        vec![dir.user("prim.user").guid.clone()]
    );
    assert_eq!(
        user(&state, &dir.user("prim.user").guid).email,
        "prim.user@fx.test"
    );
}

/// A TCP relay to the fixture that records what the client sends, so a test can see which
/// attributes the adapter asked for (LDAP attribute names travel as plain octet strings).
async fn recording_relay(target: String) -> (String, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&sent);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(&target).await else {
                break;
            };
            let record = Arc::clone(&record);
            tokio::spawn(async move {
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let upstream = async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        let n = match client_read.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        record
                            .lock()
                            .expect("recording lock")
                            .extend_from_slice(&buf[..n]);
                        if server_write.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = server_write.shutdown().await;
                };
                let downstream = async move {
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                    let _ = client_write.shutdown().await;
                };
                tokio::join!(upstream, downstream);
            });
        }
    });
    (format!("ldap://127.0.0.1:{port}"), sent)
}

/// Every `member;range=A-B` (or `A-*`) the client asked for, as `(A, B)` with `None` for `*`.
fn requested_member_ranges(sent: &[u8]) -> Vec<(u32, Option<u32>)> {
    let needle = b"member;range=";
    let mut ranges = Vec::new();
    let mut at = 0;
    while let Some(found) = sent[at..]
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
    {
        let start = at + found + needle.len();
        let end = sent[start..]
            .iter()
            .position(|b| !(b.is_ascii_digit() || *b == b'-' || *b == b'*'))
            .map_or(sent.len(), |n| start + n);
        let text = String::from_utf8_lossy(&sent[start..end]).into_owned();
        if let Some((low, high)) = text.split_once('-') {
            if let Ok(low) = low.parse() {
                ranges.push((low, high.parse().ok()));
            }
        }
        at = end;
    }
    ranges
}

#[tokio::test]
async fn big_group_is_read_in_explicit_ranges() {
    if fixture_missing("big_group_is_read_in_explicit_ranges") {
        return;
    }
    // Windows AD answers a group of more than MaxValRange (1,500) members with an empty `member`
    // and `member;range=0-1499`; Samba never ranges on its own and would hand over all 1,600 at
    // once, so only an adapter that asks for ranges itself exercises the ranged loop here.
    let fx = fixture();
    let dir = Population::read(&fx).await;
    let target = fx
        .url
        .strip_prefix("ldap://")
        .expect("TEAMSYNC_AD_URL is ldap://")
        .trim_end_matches('/')
        .to_owned();
    let (url, sent) = recording_relay(target).await;
    let mut config = fx.config("ts-root");
    config.url = url;
    let state = snapshot(config).await;

    let big = group(&state, &dir.group("ts-big").guid);
    let mut want: Vec<SourceId> = (0..BIG_GROUP_SIZE)
        .map(|i| dir.user(&big_user(i)).guid.clone())
        .collect();
    want.sort();
    assert_eq!(big.members.len(), BIG_GROUP_SIZE);
    assert_eq!(big.members, want);

    let sent = sent.lock().expect("recording lock").clone();
    let ranges = requested_member_ranges(&sent);
    let first_window = ranges
        .iter()
        .find_map(|(low, high)| (*low == 0).then_some(*high).flatten());
    let Some(first_end) = first_window else {
        panic!(
            "the adapter never asked for a bounded first window member;range=0-N (asked for {ranges:?})"
        );
    };
    assert!(
        (first_end as usize) < BIG_GROUP_SIZE - 1,
        "a first window of 0-{first_end} holds all of ts-big"
    );
    assert!(
        ranges.iter().any(|(low, _)| *low == first_end + 1),
        "the adapter never asked for member;range={}-…: the ranged loop did not run (asked for {ranges:?})",
        first_end + 1
    );
}

#[tokio::test]
async fn deleted_user_is_reported_from_its_tombstone() {
    if fixture_missing("deleted_user_is_reported_from_its_tombstone") {
        return;
    }
    let fx = fixture();
    let stones = tombstones(&fx).await;
    let deleted = stones
        .get("deleted.user")
        .expect("the fixture deleted deleted.user");
    assert!(
        deleted.dn.contains("CN=Deleted Objects"),
        "tombstone DN {}",
        deleted.dn
    );
    let state = snapshot(fx.config("ts-root")).await;
    assert!(
        state.deleted.contains(&deleted.guid),
        "{} not in deleted {:?}",
        deleted.guid,
        state.deleted
    );
    assert!(
        !state.users.iter().any(|u| u.id == deleted.guid),
        "the deleted user is still a user"
    );
}

#[tokio::test]
async fn tombstones_are_found_when_the_base_is_an_ou() {
    if fixture_missing("tombstones_are_found_when_the_base_is_an_ou") {
        return;
    }
    // Tombstones move to CN=Deleted Objects at the domain root, outside any OU; an admin who
    // sets the base to the OU the users live in must still see deletions.
    let fx = fixture();
    let stones = tombstones(&fx).await;
    let deleted = stones
        .get("deleted.user")
        .expect("the fixture deleted deleted.user");
    let mut config = fx.config("ts-root");
    config.base_dn = fx.teamsync_ou();
    let state = snapshot(config).await;
    assert!(
        state.deleted.contains(&deleted.guid),
        "{} not in deleted {:?}",
        deleted.guid,
        state.deleted
    );
}

/// Finds a user's current DN by sAMAccountName (wherever an interrupted run left it).
async fn current_dn(ldap: &mut Ldap, fx: &Fixture, sam: &str) -> Object {
    let found = lookup(
        ldap,
        &fx.teamsync_ou(),
        &format!("(sAMAccountName={sam})"),
        false,
    )
    .await;
    found
        .get(sam)
        .cloned()
        .unwrap_or_else(|| panic!("{sam} is not in the fixture"))
}

fn rdn_and_parent(dn: &str) -> (&str, &str) {
    dn.split_once(',').expect("a DN with a parent")
}

#[tokio::test]
async fn renamed_user_keeps_its_id() {
    if fixture_missing("renamed_user_keeps_its_id") {
        return;
    }
    let fx = fixture();
    let mut ldap = fx.admin().await;
    let before = current_dn(&mut ldap, &fx, "rename.user").await;
    let (old_rdn, parent) = rdn_and_parent(&before.dn);
    let old_rdn = old_rdn.to_owned();
    let parent = parent.to_owned();
    let new_rdn = format!("CN=Renamed User {}", std::process::id());
    ldap.modifydn(&before.dn, &new_rdn, true, None)
        .await
        .and_then(|r| r.success())
        .expect("rename");

    let result = LdapDirectory::new(fx.config("ts-rename-root"))
        .expect("settings")
        .snapshot()
        .await;
    // Put it back before asserting, so a failure leaves the fixture as it was.
    let renamed_dn = format!("{new_rdn},{parent}");
    ldap.modifydn(&renamed_dn, &old_rdn, true, None)
        .await
        .and_then(|r| r.success())
        .expect("rename back");
    let state = result.expect("snapshot");

    assert_eq!(state.users.len(), 1, "{:?}", state.users);
    let u = &state.users[0];
    assert_eq!(u.id, before.guid, "the id must survive a rename");
    assert_eq!(u.locator.as_deref(), Some(renamed_dn.as_str()));
    assert_eq!(u.email, "rename.user@fx.test");
    let root = &state.groups[0];
    assert_eq!(
        root.members,
        vec![before.guid.clone()],
        "AD updates member DNs on rename"
    );
}

#[tokio::test]
async fn moved_user_keeps_its_id() {
    if fixture_missing("moved_user_keeps_its_id") {
        return;
    }
    let fx = fixture();
    let mut ldap = fx.admin().await;
    let before = current_dn(&mut ldap, &fx, "move.user").await;
    let (rdn, parent) = rdn_and_parent(&before.dn);
    let (rdn, parent) = (rdn.to_owned(), parent.to_owned());
    let moved_ou = format!("OU=Moved,OU=Teamsync,{}", fx.base);
    assert_ne!(
        parent.to_ascii_lowercase(),
        moved_ou.to_ascii_lowercase(),
        "move.user starts outside OU=Moved"
    );
    ldap.modifydn(&before.dn, &rdn, true, Some(&moved_ou))
        .await
        .and_then(|r| r.success())
        .expect("move");

    let result = LdapDirectory::new(fx.config("ts-move-root"))
        .expect("settings")
        .snapshot()
        .await;
    let moved_dn = format!("{rdn},{moved_ou}");
    ldap.modifydn(&moved_dn, &rdn, true, Some(&parent))
        .await
        .and_then(|r| r.success())
        .expect("move back");
    let state = result.expect("snapshot");

    assert_eq!(state.users.len(), 1, "{:?}", state.users);
    let u = &state.users[0];
    assert_eq!(u.id, before.guid, "the id must survive a move");
    assert_eq!(u.locator.as_deref(), Some(moved_dn.as_str()));
    assert_eq!(state.groups[0].members, vec![before.guid.clone()]);
    assert_eq!(
        fx.people_ou().to_ascii_lowercase(),
        parent.to_ascii_lowercase()
    );
}

#[tokio::test]
async fn ldaps_and_starttls_with_the_fixture_ca() {
    if fixture_missing("ldaps_and_starttls_with_the_fixture_ca") {
        return;
    }
    let fx = fixture();
    let ldaps = fx
        .ldaps_url
        .clone()
        .expect("TEAMSYNC_AD_LDAPS_URL is not set (scripts/fixtures/samba.sh writes it)");
    let ca = fx
        .ca
        .clone()
        .expect("TEAMSYNC_AD_CA is not set (scripts/fixtures/samba.sh writes it)");
    let dir = Population::read(&fx).await;

    let mut over_ldaps = fx.config("ts-rename-root");
    over_ldaps.url = ldaps;
    over_ldaps.allow_plaintext_bind = false;
    over_ldaps.ca_file = Some(ca.clone());
    let state = snapshot(over_ldaps).await;
    assert_eq!(
        state.user_roots,
        vec![dir.group("ts-rename-root").guid.clone()]
    );

    let mut over_starttls = fx.config("ts-rename-root");
    over_starttls.allow_plaintext_bind = false;
    over_starttls.starttls = true;
    over_starttls.ca_file = Some(ca);
    let state = snapshot(over_starttls).await;
    assert_eq!(
        state.user_roots,
        vec![dir.group("ts-rename-root").guid.clone()]
    );

    // Without the fixture's CA the server's certificate is not trusted: a Connect error.
    let mut untrusted = fx.config("ts-rename-root");
    untrusted.url = fx.ldaps_url.clone().unwrap_or_default();
    untrusted.allow_plaintext_bind = false;
    let err = LdapDirectory::new(untrusted)
        .expect("settings")
        .snapshot()
        .await
        .expect_err("untrusted certificate");
    assert_eq!(
        err.kind,
        teamsync_core::DirectoryErrorKind::Connect,
        "{err:?}"
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
