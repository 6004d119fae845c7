"""Delivery: addresses, the consent ledger, the outbox and its guard, delivery status history
and the transports. Everything that leaves Kindred passes through here."""
