"""`teamsync init` on a terminal, as an admin would answer it: driven through a real pty
(pexpect) against the slapd fixture and the Dropbox emulator binary.

One answer is wrong (the bind password's variable holds a wrong password): the bind test
fails, the error with its hint (`directory.bind_password`) is shown and the questions come
again with the last answers as defaults. The config written then passes `teamsync check`.

Needs the slapd fixture (`scripts/fixtures/slapd.sh start DIR`, then `set -a; . DIR/slapd.env;
set +a`); without `TEAMSYNC_SLAPD_URL` the test is skipped with one line. The binaries are
built with cargo (honouring CARGO_TARGET_DIR) unless TEAMSYNC_BIN / TEAMSYNC_EMULATOR_BIN name
them.
"""

import json
import os
import pathlib
import subprocess

import pexpect
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
TIMEOUT = 60


def _binary(env_var, package, name):
    explicit = os.environ.get(env_var)
    if explicit:
        return explicit
    out = subprocess.run(
        ["cargo", "build", "-q", "-p", package, "--bin", name,
         "--message-format=json-render-diagnostics"],
        cwd=REPO, check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") \
                and msg["target"]["name"] == name:
            return msg["executable"]
    pytest.fail(f"cargo build did not report the {name} executable")


@pytest.fixture
def slapd():
    url = os.environ.get("TEAMSYNC_SLAPD_URL")
    if not url:
        pytest.skip("SKIPPED test_init_pty: TEAMSYNC_SLAPD_URL is not set (run scripts/test.sh, "
                    "or scripts/fixtures/slapd.sh start DIR and source DIR/slapd.env)")
    return {
        "url": url,
        "ca": os.environ["TEAMSYNC_SLAPD_CA"],
        "base": os.environ["TEAMSYNC_SLAPD_BASE"],
        "bind_dn": os.environ["TEAMSYNC_SLAPD_BIND_DN"],
        "bind_pw": os.environ["TEAMSYNC_SLAPD_BIND_PW"],
    }


@pytest.fixture
def emulator(tmp_path):
    binary = _binary("TEAMSYNC_EMULATOR_BIN", "teamsync-dropbox-emulator", "teamsync-dropbox-emulator")
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"team_name": "Init Test Team", "members": [], "groups": []}))
    proc = subprocess.Popen([binary, "--seed-file", str(seed)], stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        yield info
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_init_asks_tests_each_connection_reasks_a_wrong_answer_and_writes_a_config_check_passes(
        tmp_path, slapd, emulator):
    teamsync = _binary("TEAMSYNC_BIN", "teamsync-cli", "teamsync")
    config = tmp_path / "teamsync.toml"
    env = dict(os.environ)
    env.update({
        "INIT_WRONG_PW": "not-the-password",
        "INIT_BIND_PW": slapd["bind_pw"],
        "INIT_TEAM_TOKEN": emulator["access_token"],
        "NO_PROXY": "127.0.0.1",
        "TERM": "dumb",
    })
    env.pop("TEAMSYNC_CONFIG", None)
    root = f"cn=dropbox,ou=groups,{slapd['base']}"
    child = pexpect.spawn(
        teamsync, ["-c", str(config), "init", "--team-base-url", emulator["base_url"]],
        env=env, cwd=str(tmp_path), encoding="utf-8", timeout=TIMEOUT, dimensions=(40, 200))
    transcript = tmp_path / "transcript.txt"
    child.logfile_read = open(transcript, "w")
    try:
        def answer(question, text):
            child.expect_exact(question)
            child.sendline(text)

        answer("Where do people come from?", "ldap")
        answer("Directory URL", slapd["url"])
        answer("Use StartTLS", "")
        answer("CA certificate file", slapd["ca"])
        answer("Bind DN", slapd["bind_dn"])
        # The wrong answer: this variable holds a wrong password.
        answer("Where does the bind password come from?", "env:INIT_WRONG_PW")
        answer("Server type", "")
        child.expect_exact("Testing the connection and the bind")
        child.expect_exact(f"invalid credentials for bind_dn {slapd['bind_dn']} (rc 49)")
        child.expect_exact("check `directory.bind_dn` and the password in `directory.bind_password`")
        child.expect_exact("Let's try again.")
        # Asked again, the last answers offered: Enter keeps them.
        answer(f"Directory URL (ldaps://host:636, or ldap://host:389 with StartTLS) [{slapd['url']}]", "")
        answer("Use StartTLS", "")
        answer(f"[{slapd['ca']}]", "")
        answer(f"[{slapd['bind_dn']}]", "")
        answer("[env:INIT_WRONG_PW]", "env:INIT_BIND_PW")
        answer("Server type", "")
        child.expect_exact("OK: bound as")
        answer(f"Base DN, under which users and groups are searched [{slapd['base']}]", "")
        answer("Root group DN", root)
        child.expect_exact("Reading the directory")
        child.expect(r"OK: (\d+) users in scope")
        in_scope = int(child.match.group(1))
        assert in_scope > 0
        answer("The Dropbox team token", "env:INIT_TEAM_TOKEN")
        child.expect_exact('OK: team "Init Test Team"')
        child.expect_exact(f"Wrote {config}.")
        child.expect(pexpect.EOF)
        child.close()
    finally:
        child.logfile_read.close()
    assert child.exitstatus == 0, transcript.read_text()

    text = config.read_text()
    assert 'bind_password = { env = "INIT_BIND_PW" }' in text
    assert 'token = { env = "INIT_TEAM_TOKEN" }' in text
    assert slapd["bind_pw"] not in text and emulator["access_token"] not in text
    assert f'user_roots = ["{root}"]' in text
    assert "starttls = true" in text

    check = subprocess.run(
        [teamsync, "-c", str(config), "--log-file", str(tmp_path / "teamsync.log"),
         "--lock-file", str(tmp_path / "teamsync.lock"), "check"],
        env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=TIMEOUT)
    assert check.returncode == 0, check.stderr
    assert f"Directory: OK, {in_scope} users in scope" in check.stdout, check.stdout
    assert 'Dropbox: OK, team "Init Test Team"' in check.stdout, check.stdout
