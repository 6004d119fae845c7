"""A local stand-in for SendGrid's v3 Mail Send API that the real sendgrid client can use, and
a signer for SendGrid's signed Event Webhook.

It speaks the wire format of `POST /v3/mail/send`: a Bearer API key, the JSON mail body
(personalizations, from, reply_to, subject, content, headers, custom_args), `202 Accepted` with
an empty body and an `X-Message-Id` header on success, and SendGrid's JSON error shape
(`{"errors": [{"message", "field", "help"}]}`) on failure. Point the client at it with
`SENDGRID_API_BASE_URL=double.base_url`.

Faults are programmed per test: transient server errors (`fail_next`) and a recipient SendGrid
refuses (`reject`).
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.doubles.http_api import ApiDouble, Reply


@dataclass(frozen=True)
class SentMail:
    """A mail the double accepted, flattened for assertions."""

    message_id: str
    to: str
    from_email: str
    from_name: str | None
    reply_to: str | None
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    custom_args: dict[str, str]
    raw: dict[str, Any] = field(repr=False)


class SendGridApiDouble(ApiDouble):
    """A threaded HTTP server on 127.0.0.1 answering like SendGrid's Mail Send API."""

    thread_name = "sendgrid-api-double"

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.sent: list[SentMail] = []
        self.requests = 0
        self._failures: list[int] = []
        self._rejected: set[str] = set()
        self._on_accept: list[Callable[[SentMail], None]] = []
        self._lock = threading.Lock()
        super().__init__()

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Answer the next `n` sends with `status` (a passing fault, like SendGrid's 5xx)."""
        with self._lock:
            self._failures.extend([status] * n)

    def reject(self, email: str) -> None:
        """Refuse every send to this recipient with 400, as SendGrid does a malformed address."""
        with self._lock:
            self._rejected.add(email.lower())

    def on_next_accept(self, action: Callable[[SentMail], None]) -> None:
        """Run `action` when the next mail is accepted, before the answer goes back: the moment
        after SendGrid took a mail and before the sender heard so."""
        with self._lock:
            self._on_accept.append(action)

    def respond(self, method: str, path: str, authorization: str, body: bytes) -> Reply:
        """The answer to one request: 202 with an X-Message-Id, or SendGrid's JSON errors."""
        if method != "POST" or path != "/v3/mail/send":
            return Reply(404, _errors("Not found", None))
        if authorization != f"Bearer {self.api_key}":
            return Reply(
                401, _errors("The provided authorization grant is invalid, expired, or revoked", None)
            )
        with self._lock:
            self.requests += 1
            if self._failures:
                return Reply(self._failures.pop(0), _errors("Internal server error", None))
        try:
            mail = json.loads(body)
            personalization = mail["personalizations"][0]
            to = personalization["to"][0]["email"]
            content = {part["type"]: part["value"] for part in mail["content"]}
            subject = personalization.get("subject") or mail["subject"]
            sender = mail["from"]
        except (ValueError, KeyError, IndexError, TypeError):
            return Reply(400, _errors("Bad Request", None))
        if to.lower() in self._rejected:
            return Reply(400, _errors("Does not contain a valid address.", "personalizations.0.to.0.email"))
        message_id = uuid.uuid4().hex[:22]
        sent = SentMail(
            message_id=message_id,
            to=to,
            from_email=sender["email"],
            from_name=sender.get("name"),
            reply_to=(mail.get("reply_to") or {}).get("email"),
            subject=subject,
            text=content.get("text/plain", ""),
            html=content.get("text/html", ""),
            headers={**mail.get("headers", {}), **personalization.get("headers", {})},
            custom_args={**mail.get("custom_args", {}), **personalization.get("custom_args", {})},
            raw=mail,
        )
        with self._lock:
            self.sent.append(sent)
            action = self._on_accept.pop(0) if self._on_accept else None
        if action is not None:
            action(sent)
        return Reply(202, headers={"X-Message-Id": message_id})


def _errors(message: str, field_name: str | None) -> dict[str, Any]:
    return {"errors": [{"message": message, "field": field_name, "help": None}]}


class EventSigner:
    """Signs Event Webhook posts as SendGrid does: ECDSA P-256 with SHA-256 over the timestamp
    header followed by the raw body, base64 in X-Twilio-Email-Event-Webhook-Signature."""

    SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
    TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())

    @property
    def public_key(self) -> str:
        """The verification key as SendGrid's settings page shows it (base64 DER, no PEM armour)."""
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: int) -> dict[str, str]:
        signed = str(timestamp).encode() + body
        signature = self._key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return {self.SIGNATURE: base64.b64encode(signature).decode(), self.TIMESTAMP: str(timestamp)}
