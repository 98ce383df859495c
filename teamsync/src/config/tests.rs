#![allow(clippy::unwrap_used)]
use std::path::Path;

use super::*;
use teamsync_core::Policy;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml_str(text, "/etc/teamsync/teamsync.toml")
}

const FILE_MIN: &str = "[directory]\nkind = \"file\"\npath = \"people.json\"\n";

#[test]
fn minimal_file_config_takes_defaults() {
    let config = parse(FILE_MIN).unwrap();
    assert_eq!(config.file().team.base_url, "https://api.dropboxapi.com");
    assert_eq!(config.file().policy, Policy::default());
    assert_eq!(
        config.resolve(Path::new("people.json")),
        PathBuf::from("/etc/teamsync/people.json")
    );
}

#[test]
fn unknown_key_names_key_and_line() {
    let err = parse(&format!(
        "{FILE_MIN}\n[policy]\non_leave = \"remove\"\nwipe_dat = false\n"
    ))
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("line 7"), "{text}");
    assert!(text.contains("wipe_dat"), "{text}");
}

#[test]
fn bad_value_names_line() {
    let err = parse(&format!("{FILE_MIN}[policy]\non_leave = \"vanish\"\n")).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("line 5") && text.contains("vanish"), "{text}");
}

#[test]
fn every_policy_knob_is_settable() {
    let config = parse(&format!(
        "{FILE_MIN}[policy]\nexternal_id_prefix = \"ts:\"\nmanage_existing_users = false\nadopt_foreign = true\n\
         adopt_existing_groups = true\ngroup_sync = \"group_roots\"\nstrict_group_scope = true\non_leave = \"remove\"\n\
         on_delete = \"remove\"\non_invited_deprovision = \"leave\"\nwipe_data = false\ntransfer = {{ mode = \"keep_account\" }}\n\
         deprovision_admins = true\non_group_leave = \"delete\"\nmax_deprovision = {{ floor = 5, percent = 2 }}\n\
         max_group_member_removals = {{ floor = 7, percent = 1.5 }}\nsend_welcome_email = false\n"
    ))
    .unwrap();
    let p = &config.file().policy;
    assert_eq!(p.external_id_prefix, "ts:");
    assert_eq!(p.max_deprovision.floor, 5);
    assert_eq!(p.max_group_member_removals.percent, 1.5);
    assert!(!p.send_welcome_email && p.deprovision_admins);
}

#[test]
fn inline_secrets_refused_unless_allowed() {
    let text = format!("{FILE_MIN}[team]\ntoken = \"sl.abc\"\n");
    let err = parse(&text).unwrap_err();
    assert!(
        matches!(&err, ConfigError::Invalid { key, .. } if key == "team.token"),
        "{err}"
    );
    let allowed = parse(&format!("allow_inline_secrets = true\n{text}")).unwrap();
    assert_eq!(
        allowed
            .secret("team.token", allowed.file().team.token.as_ref().unwrap())
            .unwrap()
            .expose(),
        "sl.abc"
    );
    assert!(!format!("{:?}", allowed.file().team.token).contains("sl.abc"));
}

#[test]
fn secrets_from_env_and_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tok"), "  from-file\n").unwrap();
    let config = Config::from_toml_str(
        &format!("{FILE_MIN}[team]\ntoken = {{ file = \"tok\" }}\napp_secret = {{ env = \"TEAMSYNC_TEST_UNSET_VAR\" }}\n"),
        dir.path().join("c.toml"),
    )
    .unwrap();
    assert_eq!(
        config
            .secret("team.token", config.file().team.token.as_ref().unwrap())
            .unwrap()
            .expose(),
        "from-file"
    );
    let err = config
        .secret(
            "team.app_secret",
            config.file().team.app_secret.as_ref().unwrap(),
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("TEAMSYNC_TEST_UNSET_VAR is not set"),
        "{err}"
    );
    let both = parse(&format!(
        "{FILE_MIN}[team]\ntoken = {{ file = \"a\", env = \"B\" }}\n"
    ))
    .unwrap_err();
    assert!(both.to_string().contains("exactly one"), "{both}");
}

#[test]
fn cross_key_errors_name_the_line() {
    let err = parse(&format!("{FILE_MIN}\n[team]\nbase_url = \"ftp://x\"\n")).unwrap_err();
    assert!(err.to_string().contains("line 6: team.base_url:"), "{err}");
    let err = parse(&format!("{FILE_MIN}[policy]\nexternal_id_prefix = \"\"\n")).unwrap_err();
    assert!(err.to_string().contains("line 4: policy:"), "{err}");
    let err = parse("allow_inline_secrets = true\ndirectory = { kind = \"file\", path = \"p.json\" }\nteam.token = 7\n").unwrap_err();
    assert!(err.to_string().contains("line 3: team.token:"), "{err}");
}

