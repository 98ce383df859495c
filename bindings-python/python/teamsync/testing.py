"""Test helpers: the in-process Dropbox team API emulator.

    from teamsync.testing import Emulator

    with Emulator() as emulator:
        team = emulator.team()          # a DropboxTeam connected to it
        emulator.seed({"members": [...]})
        ...
        emulator.call_counts()
"""

from teamsync._native import Emulator as _NativeEmulator
from teamsync._native import DropboxTeam


class Emulator(_NativeEmulator):
    """The Dropbox emulator (Rust, in process, on a free loopback port).

    Started by the constructor; stopped by ``close()`` or at the end of a ``with`` block.
    """

    def team(self) -> DropboxTeam:
        """A ``DropboxTeam`` that talks to this emulator with its all-scopes token."""
        ca_file = None
        if self.ca_pem is not None:
            import tempfile

            with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as f:
                f.write(self.ca_pem)
                ca_file = f.name
        return DropboxTeam(base_url=self.base_url, token=self.access_token, ca_file=ca_file, proxy="")


__all__ = ["Emulator"]
