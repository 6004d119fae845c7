"""Who runs a `kindred` command, for the audit log: the machine's user and host (a command
line has no organizer account and no client address)."""

from __future__ import annotations

import getpass
import socket


def actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = "unknown user"
    return f"{user} (command line)"


def host() -> str:
    return socket.gethostname()[:64]
