"""SMS conversations: one inbound text's turn (lock the conversation, build the context, run
the flows, apply their effects) and the turns the system starts itself (follow-ups, reminders)."""
