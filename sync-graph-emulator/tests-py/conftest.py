"""Fixtures for the fidelity check: Microsoft's own Python SDK (`msgraph-sdk` on PyPI, with
`azure-identity`) reads the Graph emulator binary over TLS.

The session fixture builds the binary with cargo (or takes `TEAMSYNC_GRAPH_EMULATOR_BIN`),
starts it with `--tls`, a seed file and small pages, and reads its startup JSON. The SDK is
pointed at it the way a national-cloud user would: `ClientSecretCredential(authority=...)`
with instance discovery off (so it asks the emulator, not login.microsoftonline.com), the
kiota authentication provider with the emulator's host allowed, and the request adapter's
`base_url` set to `{emulator}/v1.0`. The emulator's CA is trusted through the httpx client
the adapter uses and the azure-core transport the credential uses; nothing reaches Microsoft.
"""

import json
import os
import pathlib
import subprocess
import tempfile
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

from graph_emulator_support import SEED  # noqa: E402


def _build_binary():
    explicit = os.environ.get("TEAMSYNC_GRAPH_EMULATOR_BIN")
    if explicit:
        return explicit
    out = subprocess.run(
        ["cargo", "build", "-q", "-p", "teamsync-graph-emulator", "--bin", "teamsync-graph-emulator",
         "--message-format=json-render-diagnostics"],
        cwd=REPO, check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") and \
                msg["target"]["name"] == "teamsync-graph-emulator":
            return msg["executable"]
    pytest.fail("cargo build did not report the teamsync-graph-emulator executable")


class Emulator:
    def __init__(self, info, ca_file):
        self.info = info
        self.ca_file = ca_file
        self.base_url = info["base_url"]
        self.host = self.base_url.split("://", 1)[1].split(":")[0]

    def admin(self, method, path, payload=None):
        import requests
        r = requests.request(method, self.base_url + "/__emulator/" + path,
                             data=None if payload is None else json.dumps(payload),
                             verify=self.ca_file, timeout=10)
        r.raise_for_status()
        return r.json()

    def calls(self):
        return self.admin("GET", "calls")


@pytest.fixture(scope="session")
def emulator():
    binary = _build_binary()
    tmp = tempfile.TemporaryDirectory(prefix="graph-emu-pytest-")
    d = pathlib.Path(tmp.name)
    (d / "seed.json").write_text(json.dumps(SEED))
    info_file, ca_file = d / "info.json", d / "ca.pem"
    proc = subprocess.Popen(
        [binary, "--tls", "--ca-file", str(ca_file), "--info-file", str(info_file),
         "--seed-file", str(d / "seed.json"), "--max-page-size", "3"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while not info_file.exists():
        if proc.poll() is not None:
            pytest.fail(f"emulator exited with {proc.returncode}: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("emulator did not start within 60 s")
        time.sleep(0.02)
    yield Emulator(json.loads(info_file.read_text()), str(ca_file))
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    tmp.cleanup()
