"""Fixtures for the fidelity check: Dropbox's own Python SDK (`dropbox` on PyPI) drives the
emulator binary over TLS.

The session fixture builds the binary with cargo (or takes `TEAMSYNC_EMULATOR_BIN`), starts
it with `--tls` and a seed file, reads its startup JSON (base URL, app key/secret, refresh
token), sets `DROPBOX_API_HOST` and only then imports `dropbox` (the SDK reads the host at
import time).
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import pytest
import requests

REPO = pathlib.Path(__file__).resolve().parents[2]

from dropbox_emulator_support import SEED  # noqa: E402


def _build_binary():
    explicit = os.environ.get("TEAMSYNC_EMULATOR_BIN")
    if explicit:
        return explicit
    # Ask cargo where the binary lands (honours CARGO_TARGET_DIR or the workspace default).
    out = subprocess.run(
        [
            "cargo", "build", "-q", "-p", "teamsync-dropbox-emulator", "--bin", "teamsync-dropbox-emulator",
            "--message-format=json-render-diagnostics",
        ],
        cwd=REPO, check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") and \
                msg["target"]["name"] == "teamsync-dropbox-emulator":
            return msg["executable"]
    pytest.fail("cargo build did not report the teamsync-dropbox-emulator executable")


class Emulator:
    """The running binary and its admin routes."""

    def __init__(self, info, ca_file):
        self.info = info
        self.ca_file = ca_file
        self.base_url = info["base_url"]
        self.host = self.base_url.split("://", 1)[1]

    def admin(self, method, path, payload=None):
        r = requests.request(method, self.base_url + "/__emulator/" + path,
                             data=None if payload is None else json.dumps(payload),
                             verify=self.ca_file, timeout=10)
        r.raise_for_status()
        return r.json()

    def state(self):
        return self.admin("GET", "state")

    def calls(self):
        return self.admin("GET", "calls")

    def set_faults(self, faults=None):
        self.admin("POST", "faults", faults or {})


@pytest.fixture(scope="session")
def emulator():
    binary = _build_binary()
    tmp = tempfile.TemporaryDirectory(prefix="emu-pytest-")
    d = pathlib.Path(tmp.name)
    (d / "seed.json").write_text(json.dumps(SEED))
    info_file, ca_file = d / "info.json", d / "ca.pem"
    proc = subprocess.Popen(
        [binary, "--tls", "--ca-file", str(ca_file), "--info-file", str(info_file),
         "--seed-file", str(d / "seed.json"), "--seed", "42",
         # Short tokens: the SDK refreshes before most calls (it refreshes 300 s early).
         "--token-ttl-secs", "2",
         "--job-polls-in-progress", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 30
    while not info_file.exists():
        if proc.poll() is not None:
            pytest.fail(f"emulator exited with {proc.returncode}: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("emulator did not start within 30 s")
        time.sleep(0.02)
    emu = Emulator(json.loads(info_file.read_text()), str(ca_file))
    yield emu
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    tmp.cleanup()


@pytest.fixture(scope="session")
def dropbox_sdk(emulator):
    """The `dropbox` module, imported after pointing it at the emulator."""
    if "dropbox" in sys.modules:
        pytest.fail("dropbox was imported before DROPBOX_API_HOST was set; it would call the real Dropbox")
    os.environ["DROPBOX_API_HOST"] = emulator.host
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's `verify`, which
    # is where the SDK puts `ca_certs`; with them set the emulator's CA would be ignored.
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(var, None)
    import dropbox  # noqa: E402  (must follow the environment change)

    assert dropbox.dropbox_client.API_HOST == emulator.host
    return dropbox


@pytest.fixture
def team(emulator, dropbox_sdk):
    """A DropboxTeam client on the refresh-token path, retrying nothing (errors surface)."""
    emulator.set_faults()
    client = dropbox_sdk.DropboxTeam(
        oauth2_refresh_token=emulator.info["refresh_token"],
        app_key=emulator.info["app_key"],
        app_secret=emulator.info["app_secret"],
        ca_certs=emulator.ca_file,
        max_retries_on_error=0,
        max_retries_on_rate_limit=0,
    )
    yield client
    emulator.set_faults()
