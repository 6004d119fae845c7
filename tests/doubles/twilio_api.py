"""A local stand-in for Twilio's REST API, for sending SMS, that the real twilio client can use.

It speaks the wire format of `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`:
HTTP Basic auth, form-encoded fields, Twilio's JSON message resource on success and
Twilio's JSON error shape (`code`, `message`, `more_info`, `status`) on failure, so
`twilio.rest.Client` raises `TwilioRestException` with the same `status` and `code` it
would against Twilio. Point a client at it with `client.api.base_url = double.base_url`.

Faults are programmed per test: a recipient Twilio refuses (`reject`), transient server
errors (`fail_next`), a share of every call refused at random with 429 or 500
(`refuse_share`), and an accepted message whose response never arrives
(`drop_response_next`).
"""

from __future__ import annotations

import base64
import binascii
import http
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, TypedDict
from urllib.parse import parse_qs

from twilio.request_validator import RequestValidator

from tests.doubles.http_api import ApiDouble, Reply

API_VERSION = "2010-04-01"
_MESSAGES_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account_sid>[^/]+)/Messages\.json$")
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")

_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")


class SentMessage(TypedDict):
    """A message the double accepted, as the app asked for it."""

    sid: str
    to: str
    from_: str | None
    body: str
    messaging_service_sid: str | None
    status_callback: str | None


