"""The console's forms: they read only a form's fields (never a JSON body or an upload in their
place), and drop NUL characters, which no name or address has and PostgreSQL cannot store."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto, _is_submitted


def no_nul(value: Any) -> Any:
    """A field filter: the text without NUL characters."""
    return value.replace("\x00", "") if isinstance(value, str) else value


class ConsoleForm(FlaskForm):
    """A form posted from a console page."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if formdata is _Auto:
                return request.form if _is_submitted() else None
            return formdata


# Ids in URLs and forms fit the database's integer columns (PostgreSQL's are 32-bit).
MAX_ID = 2**31 - 1


def whole_number(raw: str | None, default: int | None = None, limit: int = MAX_ID) -> int | None:
    """A positive whole number typed in ASCII digits (not "²" or "٣", which str.isdigit takes)
    and no larger than `limit`; else `default`."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 12 and 0 < int(raw) <= limit:
        return int(raw)
    return default