#[test]
fn cross_key_checks() {
    let err = parse("[directory]\nkind = \"ldap\"\nurl = \"ldap://x\"\nprofile = \"openldap\"\n")
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("line 1: directory.base_dn: required when directory.kind = \"ldap\""),
        "{err}"
    );
    let err = parse("[directory]\nkind = \"file\"\n").unwrap_err();
    assert!(
        err.to_string()
            .contains("line 1: directory.path: required when directory.kind = \"file\""),
        "{err}"
    );
    let err =
        parse("[directory]\nkind = \"file\"\npath = \"a.json\"\nurl = \"ldap://x\"\n").unwrap_err();
    assert!(
        err.to_string()
            .contains("line 4: directory.url: only for directory.kind = \"ldap\""),
        "{err}"
    );
    let err = parse("[directory]\nkind = \"ldap\"\nurl = \"ldap://x\"\nbase_dn = \"dc=x\"\nprofile = \"openldap\"\nuser_roots = [\"cn=a\"]\npage_size = \"big\"\n").unwrap_err();
    assert!(
        err.to_string().contains("line 7: directory.page_size:"),
        "{err}"
    );
    let err = parse("[directory]\nkind = \"ftp\"\n").unwrap_err();
    assert!(err.to_string().contains("directory.kind:"), "{err}");
    let err = parse("[directory]\nkind = \"file\"\npath = \"people.csv\"\n").unwrap_err();
    assert!(err.to_string().contains("directory.user_roots"), "{err}");
    let err = parse(&format!("{FILE_MIN}[team]\nbase_url = \"ftp://x\"\n")).unwrap_err();
    assert!(err.to_string().contains("team.base_url"), "{err}");
    let err = parse(&format!("{FILE_MIN}[policy]\nexternal_id_prefix = \"\"\n")).unwrap_err();
    assert!(err.to_string().contains("policy"), "{err}");
    let err = parse(&format!(
        "{FILE_MIN}[team]\nrefresh_token = {{ env = \"X\" }}\n"
    ))
    .unwrap_err();
    assert!(err.to_string().contains("team.app_key"), "{err}");
}

#[cfg(feature = "ldap")]
#[test]
fn ldap_section_builds_ldap_config_with_overrides() {
    // SAFETY of the test: a variable name no other test uses.
    let config = parse(
        "allow_inline_secrets = true\n[directory]\nkind = \"ldap\"\nurl = \"ldaps://dc:636\"\nbase_dn = \"DC=ex\"\n\
         profile = \"active_directory\"\nbind_dn = \"CN=svc,DC=ex\"\nbind_password = \"pw\"\nuser_roots = [\"CN=Dropbox,DC=ex\"]\n\
         ca_file = \"ca.pem\"\npage_size = 500\n[directory.attributes]\nemail = [\"mail\", \"otherMail\"]\nupn_as_email = true\n",
    )
    .unwrap();
    let DirectoryConfig::Ldap(section) = &config.file().directory else {
        panic!("an ldap section")
    };
    let ldap = config
        .ldap_config(section, Some(teamsync_core::Secret::new("pw")))
        .unwrap();
    assert!(
        matches!(&ldap.bind, teamsync_ldap::Bind::Simple { dn, password } if dn == "CN=svc,DC=ex" && password.expose() == "pw")
    );
    assert_eq!(ldap.client_certificate, None);
    assert_eq!(ldap.ca_file, Some(PathBuf::from("/etc/teamsync/ca.pem")));
    assert_eq!(ldap.page_size, 500);
    assert_eq!(
        ldap.profile.email_attributes,
        vec!["mail".to_owned(), "otherMail".to_owned()]
    );
    assert!(ldap.profile.upn_as_email);
    assert_eq!(ldap.profile.id_attribute, "objectGUID");
}

