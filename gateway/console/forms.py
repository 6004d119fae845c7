"""The console's forms (see gateway.forms for what every form of ours does), and the ids they
carry."""

from __future__ import annotations

from gateway.forms import PostedForm
from gateway.forms import no_nul as no_nul  # the console's forms filter with it


class ConsoleForm(PostedForm):
    """A form posted from a console page."""


# Ids in URLs and forms fit the database's integer columns (PostgreSQL's are 32-bit).
MAX_ID = 2**31 - 1


def whole_number(raw: str | None, default: int | None = None, limit: int = MAX_ID) -> int | None:
    """A positive whole number typed in ASCII digits (not "²" or "٣", which str.isdigit takes)
    and no larger than `limit`; else `default`."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 12 and 0 < int(raw) <= limit:
        return int(raw)
    return default
