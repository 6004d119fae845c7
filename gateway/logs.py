"""Logs: one event per line as key=value pairs, with any phone number or email redacted.

Every process (gunicorn's workers, `kindred worker` and its work-horses, the other commands)
logs through one handler on the root logger. A line carries the time, level, logger and
message, the request's method and path when there is one (never its query or body), and an
exception's traceback folded into the same line. Phone numbers and emails anywhere in the
line, tracebacks included, are masked by the same rule that masks them in stored texts, as a
last guard: the code itself logs only redacted addresses and never a message body.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from flask import has_request_context, request

from flows.parse import mask_contacts


class KeyValueFormatter(logging.Formatter):
    """`at=... level=... logger=... msg="..." [method=... path=...] [exc="..."]`, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        # The time, level and logger are the code's own and never hold an address, so only the
        # rest is searched for one: the phone matcher spent most of a line on the time's digits.
        at = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        own = f"at={at} level={record.levelname.lower()} logger={_value(record.name)}"
        fields = {"msg": record.getMessage()}
        if has_request_context():
            fields["method"] = request.method
            fields["path"] = request.path
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            fields["exc"] = record.exc_text
        return own + " " + mask_contacts(" ".join(f"{key}={_value(text)}" for key, text in fields.items()))


def _value(text: str) -> str:
    if text and not any(c in text for c in ' "=\\\n\r\t'):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + escaped.replace("\t", "\\t") + '"'


class _KindredHandler(logging.StreamHandler):
    """The one handler Kindred installs: to whatever standard error is when a record comes
    (a process manager or test may swap it), told apart from handlers others install."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def handler() -> logging.Handler:
    """Kindred's log handler: key=value lines to standard error (gunicorn's logging config
    names this factory)."""
    kindred = _KindredHandler()
    kindred.setFormatter(KeyValueFormatter())
    return kindred


def configure(level: int = logging.INFO) -> None:
    """Send every log record to standard error, one key=value line each. Idempotent."""
    # The twilio client logs every request's URL and headers at INFO.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    root = logging.getLogger()
    if any(isinstance(existing, _KindredHandler) for existing in root.handlers):
        return
    root.addHandler(handler())
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
