//! `teamsync check` against an Entra tenant (the Graph emulator) whose app lacks permissions:
//! every missing application permission is named, not only the first a read would stop at,
//! and check fails with the directory-connect exit code (4) before anything else is read.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

use teamsync_graph_emulator::{Emulator, EmulatorConfig, SeedApp, SeedGroup, TenantSeed};

const TENANT: &str = "7e1ea5e0-0000-4000-8000-00000000c0de";
const SECRET: &str = "the-secret";
const SP: &str = "5e7e1ce0-0000-4000-8000-000000000042";

fn oid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn app(n: u32, roles: &[&str]) -> SeedApp {
    SeedApp {
        client_id: format!("a99c11e0-0000-4000-8000-{n:012}"),
        client_secret: Some(SECRET.into()),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        ..SeedApp::default()
    }
}

fn tenant() -> TenantSeed {
    let mut user = serde_json::Map::new();
    for (k, v) in [
        ("id", oid(1)),
        ("givenName", "Ann".into()),
        ("surname", "Lee".into()),
        ("mail", "ann@contoso.com".into()),
        ("userPrincipalName", "ann@contoso.com".into()),
        ("userType", "Member".into()),
    ] {
        user.insert(k.into(), v.into());
    }
    user.insert("accountEnabled".into(), true.into());
    TenantSeed {
        tenant_id: TENANT.into(),
        apps: vec![
            app(1, &[]),
            app(2, &["User.Read.All"]),
            app(3, &["User.Read.All", "GroupMember.Read.All"]),
        ],
        users: vec![user],
        groups: vec![SeedGroup {
            id: oid(100),
            display_name: "Dropbox Users".into(),
            members: vec![oid(1)],
            ..SeedGroup::default()
        }],
        ..TenantSeed::default()
    }
}

struct World {
    _runtime: tokio::runtime::Runtime,
    graph: Emulator,
    dropbox: teamsync_dropbox_emulator::Emulator,
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let graph = runtime
            .block_on(Emulator::start(EmulatorConfig::default()))
            .unwrap();
        graph.try_seed(&tenant()).unwrap();
        let dropbox = runtime
            .block_on(teamsync_dropbox_emulator::Emulator::start(
                Default::default(),
            ))
            .unwrap();
        World {
            _runtime: runtime,
            graph,
            dropbox,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// `teamsync check` with app `n`; `extra` goes into `[directory]`.
    fn check(&self, n: u32, extra: &str) -> Output {
        let dir = self.dir.path();
        std::fs::write(dir.join("entra-secret"), SECRET).unwrap();
        std::fs::write(dir.join("dropbox-token"), self.dropbox.access_token()).unwrap();
        let toml = format!(
            "log_file = \"teamsync.log\"\nlock_file = \"teamsync.lock\"\n\n[directory]\nkind = \"entra\"\n\
             tenant_id = \"{TENANT}\"\nclient_id = \"a99c11e0-0000-4000-8000-{n:012}\"\n\
             client_secret = {{ file = \"entra-secret\" }}\nroot_groups = [\"Dropbox Users\"]\n\
             authority_url = \"{graph}\"\ngraph_url = \"{graph}\"\n{extra}\n\n[team]\nbase_url = \"{dbx}\"\n\
             token = {{ file = \"dropbox-token\" }}\n",
            graph = self.graph.base_url(),
            dbx = self.dropbox.base_url()
        );
        let config = dir.join("teamsync.toml");
        std::fs::write(&config, toml).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in ["teamsync.toml", "entra-secret", "dropbox-token"] {
                std::fs::set_permissions(dir.join(f), std::fs::Permissions::from_mode(0o600))
                    .unwrap();
            }
        }
        let output = Command::new(env!("CARGO_BIN_EXE_teamsync"))
            .args(["--config", config.to_str().unwrap(), "check"])
            .env("NO_PROXY", "127.0.0.1")
            .current_dir(dir)
            .output()
            .unwrap();
        eprintln!(
            "app {n}: exit {:?}\n{}{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("teamsync.log")).unwrap_or_default()
    }
}

#[test]
fn check_names_every_missing_entra_permission() {
    let world = World::new();
    // No permission at all: both reads' permissions are named, in stdout, stderr and the log.
    let output = world.check(1, "");
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(4), "{out}{err}");
    assert!(
        out.contains("the Entra app lacks 2 application permissions a read needs: User.Read.All, GroupMember.Read.All"),
        "{out}"
    );
    assert!(out.contains("admin consent"), "{out}");
    assert!(err.contains("User.Read.All, GroupMember.Read.All"), "{err}");
    let log = world.log();
    assert!(log.contains("User.Read.All, GroupMember.Read.All"), "{log}");
    assert!(
        !out.contains("Dropbox: OK"),
        "check stops before the team: {out}"
    );

    // With app assignments: the missing group and application permissions, not the granted one.
    let output = world.check(2, &format!("app_id = \"{SP}\""));
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(4), "{out}");
    assert!(out.contains("token carries User.Read.All"), "{out}");
    assert!(
        out.contains("lacks 2 application permissions a read needs: GroupMember.Read.All, Application.Read.All"),
        "{out}"
    );

    // Everything granted: check goes on and passes.
    let output = world.check(3, "");
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(!out.contains("Entra app lacks"), "{out}");
    assert!(out.contains("Directory: OK, 1 users in scope"), "{out}");
    assert!(out.contains("Dropbox: OK"), "{out}");
}
