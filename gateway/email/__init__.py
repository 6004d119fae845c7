"""Member email: one inbound email's turn (read it, route it by the token in its recipient
address, keep the member's own words for the console inbox, honour an unsubscribe)."""
