"""SendGrid: sending with the official client (v3 Mail Send), and what its answers mean."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.error import URLError

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import CustomArg, From, Header, Mail, ReplyTo, To

from gateway.delivery.transports import Failure, OutboundEmail, SendResult, TransportError

DEFAULT_HOST = "https://api.sendgrid.com"
TIMEOUT_SECONDS = 15


def failure_of(status: int) -> Failure:
    """What SendGrid refusing an email with this HTTP status means: 429 is its rate limit, other
    4xx a request that will not change, anything else (5xx, no answer) passing."""
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return Failure.THROTTLE
    return Failure.PERMANENT if 400 <= status < 500 else Failure.RETRY


class SendGridEmailTransport:
    """Sends through SendGrid's v3 Mail Send API with the official client."""

    def __init__(self, api_key: str, api_base_url: str = ""):
        self.client = SendGridAPIClient(api_key=api_key, host=api_base_url or DEFAULT_HOST)
        self.client.client.timeout = TIMEOUT_SECONDS

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SendGridEmailTransport:
        return cls(config["SENDGRID_API_KEY"], config["SENDGRID_API_BASE_URL"])

    def send(self, email: OutboundEmail) -> SendResult:
        mail = Mail(
            from_email=From(email.from_email, email.from_name or None),
            to_emails=To(email.to),
            subject=email.subject,
            plain_text_content=email.text,
            html_content=email.html,
        )
        mail.reply_to = ReplyTo(email.reply_to)
        for name, value in email.headers.items():
            mail.header = Header(name, value)
        if email.message_id is not None:
            mail.custom_arg = CustomArg("kindred_message_id", str(email.message_id))
        try:
            response = self.client.send(mail)
        except HTTPError as exc:
            status = int(getattr(exc, "status_code", 0) or 0)
            raise TransportError(
                f"sendgrid refused the email (HTTP {status})", code=f"sg{status}", failure=failure_of(status)
            ) from exc
        except (TimeoutError, URLError, OSError) as exc:
            raise TransportError(f"sendgrid unreachable: {type(exc).__name__}") from exc
        # Taken (202). Without its X-Message-Id the email still must not be sent again; its
        # events find it by the custom argument instead.
        provider_id = _header(response.headers, "X-Message-Id") or "sg-" + uuid.uuid4().hex
        return SendResult(provider_id=provider_id[:64], status="sent")


def _header(headers: Any, name: str) -> str:
    """A response header, whatever mapping type the client hands back."""
    getter = getattr(headers, "get", None)
    value = getter(name) if getter else None
    if value is None and getter:
        value = getter(name.lower())
    return str(value or "").strip()
