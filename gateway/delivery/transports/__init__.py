"""Transports: one interface for every way a text leaves Kindred. Only gateway.delivery.outbox calls them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import Flask


@dataclass(frozen=True)
class OutboundSms:
    """One text to hand to a provider."""

    to: str
    body: str
    status_callback: str | None = None


@dataclass(frozen=True)
class SendResult:
    """What the provider said when it took the message: its id and our status for it."""

    provider_id: str
    status: str


class TransportError(Exception):
    """The provider did not take the message. `permanent` errors are not retried;
    `opt_out` means the provider knows the recipient unsubscribed."""

    def __init__(self, message: str, code: str | None = None, permanent: bool = False, opt_out: bool = False):
        super().__init__(message)
        self.code = code
        self.permanent = permanent
        self.opt_out = opt_out


class SmsTransport(Protocol):
    """Sends one text."""

    def send(self, sms: OutboundSms) -> SendResult: ...


def sms_transport(app: Flask) -> SmsTransport:
    """The app's SMS transport, built once per app from its settings."""
    transport = app.extensions.get("kindred.sms_transport")
    if transport is None:
        if app.config["SMS_TRANSPORT"] == "twilio":
            from gateway.delivery.transports.twilio_sms import TwilioSmsTransport

            transport = TwilioSmsTransport.from_config(app.config)
        else:
            from gateway.delivery.transports.simulator import SimulatorTransport

            transport = SimulatorTransport()
        app.extensions["kindred.sms_transport"] = transport
    return transport
