"""Twilio: sending with the official client, and the one table that maps Twilio's statuses and
error codes to ours."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from gateway.delivery.transports import OutboundSms, SendResult, TransportError

# Twilio message status -> Kindred status.
STATUS = {
    "accepted": "sent",
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}
# 21610: the recipient replied STOP to this sender; Twilio refuses to send until START.
OPT_OUT_ERRORS = frozenset({"21610"})
# Errors that will not go away by trying again (bad number, landline, blocked, ...).
PERMANENT_ERRORS = frozenset(
    {"21211", "21214", "21408", "21612", "21614", "21610", "30003", "30004", "30005", "30006"}
)


def error_is_opt_out(code: str | None) -> bool:
    """Whether a Twilio error code means the recipient has opted out."""
    return code in OPT_OUT_ERRORS


class TwilioSmsTransport:
    """Sends through Twilio's Messages API with the official client."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str = "",
        messaging_service_sid: str = "",
        api_base_url: str = "",
    ):
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=15))
        if api_base_url:
            self.client.api.base_url = api_base_url
        # The client imports its resources lazily (tens of milliseconds): do it once here, so a
        # worker that builds its transport before forking does not pay it for every message.
        self.messages = self.client.messages
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TwilioSmsTransport:
        """Build from the app's settings."""
        return cls(
            config["TWILIO_ACCOUNT_SID"],
            config["TWILIO_AUTH_TOKEN"],
            config["TWILIO_FROM_NUMBER"],
            config["TWILIO_MESSAGING_SERVICE_SID"],
            config["TWILIO_API_BASE_URL"],
        )

    def send(self, sms: OutboundSms) -> SendResult:
        sender: dict[str, str] = (
            {"from_": sms.sender}
            if sms.sender
            else {"messaging_service_sid": self.messaging_service_sid}
            if self.messaging_service_sid
            else {"from_": self.from_number}
        )
        if sms.status_callback:
            sender["status_callback"] = sms.status_callback
        try:
            message = self.messages.create(to=sms.to, body=sms.body, **sender)
        except TwilioRestException as exc:
            code = str(exc.code) if exc.code else None
            permanent = code in PERMANENT_ERRORS or (400 <= exc.status < 500 and exc.status != 429)
            raise TransportError(
                f"twilio refused the message (HTTP {exc.status})",
                code=code or str(exc.status),
                permanent=permanent,
                opt_out=error_is_opt_out(code),
            ) from exc
        except (requests.RequestException, TwilioException) as exc:
            raise TransportError(f"twilio unreachable: {type(exc).__name__}") from exc
        return SendResult(provider_id=message.sid, status=STATUS.get(message.status or "", "sent"))
