"""The simulator transport: texts go nowhere but the database, where the /simulator page shows
them as the volunteer's phone would."""

from __future__ import annotations

import uuid

from gateway.delivery.transports import OutboundSms, SendResult


class SimulatorTransport:
    """Accepts every text at once, as delivered."""

    def send(self, sms: OutboundSms) -> SendResult:
        return SendResult(provider_id="SIM" + uuid.uuid4().hex, status="delivered")
