"""An inbound email as Kindred reads it, whichever way it arrived: its sender, every address it
was sent to, subject, text and HTML parts, Message-ID, and the names and sizes of its
attachments (their contents are never kept). A full MIME message ("send raw") is read with the
standard library's `email` package."""

from __future__ import annotations

import codecs
import logging
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser, HeaderParser

from gateway.delivery.addresses import VALUE_MAX

log = logging.getLogger(__name__)

MAX_ATTACHMENTS_NAMED = 10
ATTACHMENT_NAME_MAX = 80
_NOT_CHARSETS = frozenset({"idna", "punycode"})


@dataclass(frozen=True)
class Attachment:
    """A file that came with an email: its name and size only."""

    name: str
    size: int


@dataclass(frozen=True)
class InboundEmail:
    """One email as received. `sender` is the From address, lower-cased ("" if there is none
    to read); `recipients` every address in To, Cc and the envelope."""

    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str
    header_id: str | None
    attachments: tuple[Attachment, ...] = ()
    automatic: bool = False  # an auto-reply (out of office, RFC 3834), not a person writing
    spf: str = ""  # the SPF result Inbound Parse checked the sender against: pass, fail, softfail ...


def addresses(value: str) -> list[str]:
    """The addresses (lower-cased addr-specs) in an address header's value; one longer than
    VALUE_MAX is left out (it is no address)."""
    try:
        header = policy.default.header_factory("to", value)
    except Exception:  # a header too broken for the parser still must not lose the mail
        log.warning("inbound email: an address header could not be read")
        return []
    found = getattr(header, "addresses", ())
    specs = [a.addr_spec.lower() for a in found if a.username and a.domain]
    return [spec for spec in specs if len(spec) <= VALUE_MAX]


def header_text(name: str, value: str) -> str:
    """A header's value as text, RFC 2047 encoded words decoded."""
    try:
        return str(policy.default.header_factory(name, value)).strip()
    except Exception:
        return " ".join(value.split())


def read_headers(raw_headers: str) -> EmailMessage:
    """A block of raw headers (Inbound Parse's `headers` field), parsed."""
    headers = HeaderParser(policy=policy.default).parsestr(raw_headers, headersonly=True)
    assert isinstance(headers, EmailMessage)
    return headers


def message_id(headers: EmailMessage) -> str | None:
    """The Message-ID header, if there is one."""
    value = " ".join(str(headers.get("Message-ID", "")).split())
    return value or None


def is_automatic(headers: EmailMessage) -> bool:
    """Whether a mail program sent this on its own: Auto-Submitted (RFC 3834), or the headers
    common auto-responders set instead."""
    submitted = str(headers.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(headers.get("Precedence", "")).strip().lower()
    return (
        submitted not in ("", "no")
        or precedence in ("auto_reply", "bulk", "junk")
        or any(name in headers for name in ("X-Autoreply", "X-Autorespond"))
    )


def from_mime(raw: bytes, envelope_to: list[str]) -> InboundEmail:
    """Read a full MIME message (Inbound Parse's "send raw" mode)."""
    mail = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(mail, EmailMessage)
    senders = addresses(str(mail.get("From", "")))
    recipients = [a for name in ("To", "Cc", "Delivered-To") for a in addresses(str(mail.get(name, "")))]
    return InboundEmail(
        sender=senders[0] if senders else "",
        recipients=tuple(dict.fromkeys([*envelope_to, *recipients])),
        subject=header_text("subject", str(mail.get("Subject", ""))),
        text=_part_text(mail.get_body(preferencelist=("plain",))),
        html=_part_text(mail.get_body(preferencelist=("html",))),
        header_id=message_id(mail),
        attachments=tuple(
            Attachment(part.get_filename() or "unnamed", len(part.get_payload(decode=True) or b""))
            for part in mail.iter_attachments()
        ),
        automatic=is_automatic(mail),
    )


def attachment_lines(attachments: tuple[Attachment, ...]) -> str:
    """What an organizer sees of the attachments: a line per file (the first few), with size."""
    lines = [f"[attachment: {_short(a.name)}, {_size(a.size)}]" for a in attachments[:MAX_ATTACHMENTS_NAMED]]
    if len(attachments) > MAX_ATTACHMENTS_NAMED:
        lines.append(f"[and {len(attachments) - MAX_ATTACHMENTS_NAMED} more attachments]")
    return "\n".join(lines)


def decode_text(raw: bytes, charset: object) -> str:
    """Bytes as text by the charset named for them: UTF-8 if none is named, or one that is
    unknown or no charset of mail (idna, punycode: codecs of domain names). Bytes the charset
    cannot read are replaced, so the text is never lost."""
    name = charset.strip() if isinstance(charset, str) and charset.strip() else "utf-8"
    try:
        if codecs.lookup(name).name in _NOT_CHARSETS:
            name = "utf-8"
        return raw.decode(name, "replace")
    except (LookupError, ValueError):  # unknown, no text codec (rot13), or one that cannot replace
        return raw.decode("utf-8", "replace")


def _part_text(part: MIMEPart | None) -> str:
    """A text part's content, decoded by its charset."""
    if part is None:
        return ""
    payload = part.get_payload(decode=True)
    return decode_text(payload, part.get_content_charset()) if isinstance(payload, bytes) else ""


def _short(name: str) -> str:
    name = " ".join(name.split())
    return name if len(name) <= ATTACHMENT_NAME_MAX else name[: ATTACHMENT_NAME_MAX - 1] + "…"


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"
