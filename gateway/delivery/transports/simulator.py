"""The simulator transports: texts and emails go nowhere but the database, where the /simulator
page shows them as the volunteer's phone and the member's mailbox would."""

from __future__ import annotations

import uuid

from gateway.delivery.transports import OutboundEmail, OutboundSms, SendResult

# The simulator's own phone number, the one volunteers "text" on the /simulator page (555-01xx
# numbers are reserved for fiction).
SIMULATOR_NUMBER = "+15555550199"


class SimulatorTransport:
    """Accepts every text at once, as delivered."""

    def send(self, sms: OutboundSms) -> SendResult:
        return SendResult(provider_id="SIM" + uuid.uuid4().hex, status="delivered")


class SimulatorMailTransport:
    """Accepts every email at once, as delivered (the simulator's mailbox reads the outbox)."""

    def send(self, email: OutboundEmail) -> SendResult:
        return SendResult(provider_id="SIMMAIL" + uuid.uuid4().hex, status="delivered")
