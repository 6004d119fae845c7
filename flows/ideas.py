"""Power shared: volunteers teach the library. `IDEA <text>` sends a conversation idea that
worked for them to the organizers' review queue; `IDEA` alone explains how.

When an organizer adopts one of their ideas into the prompt library, the volunteer is told
once, by a line added to the reply to their next text (flows/notices.py).
"""

from __future__ import annotations

from flows.events import Context, Outcome, Reply, ShareIdea, State
from flows.messages import say
from flows.parse import mask_contacts

MAX_LENGTH = 1000  # more than any idea needs; the rest of a very long text is dropped


def share(state: State, text: str, ctx: Context) -> Outcome:
    """IDEA followed by an idea: thank the volunteer and queue it for review, any phone
    number or email in it masked. IDEA with nothing after it: how to share one."""
    idea = mask_contacts(" ".join(text.split()), ctx.organization.region)[:MAX_LENGTH].strip()
    if not idea:
        return Outcome(state, (Reply(say(ctx.language, "ideas.how")),))
    return Outcome(state, (Reply(say(ctx.language, "ideas.thanks")),), (ShareIdea(idea),))
