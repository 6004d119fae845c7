"""Provider webhooks: verify, store, hand to the flows, answer fast."""