def twilio_error(status: int, code: int, message: str) -> dict[str, Any]:
    """Twilio's JSON error body for an error `code` returned with HTTP `status`."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def twilio_signature(url: str, params: dict[str, str], auth_token: str) -> str:
    """The X-Twilio-Signature Twilio would send when posting `params` to `url`."""
    signature: str = RequestValidator(auth_token).compute_signature(url, params)
    return signature


def count_segments(body: str) -> int:
    """How many SMS segments `body` takes: GSM-7 when it can be, UCS-2 otherwise."""
    if all(char in _GSM7_BASIC or char in _GSM7_EXTENDED for char in body):
        units = sum(2 if char in _GSM7_EXTENDED else 1 for char in body)
        single, per_part = 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, per_part = 70, 67
    return 1 if units <= single else -(-units // per_part)


class TwilioApiDouble(ApiDouble):
    """A threaded HTTP server on 127.0.0.1 answering like Twilio's Messages API.

    `sent` lists every accepted message; `received` lists the form fields of every
    authenticated send request, whatever its outcome (so a test can prove no call was made).
    """

    thread_name = "twilio-api-double"

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sent: list[SentMessage] = []
        self.received: list[dict[str, str]] = []
        self._rejections: dict[str, Reply] = {}
        self._failures: list[int] = []
        self._refusals: tuple[float, tuple[int, ...], random.Random] | None = None
        self._responses_to_drop = 0
        self._next_sids: list[str] = []
        self._on_accept: list[Callable[[SentMessage], None]] = []
        self._lock = threading.Lock()
        self.latency = 0.0  # seconds each send request takes to answer, as a real API's round trip
        self.accepted_at: list[float] = []  # time.monotonic() of each accepted message, as `sent`
        self.in_flight = 0  # send requests being answered right now
        self.most_in_flight = 0  # the most there ever were at once
        super().__init__()

    def reset(self) -> None:
        """Forget every message and programmed fault, as a new double would."""
        with self._lock:
            self.sent.clear()
            self.received.clear()
            self.accepted_at.clear()
            self._rejections.clear()
            self._failures.clear()
            self._refusals = None
            self._responses_to_drop = 0
            self._next_sids.clear()
            self._on_accept.clear()
            self.most_in_flight = 0

    def reject(
        self,
        to: str,
        status: int = 400,
        code: int = 21610,
        message: str = "Attempt to send to unsubscribed recipient",
    ) -> None:
        """Refuse every later message to `to` with this Twilio error."""
        with self._lock:
            self._rejections[to] = Reply(status, twilio_error(status, code, message))

    def accept(self, to: str) -> None:
        """Take messages to `to` again (undoes :meth:`reject`)."""
        with self._lock:
            self._rejections.pop(to, None)

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Answer the next `n` send requests with a transient server error."""
        with self._lock:
            self._failures.extend([status] * n)

    def refuse_share(self, share: float, statuses: tuple[int, ...] = (429, 500), seed: int = 10) -> None:
        """From now on, answer this share of send requests, drawn at random (repeatably, from
        `seed`), with one of `statuses` (429 as Twilio's 20429 "Too Many Requests", 500 as a
        server error); 0 stops."""
        with self._lock:
            self._refusals = (share, statuses, random.Random(seed)) if share else None

    def drop_response_next(self, n: int = 1) -> None:
        """Accept the next `n` valid messages but close the connection without answering.

        The client sees a connection error although the message went out: the case where
        a blind retry would text the recipient twice.
        """
        with self._lock:
            self._responses_to_drop += n

    def assign_next_sid(self, sid: str) -> None:
        """Give the next accepted message this sid, so a test can act as Twilio's status
        callback for it before the sender has even heard the sid back."""
        with self._lock:
            self._next_sids.append(sid)

    def on_next_accept(self, action: Callable[[SentMessage], None]) -> None:
        """Run `action` when the next message is accepted, before the answer goes back: the
        moment after the provider took a message and before the sender heard so."""
        with self._lock:
            self._on_accept.append(action)

    def respond(self, method: str, path: str, authorization: str, body: bytes) -> Reply | None:
        """Decide the answer to one HTTP request; None means drop the connection."""
        match = _MESSAGES_PATH.match(path)
        if method != "POST" or match is None:
            return Reply(404, twilio_error(404, 20404, f"The requested resource {path} was not found"))
        if match["account_sid"] != self.account_sid or not self._authorized(authorization):
            return Reply(
                401,
                twilio_error(401, 20003, "Authenticate"),
                {"WWW-Authenticate": 'Basic realm="Twilio API"'},
            )
        form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
        finally:
            with self._lock:
                self.in_flight -= 1
        with self._lock:
            self.received.append(form)
            status = self._failures.pop(0) if self._failures else self._refusal()
            if status:
                phrase = http.HTTPStatus(status).phrase
                return Reply(status, twilio_error(status, 20000 + status, phrase))
            return self._send(form)

    def _refusal(self) -> int | None:
        """The status a random refusal answers with, or None (caller holds the lock)."""
        if self._refusals is None:
            return None
        share, statuses, draw = self._refusals
        return draw.choice(statuses) if draw.random() < share else None

    def _authorized(self, authorization: str) -> bool:
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            credentials = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return credentials == f"{self.account_sid}:{self.auth_token}"

    def _send(self, form: dict[str, str]) -> Reply | None:
        """Validate like Twilio, then accept the message (caller holds the lock)."""
        to = form.get("To")
        from_ = form.get("From")
        service_sid = form.get("MessagingServiceSid")
        body = form.get("Body")
        if not to:
            return Reply(400, twilio_error(400, 21604, "A 'To' phone number is required."))
        if not _E164.match(to):
            return Reply(400, twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}"))
        if not from_ and not service_sid:
            return Reply(400, twilio_error(400, 21603, "A 'From' phone number is required."))
        if not body:
            return Reply(400, twilio_error(400, 21602, "Message body is required."))
        if to in self._rejections:
            return self._rejections[to]
        sid = self._next_sids.pop(0) if self._next_sids else f"SM{uuid.uuid4().hex}"
        self.sent.append(
            SentMessage(
                sid=sid,
                to=to,
                from_=from_,
                body=body,
                messaging_service_sid=service_sid,
                status_callback=form.get("StatusCallback"),
            )
        )
        self.accepted_at.append(time.monotonic())
        if self._on_accept:
            self._on_accept.pop(0)(self.sent[-1])
        if self._responses_to_drop:
            self._responses_to_drop -= 1
            return None
        return Reply(201, self._message_resource(sid, to, from_, service_sid, body))

    def _message_resource(
        self, sid: str, to: str, from_: str | None, service_sid: str | None, body: str
    ) -> dict[str, Any]:
        """The JSON message resource Twilio returns for a newly created message."""
        now = format_datetime(datetime.now(UTC))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": service_sid,
            "num_media": "0",
            "num_segments": str(count_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service_sid else "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to,
            "uri": f"{uri}.json",
        }
