"""Test helpers: the in-process Dropbox team API emulator and the Microsoft Graph emulator.

    from teamsync.testing import Emulator, GraphEmulator

    with Emulator() as emulator:
        team = emulator.team()          # a DropboxTeam connected to it
        emulator.seed({"members": [...]})
        ...
        emulator.call_counts()

    with GraphEmulator() as graph:
        graph.seed({"tenant_id": "t", "apps": [...], "users": [...], "groups": [...]})
        directory = graph.directory("t", "client-id", client_secret="...", root_groups=["Staff"])
        directory.snapshot()
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from teamsync._native import DropboxTeam, EntraDirectory
from teamsync._native import Emulator as _NativeEmulator
from teamsync._native import GraphEmulator as _NativeGraphEmulator


def _write_ca(ca_pem: str | None, current: str | None, prefix: str) -> str | None:
    """The emulator's CA as a PEM file (written once; None without TLS)."""
    if ca_pem is None or current is not None:
        return current
    with tempfile.NamedTemporaryFile("w", prefix=prefix, suffix=".pem", delete=False) as f:
        f.write(ca_pem)
    return f.name


class Emulator(_NativeEmulator):
    """The Dropbox emulator (Rust, in process, on a free loopback port).

    Started by the constructor; stopped by ``close()`` or at the end of a ``with`` block.
    """

    _ca_file: str | None = None

    def team(self) -> DropboxTeam:
        """A ``DropboxTeam`` that talks to this emulator with its all-scopes token (trusting the
        emulator's CA when it serves TLS; never through a proxy)."""
        self._ca_file = _write_ca(self.ca_pem, self._ca_file, "teamsync-emulator-ca-")
        return DropboxTeam(base_url=self.base_url, token=self.access_token, ca_file=self._ca_file, proxy="")

    def close(self) -> None:
        """Stops the server and removes the CA file ``team()`` wrote. Idempotent."""
        super().close()
        if self._ca_file is not None:
            os.unlink(self._ca_file)
            self._ca_file = None


class GraphEmulator(_NativeGraphEmulator):
    """The Microsoft Graph and Entra ID token endpoint emulator (Rust, in process, on a free
    loopback port): users, groups, members, service principals, deleted users, paging, faults.

    Started by the constructor; stopped by ``close()`` or at the end of a ``with`` block.
    """

    _ca_file: str | None = None

    @property
    def ca_file(self) -> str | None:
        """A PEM file of the emulator's CA (``tls=True``), for ``ca_file=``; None without TLS."""
        self._ca_file = _write_ca(self.ca_pem, self._ca_file, "teamsync-graph-emulator-ca-")
        return self._ca_file

    def directory(self, tenant_id: str, client_id: str, **options: Any) -> EntraDirectory:
        """An ``EntraDirectory`` reading this emulator (its URL as both the authority and the
        Graph base, its CA trusted); ``options`` are ``EntraDirectory``'s keyword arguments."""
        return EntraDirectory(
            tenant_id, client_id, authority_url=self.base_url, graph_url=self.base_url, ca_file=self.ca_file, **options
        )

    def directory_config(self, tenant_id: str, client_id: str, **keys: Any) -> dict[str, Any]:
        """The config's ``[directory]`` table (``kind = "entra"``) for this emulator, for
        ``teamsync.sync``/``Config.from_dict``; ``keys`` are further keys of that table."""
        table: dict[str, Any] = {
            "kind": "entra",
            "tenant_id": tenant_id,
            "client_id": client_id,
            "authority_url": self.base_url,
            "graph_url": self.base_url,
        }
        if self.ca_file is not None:
            table["ca_file"] = self.ca_file
        table.update(keys)
        return table

    def close(self) -> None:
        """Stops the server and removes the CA file ``ca_file`` wrote. Idempotent."""
        super().close()
        if self._ca_file is not None:
            os.unlink(self._ca_file)
            self._ca_file = None


__all__ = ["Emulator", "GraphEmulator"]
