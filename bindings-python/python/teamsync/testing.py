"""Test helpers: the in-process Dropbox team API emulator.

    from teamsync.testing import Emulator

    with Emulator() as emulator:
        team = emulator.team()          # a DropboxTeam connected to it
        emulator.seed({"members": [...]})
        ...
        emulator.call_counts()
"""

from __future__ import annotations

import os
import tempfile

from teamsync._native import DropboxTeam
from teamsync._native import Emulator as _NativeEmulator


class Emulator(_NativeEmulator):
    """The Dropbox emulator (Rust, in process, on a free loopback port).

    Started by the constructor; stopped by ``close()`` or at the end of a ``with`` block.
    """

    _ca_file: str | None = None

    def team(self) -> DropboxTeam:
        """A ``DropboxTeam`` that talks to this emulator with its all-scopes token (trusting the
        emulator's CA when it serves TLS; never through a proxy)."""
        ca_pem = self.ca_pem
        if ca_pem is not None and self._ca_file is None:
            with tempfile.NamedTemporaryFile("w", prefix="teamsync-emulator-ca-", suffix=".pem", delete=False) as f:
                f.write(ca_pem)
            self._ca_file = f.name
        return DropboxTeam(base_url=self.base_url, token=self.access_token, ca_file=self._ca_file, proxy="")

    def close(self) -> None:
        """Stops the server and removes the CA file ``team()`` wrote. Idempotent."""
        super().close()
        if self._ca_file is not None:
            os.unlink(self._ca_file)
            self._ca_file = None


__all__ = ["Emulator"]
