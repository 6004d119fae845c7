"""SendGrid's webhooks: Inbound Parse, which posts members' email replies.

Inbound Parse is not signed, so its endpoint takes HTTP basic auth whose password is
SENDGRID_INBOUND_SECRET (SendGrid sends the credentials written into the destination URL).
Each endpoint verifies its own requests. The form is read from the raw request body, not
through the usual form parser, so that each field can be decoded by the charset SendGrid
names for it in `charsets` and attachments are counted, never kept.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from gateway.community import organization
from gateway.delivery.text import storable_json
from gateway.email.inbound import InboundEmailError, receive_email
from gateway.email.message import (
    Attachment,
    InboundEmail,
    addresses,
    decode_text,
    from_mime,
    header_text,
    is_automatic,
    message_id,
    read_headers,
)

log = logging.getLogger(__name__)
bp = Blueprint("sendgrid", __name__, url_prefix="/webhooks/sendgrid")

# SendGrid refuses mail over 30 MB; its POST of one is a little larger still.
INBOUND_MAX_BYTES = 32 * 1024 * 1024
_CHUNK = 64 * 1024
_REALM = 'Basic realm="kindred-inbound-parse", charset="UTF-8"'
_FIELDS = frozenset(
    {"from", "to", "cc", "subject", "text", "html", "headers", "envelope", "charsets", "email",
     "attachment-info", "SPF"}
)  # fmt: skip


def _inbound_refusal() -> Response | None:
    """Inbound Parse's credentials: None if the request carries them, else the answer to give.
    Without SENDGRID_INBOUND_SECRET (email off or simulated) the endpoint does not exist."""
    secret = current_app.config["SENDGRID_INBOUND_SECRET"]
    if not secret:
        abort(404, description="inbound email is not set up")
    auth = request.authorization
    given = (auth.password or "") if auth is not None and auth.type == "basic" else ""
    if given and hmac.compare_digest(given.encode(), secret.encode()):
        return None
    response = jsonify(error="Unauthorized", description="Inbound Parse's basic auth is missing or wrong")
    response.status_code = 401
    response.headers["WWW-Authenticate"] = _REALM
    return response


@bp.post("/inbound")
def inbound() -> Response:
    """An email from Inbound Parse (parsed fields, or the whole message in `email` when "send
    raw" is on): store it, route it, answer 200 at once."""
    refusal = _inbound_refusal()
    if refusal is not None:
        return refusal
    request.max_content_length = INBOUND_MAX_BYTES
    form = _read_form()
    charsets = _json_object(form.raw.get("charsets", b"{}"))
    fields = {
        name: decode_text(value, charsets.get(name)) for name, value in form.raw.items() if name != "email"
    }
    envelope = _json_object(form.raw.get("envelope", b"{}"))
    envelope_to = [a for item in _strings(envelope.get("to")) for a in addresses(item)]
    try:
        if "email" in form.raw:
            mail = from_mime(form.raw["email"], envelope_to)
        else:
            mail = _parsed_mail(fields, envelope_to, form.uploads)
        mail = replace(mail, spf=fields.get("SPF", "").strip().lower())
    except Exception:  # the standard library's parser has raised on some malformed headers
        log.exception("inbound email: a message could not be read")
        abort(400, description="the email could not be read")
    try:
        receive_email(organization.default(), mail)
    except InboundEmailError as exc:
        abort(400, description=str(exc))
    return Response(status=200)


def _parsed_mail(fields: dict[str, str], envelope_to: list[str], uploads: list[_Upload]) -> InboundEmail:
    """The email in Inbound Parse's default (parsed) form."""
    senders = addresses(fields.get("from", ""))
    recipients = [*envelope_to, *addresses(fields.get("to", "")), *addresses(fields.get("cc", ""))]
    info = _json_object(fields.get("attachment-info", "{}").encode())
    headers = read_headers(fields.get("headers", ""))
    return InboundEmail(
        sender=senders[0] if senders else "",
        recipients=tuple(dict.fromkeys(recipients)),
        subject=header_text("subject", fields.get("subject", "")),
        text=fields.get("text", ""),
        html=fields.get("html", ""),
        header_id=message_id(headers),
        attachments=tuple(Attachment(_file_name(upload, info), upload.size) for upload in uploads),
        automatic=is_automatic(headers),
    )


def _file_name(upload: _Upload, info: dict[str, Any]) -> str:
    """An attachment's name: as attachment-info gives it, else as the upload does."""
    meta = info.get(upload.field)
    named = meta.get("filename") or meta.get("name") if isinstance(meta, dict) else None
    return str(named or upload.filename or upload.field)


@dataclass(frozen=True)
class _Upload:
    """A file in the form: the field it came in (attachment1 ...), its name, its size."""

    field: str
    filename: str
    size: int


@dataclass
class _Form:
    """A multipart form as posted: the fields Kindred reads, as bytes; the files, by size."""

    raw: dict[str, bytes] = dataclass_field(default_factory=dict)
    uploads: list[_Upload] = dataclass_field(default_factory=list)


def _read_form() -> _Form:
    """The request's multipart form, read from the body as it streams in (limited in size).
    Files are counted, never kept."""
    if request.mimetype != "multipart/form-data" or "boundary" not in request.mimetype_params:
        abort(400, description="Inbound Parse posts multipart/form-data")
    decoder = MultipartDecoder(request.mimetype_params["boundary"].encode("latin-1"))
    form = _Form()
    part: Field | File | None = None
    kept: list[bytes] = []
    size = 0
    try:
        for event in _events(decoder):
            if isinstance(event, Field | File):
                part, kept, size = event, [], 0
            elif isinstance(event, Data) and part is not None:
                size += len(event.data)
                if isinstance(part, Field) and part.name in _FIELDS:
                    kept.append(event.data)
                if event.more_data:
                    continue
                if isinstance(part, File):
                    form.uploads.append(_Upload(part.name, part.filename, size))
                elif part.name in _FIELDS:
                    form.raw[part.name] = b"".join(kept)
    except ValueError:
        abort(400, description="the multipart body could not be read")
    return form


def _events(decoder: MultipartDecoder) -> Iterator[Any]:
    """The multipart events of the request body; ValueError if it ends before its last boundary."""
    stream = request.stream
    while True:
        chunk = stream.read(_CHUNK)
        decoder.receive_data(chunk or None)
        event = decoder.next_event()
        while not isinstance(event, NeedData | Epilogue):
            yield event
            event = decoder.next_event()
        if isinstance(event, Epilogue):
            return
        if not chunk:
            raise ValueError("the body ended before the form did")


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8", "replace") or "{}")
    except ValueError:
        return {}
    return storable_json(value) if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
