"""LdapDirectory's binds beyond simple and anonymous, named as the config's keys (``bind``,
``client_cert_file``, ``client_key_file``, ``kerberos_fqdn``):

* ``bind="external"`` with the slapd fixture's client certificate (``scripts/fixtures/slapd.sh``;
  slapd maps the certificate's subject to ``cn=reader``) reads what the simple bind reads, and a
  certificate from another CA is refused;
* ``bind="gssapi"`` against the Samba AD DC fixture's KDC (``scripts/fixtures/samba.sh``), in a
  child Python with its own Kerberos environment (MIT Kerberos reads ``KRB5_CONFIG`` /
  ``KRB5_CLIENT_KTNAME`` / ``KRB5CCNAME`` from the process environment).

Each test skips with one line naming the missing variable when its fixture is not running."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import teamsync

SLAPD = (
    "TEAMSYNC_SLAPD_URL",
    "TEAMSYNC_SLAPD_LDAPS_URL",
    "TEAMSYNC_SLAPD_CA",
    "TEAMSYNC_SLAPD_BASE",
    "TEAMSYNC_SLAPD_BIND_DN",
    "TEAMSYNC_SLAPD_BIND_PW",
    "TEAMSYNC_SLAPD_CLIENT_CERT",
    "TEAMSYNC_SLAPD_CLIENT_KEY",
    "TEAMSYNC_SLAPD_ROGUE_CERT",
    "TEAMSYNC_SLAPD_ROGUE_KEY",
)
SAMBA = (
    "TEAMSYNC_AD_URL",
    "TEAMSYNC_AD_LDAPS_URL",
    "TEAMSYNC_AD_CA",
    "TEAMSYNC_AD_BASE",
    "TEAMSYNC_AD_KRB5_CONFIG",
    "TEAMSYNC_AD_KRB5_FQDN",
    "TEAMSYNC_AD_KRB5_SVC_DN",
    "TEAMSYNC_AD_KRB5_SVC_PW",
    "TEAMSYNC_AD_KRB5_KEYTAB",
)


def env_or_skip(names: tuple[str, ...], fixture: str) -> dict[str, str]:
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        pytest.skip(f"SKIPPED: {missing[0]} is not set (start {fixture} DIR and load DIR/*.env; scripts/test.sh does both)")
    return {name: os.environ[name] for name in names}


@pytest.fixture
def slapd() -> dict[str, str]:
    return env_or_skip(SLAPD, "the OpenLDAP fixture: scripts/fixtures/slapd.sh start")


def slapd_settings(env: dict[str, str], **overrides: Any) -> dict[str, Any]:
    base = env["TEAMSYNC_SLAPD_BASE"]
    settings: dict[str, Any] = {
        "url": env["TEAMSYNC_SLAPD_LDAPS_URL"],
        "base_dn": base,
        "ca_file": env["TEAMSYNC_SLAPD_CA"],
        "user_root_dns": [f"cn=dropbox,ou=groups,{base}"],
        "operation_timeout": 30.0,
    }
    settings.update(overrides)
    return settings


def test_external_bind_with_the_client_certificate_reads_what_the_simple_bind_reads(slapd: dict[str, str]) -> None:
    by_password = teamsync.LdapDirectory(
        **slapd_settings(slapd, bind_dn=slapd["TEAMSYNC_SLAPD_BIND_DN"], bind_password=slapd["TEAMSYNC_SLAPD_BIND_PW"])
    ).snapshot()
    assert by_password.user_count > 0
    certificate = {"bind": "external", "client_cert_file": slapd["TEAMSYNC_SLAPD_CLIENT_CERT"], "client_key_file": Path(slapd["TEAMSYNC_SLAPD_CLIENT_KEY"])}
    assert teamsync.LdapDirectory(**slapd_settings(slapd, **certificate)).snapshot() == by_password
    starttls = slapd_settings(slapd, url=slapd["TEAMSYNC_SLAPD_URL"], starttls=True, **certificate)
    assert teamsync.LdapDirectory(**starttls).snapshot() == by_password


def test_a_certificate_from_another_ca_is_refused(slapd: dict[str, str]) -> None:
    rogue = teamsync.LdapDirectory(
        **slapd_settings(slapd, bind="external", client_cert_file=slapd["TEAMSYNC_SLAPD_ROGUE_CERT"], client_key_file=slapd["TEAMSYNC_SLAPD_ROGUE_KEY"])
    )
    with pytest.raises(teamsync.DirectoryError, match="does not trust the client certificate") as refused:
        rogue.snapshot()
    assert refused.value.kind in ("bind", "connect")


def test_bind_settings_that_do_not_go_together_are_refused() -> None:
    base: dict[str, Any] = {"url": "ldaps://127.0.0.1:1", "base_dn": "dc=x"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"bind": "external"}, "client_cert_file"),  # EXTERNAL on ldaps:// needs a certificate
        ({"bind": "external", "client_cert_file": "/c.pem"}, "go together"),
        ({"bind": "gssapi", "bind_password": "pw"}, "bind_password is for"),
        ({"bind": "simple", "bind_dn": "cn=x"}, "go together"),
        ({"bind": "anonymous", "bind_dn": "cn=x"}, "anonymous bind has none"),
        ({"kerberos_fqdn": "dc.example"}, "kerberos_fqdn is for"),
        ({"bind": "ntlm"}, "unknown bind"),
    ]
    for extra, message in cases:
        with pytest.raises(teamsync.ConfigError, match=message):
            teamsync.LdapDirectory(**base, **extra)


GSSAPI_CHILD = textwrap.dedent(
    """
    import json, os, sys
    import teamsync
    e = os.environ
    common = dict(url=e["TEAMSYNC_AD_LDAPS_URL"], base_dn=e["TEAMSYNC_AD_BASE"], profile="active_directory",
                  ca_file=e["TEAMSYNC_AD_CA"], user_root_dns=["CN=ts-root,OU=Groups,OU=Teamsync," + e["TEAMSYNC_AD_BASE"]],
                  operation_timeout=60.0)
    simple = teamsync.LdapDirectory(bind_dn=e["TEAMSYNC_AD_KRB5_SVC_DN"], bind_password=e["TEAMSYNC_AD_KRB5_SVC_PW"], **common)
    kerberos = teamsync.LdapDirectory(bind="gssapi", kerberos_fqdn=e["TEAMSYNC_AD_KRB5_FQDN"], **common)
    if sys.argv[1] == "wrong_keytab":
        try:
            kerberos.snapshot()
        except teamsync.DirectoryError as refused:
            print(json.dumps({"refused": refused.kind}))
        sys.exit(0)
    by_password, by_ticket = simple.snapshot(), kerberos.snapshot()
    assert by_ticket.user_count > 0 and by_ticket.user_count == by_password.user_count, (by_ticket, by_password)
    print(json.dumps({"users": by_ticket.user_count}))
    """
)


def gssapi_child(env: dict[str, str], keytab: str, mode: str, folder: Path) -> str:
    child_env = {k: v for k, v in os.environ.items() if k not in ("KRB5_CLIENT_KTNAME", "KRB5_KTNAME", "KRB5CCNAME")}
    child_env.update(
        KRB5_CONFIG=env["TEAMSYNC_AD_KRB5_CONFIG"],
        KRB5_CLIENT_KTNAME=f"FILE:{keytab}",
        KRB5CCNAME=f"FILE:{folder / 'cc'}",
    )
    done = subprocess.run([sys.executable, "-c", GSSAPI_CHILD, mode], capture_output=True, text=True, env=child_env, timeout=180)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return done.stdout


def test_gssapi_bind_with_the_samba_kdc_keytab_reads_what_the_simple_bind_reads(tmp_path: Path) -> None:
    env = env_or_skip(SAMBA, "the Samba AD DC fixture: scripts/fixtures/samba.sh start")
    assert '"users"' in gssapi_child(env, env["TEAMSYNC_AD_KRB5_KEYTAB"], "snapshot", tmp_path)


def test_gssapi_bind_with_wrong_keys_is_a_bind_error(tmp_path: Path) -> None:
    env = env_or_skip((*SAMBA, "TEAMSYNC_AD_KRB5_WRONG_KEYTAB"), "the Samba AD DC fixture: scripts/fixtures/samba.sh start")
    assert '{"refused": "bind"}' in gssapi_child(env, env["TEAMSYNC_AD_KRB5_WRONG_KEYTAB"], "wrong_keytab", tmp_path)
