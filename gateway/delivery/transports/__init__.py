"""Transports: one interface for every way a text or email leaves Kindred. Only
gateway.delivery.outbox calls them."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from flask import Flask

from gateway.config import email_on


@dataclass(frozen=True)
class OutboundSms:
    """One text to hand to a provider."""

    to: str
    body: str
    status_callback: str | None = None
    # The number to send from (E.164): the organization's own when the instance serves several,
    # so replies come back to it; None for the deployment's configured sender.
    sender: str | None = None


@dataclass(frozen=True)
class OutboundEmail:
    """One email to hand to a provider, rendered: a plain-text part and an HTML part, and the
    headers that thread it and let the recipient unsubscribe in one click."""

    to: str
    from_email: str
    from_name: str
    reply_to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)
    # Passed back by the provider with every delivery event, so an event finds its message even
    # if recording the provider's id for it failed.
    message_id: int | None = None


@dataclass(frozen=True)
class SendResult:
    """What the provider said when it took the message: its id and our status for it."""

    provider_id: str
    status: str


class Failure(StrEnum):
    """What a provider's refusal means for the message and its recipient: each transport maps
    its provider's error codes to one of these in one table."""

    RETRY = "retry"  # passing (a 5xx, a timeout): try again later, with backoff
    THROTTLE = "throttle"  # the sender is over its rate: slow it down, try again
    FAIL_AFTER = "fail_after"  # may pass (an unreachable handset): a few tries, then failed
    UNDELIVERABLE = "undeliverable"  # the address cannot get texts: failed, not tried again until it texts in
    OPTED_OUT = "opted_out"  # the provider knows the recipient unsubscribed
    PERMANENT = "permanent"  # trying again will not help (a malformed request, a blocked number)


class TransportError(Exception):
    """The provider did not take the message, and what that means (`failure`)."""

    def __init__(self, message: str, code: str | None = None, failure: Failure = Failure.RETRY):
        super().__init__(message)
        self.code = code
        self.failure = failure

    @property
    def permanent(self) -> bool:
        """Whether trying the same message again is pointless."""
        return self.failure in (Failure.UNDELIVERABLE, Failure.OPTED_OUT, Failure.PERMANENT)

    @property
    def opt_out(self) -> bool:
        """Whether the provider knows the recipient unsubscribed."""
        return self.failure is Failure.OPTED_OUT


class SmsTransport(Protocol):
    """Sends one text."""

    def send(self, sms: OutboundSms) -> SendResult: ...


def sms_transport(app: Flask) -> SmsTransport:
    """The app's SMS transport, built once per app and thread from its settings: each of a
    worker's sending threads has its own provider client, with its own pool of connections."""
    transports = app.extensions.get("kindred.sms_transports")
    if transports is None:  # not as setdefault's argument, which built a thread-local at every send
        transports = app.extensions.setdefault("kindred.sms_transports", threading.local())
    transport = getattr(transports, "transport", None)
    if transport is None:
        if app.config["SMS_TRANSPORT"] == "twilio":
            from gateway.delivery.transports.twilio_sms import TwilioSmsTransport

            transport = TwilioSmsTransport.from_config(app.config)
        else:
            from gateway.delivery.transports.simulator import SimulatorTransport

            transport = SimulatorTransport()
        transports.transport = transport
    return transport


class EmailTransport(Protocol):
    """Sends one email."""

    def send(self, email: OutboundEmail) -> SendResult: ...


def email_transport(app: Flask) -> EmailTransport | None:
    """The app's email transport, built once per app from its settings; None when
    EMAIL_TRANSPORT=none (email is off, and the outbox sends none)."""
    if not email_on(app.config):
        return None
    transport = app.extensions.get("kindred.email_transport")
    if transport is None:
        if app.config["EMAIL_TRANSPORT"] == "sendgrid":
            from gateway.delivery.transports.sendgrid_email import SendGridEmailTransport

            transport = SendGridEmailTransport.from_config(app.config)
        else:
            from gateway.delivery.transports.simulator import SimulatorMailTransport

            transport = SimulatorMailTransport()
        app.extensions["kindred.email_transport"] = transport
    return transport