#[cfg(unix)]
#[test]
fn world_readable_file_warns() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, FILE_MIN).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(Config::load(&path).unwrap().warnings()[0].contains("readable by every user"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(Config::load(&path).unwrap().warnings().is_empty());
}

#[test]
fn every_unreadable_secret_is_in_one_error() {
    let config = parse(&format!(
        "{FILE_MIN}[team]\ntoken = {{ env = \"TEAMSYNC_TEST_UNSET_A\" }}\napp_secret = {{ file = \"/nonexistent/secret\" }}\n"
    ))
    .unwrap();
    let team = &config.file().team;
    let err = config
        .secrets([
            ("team.token", team.token.as_ref().unwrap()),
            ("team.app_secret", team.app_secret.as_ref().unwrap()),
        ])
        .unwrap_err();
    assert_eq!(err.keys(), vec!["team.token", "team.app_secret"]);
    let text = err.to_string();
    assert!(text.contains("2 secrets cannot be read"), "{text}");
    assert!(
        text.contains("line 5: team.token: environment variable TEAMSYNC_TEST_UNSET_A is not set"),
        "{text}"
    );
    assert!(
        text.contains("line 6: team.app_secret: cannot read secret file"),
        "{text}"
    );
}

#[test]
fn policy_rules_are_compiled_at_load_and_a_bad_one_names_rule_line_and_position() {
    let config = parse(&format!(
        "{FILE_MIN}[[policy.rules.scope]]\nname = \"no-contractors\"\nexclude = 'has(user.title) && user.title.startsWith(\"Contractor\")'\n"
    ))
    .unwrap();
    assert!(!config.file().policy.rules.is_empty());
    assert_eq!(
        config
            .file()
            .policy
            .rules
            .user_attributes()
            .into_iter()
            .collect::<Vec<_>>(),
        ["title"]
    );

    let err = parse(&format!(
        "{FILE_MIN}\n[[policy.rules.scope]]\nname = \"typo\"\ninclude = 'usr.department == \"Sales\"'\n"
    ))
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("line 5"), "{text}");
    assert!(
        text.contains(r#"scope rule "typo", line 1 column 1: unknown name `usr`"#),
        "{text}"
    );
}

const LDAP_MIN: &str = "[directory]\nkind = \"ldap\"\nurl = \"ldaps://dc.example.com:636\"\nbase_dn = \"DC=ex\"\n\
     profile = \"active_directory\"\nuser_roots = [\"CN=Dropbox,DC=ex\"]\n";

#[test]
fn bind_keys_are_checked_against_bind() {
    let key_of = |extra: &str| {
        parse(&format!("{LDAP_MIN}{extra}"))
            .unwrap_err()
            .keys()
            .join(",")
    };
    // A password has no place beside Kerberos or a certificate.
    assert_eq!(
        key_of("bind = \"gssapi\"\nbind_dn = \"CN=x\"\nbind_password = { env = \"X\" }\n"),
        "directory.bind_dn"
    );
    assert_eq!(
        key_of(
            "bind = \"external\"\nbind_password = { env = \"X\" }\nclient_cert_file = \"c.pem\"\nclient_key_file = \"k.pem\"\n"
        ),
        "directory.bind_password"
    );
    assert_eq!(key_of("bind = \"simple\"\n"), "directory.bind_dn");
    assert_eq!(key_of("bind_dn = \"CN=x\"\n"), "directory.bind_password");
    assert_eq!(
        key_of("bind_password = { env = \"X\" }\n"),
        "directory.bind_password"
    );
    assert_eq!(
        key_of("kerberos_fqdn = \"dc.example.com\"\n"),
        "directory.kerberos_fqdn"
    );
    assert_eq!(
        key_of("bind = \"external\"\n"),
        "directory.client_cert_file"
    );
    assert_eq!(
        key_of("client_cert_file = \"c.pem\"\n"),
        "directory.client_key_file"
    );
    assert_eq!(key_of("bind = \"kerberos\"\n"), "directory.bind");
    // Kerberos authenticates; TLS must protect the session.
    let plain = LDAP_MIN.replace("ldaps://dc.example.com:636", "ldap://dc.example.com");
    let err = parse(&format!("{plain}bind = \"gssapi\"\n")).unwrap_err();
    assert_eq!(err.keys(), ["directory.url"]);
    assert!(err.to_string().contains("starttls"), "{err}");
    assert!(parse(&format!("{plain}starttls = true\nbind = \"gssapi\"\n")).is_ok());
}

#[test]
fn bind_keys_are_only_for_ldap() {
    for key in [
        "bind = \"gssapi\"",
        "kerberos_fqdn = \"dc\"",
        "client_cert_file = \"c.pem\"",
        "client_key_file = \"k.pem\"",
    ] {
        let err = parse(&format!("{FILE_MIN}{key}\n")).unwrap_err();
        assert!(
            err.to_string()
                .contains("only for directory.kind = \"ldap\""),
            "{key}: {err}"
        );
    }
}

#[cfg(feature = "ldap")]
#[test]
fn extra_attributes_are_the_ones_read_for_the_rules() {
    let config = parse(
        "allow_inline_secrets = true\n[directory]\nkind = \"ldap\"\nurl = \"ldaps://dc:636\"\nbase_dn = \"DC=ex\"\n\
         profile = \"active_directory\"\nbind_dn = \"CN=svc,DC=ex\"\nbind_password = \"pw\"\nuser_roots = [\"CN=Dropbox,DC=ex\"]\n\
         [directory.attributes]\nextra = [\"department\", \"title\"]\n",
    )
    .unwrap();
    let DirectoryConfig::Ldap(section) = &config.file().directory else {
        panic!("an ldap section")
    };
    let ldap = config
        .ldap_config(section, Some(teamsync_core::Secret::new("pw")))
        .unwrap();
    assert_eq!(ldap.profile.extra_user_attributes, ["department", "title"]);
    assert!(ldap.profile.user_attributes().contains(&"title".to_owned()));
}

#[cfg(feature = "ldap")]
#[test]
fn gssapi_and_external_build_their_binds() {
    let ldap_of = |extra: &str| {
        let config = parse(&format!("{LDAP_MIN}{extra}")).unwrap();
        let DirectoryConfig::Ldap(section) = &config.file().directory else {
            panic!("an ldap section")
        };
        config.ldap_config(section, None).unwrap()
    };
    let ldap = ldap_of("bind = \"gssapi\"\nkerberos_fqdn = \"dc1.example.com\"\n");
    assert_eq!(
        ldap.bind,
        teamsync_ldap::Bind::gssapi(Some("dc1.example.com".into()))
    );
    assert_eq!(ldap_of("").bind, teamsync_ldap::Bind::Anonymous);
    let ldap = ldap_of(
        "bind = \"external\"\nclient_cert_file = \"tls/c.pem\"\nclient_key_file = \"/keys/k.pem\"\n",
    );
    assert_eq!(ldap.bind, teamsync_ldap::Bind::External);
    assert_eq!(
        ldap.client_certificate,
        Some(teamsync_ldap::ClientCertificate::new(
            "/etc/teamsync/tls/c.pem",
            "/keys/k.pem"
        ))
    );
}

#[test]
fn team_client_bounds_are_read_and_zero_or_absurd_values_are_refused_by_key_and_line() {
    let config = parse(&format!(
        "{FILE_MIN}[team]\nread_deadline_secs = 300\nmax_server_wait_secs = 30\n\
         max_response_bytes = 2097152\nmax_team_members = 1000\nallow_insecure_http = true\n"
    ))
    .unwrap();
    let t = &config.file().team;
    assert_eq!(t.read_deadline_secs, Some(300));
    assert_eq!(t.max_server_wait_secs, Some(30));
    assert_eq!(t.max_response_bytes, Some(2_097_152));
    assert_eq!(t.max_team_members, Some(1000));
    assert!(t.allow_insecure_http);
    assert!(!parse(FILE_MIN).unwrap().file().team.allow_insecure_http);
    for (line, key) in [
        ("read_deadline_secs = 0", "team.read_deadline_secs"),
        ("read_deadline_secs = 8640000", "team.read_deadline_secs"),
        ("max_server_wait_secs = 0", "team.max_server_wait_secs"),
        ("max_server_wait_secs = 99999", "team.max_server_wait_secs"),
        ("max_response_bytes = 0", "team.max_response_bytes"),
        (
            "max_response_bytes = 99999999999",
            "team.max_response_bytes",
        ),
        ("max_team_members = 0", "team.max_team_members"),
        ("max_team_members = 1000000000", "team.max_team_members"),
    ] {
        let err = parse(&format!(
            "{FILE_MIN}[team]\nbase_url = \"https://x.test\"\n{line}\n"
        ))
        .unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { key: k, line: Some(6), .. } if k == key),
            "{line}: {err}"
        );
        assert!(err.to_string().contains("out of range"), "{err}");
    }
    let err = parse(&format!(
        "{FILE_MIN}[team]\nread_deadline_secs = 60\nmax_server_wait_secs = 120\n"
    ))
    .unwrap_err();
    assert!(
        matches!(&err, ConfigError::Invalid { key, line: Some(6), .. } if key == "team.max_server_wait_secs"),
        "{err}"
    );
    let err = parse(&format!("{FILE_MIN}[team]\nmax_team_members = \"many\"\n")).unwrap_err();
    assert!(err.to_string().contains("line 5"), "{err}");
}

#[cfg(feature = "dropbox")]
#[test]
fn the_documented_defaults_are_the_clients() {
    let client = teamsync_dropbox::ClientConfig::default();
    assert_eq!(
        client.read_deadline,
        std::time::Duration::from_secs(schema::DEFAULT_READ_DEADLINE_SECS)
    );
    assert_eq!(client.read_retry.max_server_wait.as_secs(), 120);
    assert_eq!(client.max_response_bytes, 64 << 20);
    assert_eq!(
        teamsync_dropbox::TeamOptions::default().max_team_members,
        500_000
    );
}
