"""Twilio: sending with the official client, and the one table that maps Twilio's statuses and
error codes to ours."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import urllib3
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from gateway.delivery.transports import Failure, OutboundSms, SendResult, TransportError
from gateway.delivery.transports.twilio_http import PooledHttpClient

API_BASE_URL = "https://api.twilio.com"  # the client's own, unless TWILIO_API_BASE_URL says otherwise
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
# Twilio error code -> what it means for the message and its recipient (gateway.delivery.outbox
# acts on it: retries with backoff, fails, opts out, marks the number undeliverable, slows the
# sender). Codes: https://www.twilio.com/docs/api/errors. A code not listed falls back on the
# HTTP status (429: throttle; other 4xx: permanent; 5xx: retry).
ERRORS: Mapping[str, Failure] = {
    "21610": Failure.OPTED_OUT,  # the recipient replied STOP to this sender; refused until START
    "21211": Failure.UNDELIVERABLE,  # invalid 'To' number
    "21614": Failure.UNDELIVERABLE,  # 'To' is not a mobile number
    "30006": Failure.UNDELIVERABLE,  # landline or unreachable carrier
    "30003": Failure.FAIL_AFTER,  # unreachable handset (off, out of coverage)
    "30005": Failure.FAIL_AFTER,  # unknown destination handset (may be a passing carrier fault)
    "20429": Failure.THROTTLE,  # too many requests
    "63018": Failure.THROTTLE,  # rate limit exceeded for the channel
    "21214": Failure.PERMANENT,  # 'To' cannot be reached
    "21408": Failure.PERMANENT,  # no permission to send to this region
    "21612": Failure.PERMANENT,  # this 'To' and 'From' cannot be routed
    "30004": Failure.PERMANENT,  # message blocked (the recipient blocked the sender)
    "30007": Failure.PERMANENT,  # filtered by the carrier as spam: the same text would be again
}


def failure_of(code: str | None, http_status: int = 0) -> Failure:
    """What a Twilio error code (or, for a code not in ERRORS, the HTTP status) means."""
    if code in ERRORS:
        return ERRORS[code]
    if http_status == HTTPStatus.TOO_MANY_REQUESTS:
        return Failure.THROTTLE
    return Failure.PERMANENT if 400 <= http_status < 500 else Failure.RETRY


def error_is_opt_out(code: str | None) -> bool:
    """Whether a Twilio error code means the recipient has opted out."""
    return ERRORS.get(code or "") is Failure.OPTED_OUT


def error_is_undeliverable(code: str | None) -> bool:
    """Whether a Twilio error code means the number cannot get texts at all."""
    return ERRORS.get(code or "") is Failure.UNDELIVERABLE


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
        # Built for the API's address: the environment's proxy for it is read once, here.
        http = PooledHttpClient(api_base_url or API_BASE_URL, timeout=15)
        self.client = Client(account_sid, auth_token, http_client=http)
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
            raise TransportError(
                f"twilio refused the message (HTTP {exc.status})",
                code=code or str(exc.status),
                failure=failure_of(code, exc.status),
            ) from exc
        except (urllib3.exceptions.HTTPError, TwilioException) as exc:
            raise TransportError(f"twilio unreachable: {type(exc).__name__}") from exc
        return SendResult(provider_id=message.sid, status=STATUS.get(message.status or "", "sent"))
