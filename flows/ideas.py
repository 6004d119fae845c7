"""Power shared: volunteers teach the library. `IDEA <text>` sends a conversation idea that
worked for them to the organizers' review queue; `IDEA` alone explains how.

When an organizer adopts one of their ideas into the prompt library, the volunteer is told
once, by a line added to the reply to their next text (never a text of its own, and never on
a STOP or HELP confirmation or the program's terms).
"""

from __future__ import annotations

from dataclasses import replace

from flows.events import Context, Outcome, Reply, ReplyKind, ShareIdea, State, ToldIdeasAdopted
from flows.messages import say
from flows.parse import mask_contacts

MAX_LENGTH = 1000  # more than any idea needs; the rest of a very long text is dropped


def share(state: State, text: str, ctx: Context) -> Outcome:
    """IDEA followed by an idea: thank the volunteer and queue it for review, any phone
    number or email in it masked. IDEA with nothing after it: how to share one."""
    idea = mask_contacts(" ".join(text.split()))[:MAX_LENGTH].strip()
    if not idea:
        return Outcome(state, (Reply(say(ctx.language, "ideas.how")),))
    return Outcome(state, (Reply(say(ctx.language, "ideas.thanks")),), (ShareIdea(idea),))


def tell_adopted(outcome: Outcome, ctx: Context) -> Outcome:
    """The outcome with the news that the volunteer's ideas were adopted added to its first
    ordinary reply, if it has one and there is news; otherwise unchanged (they hear it next
    time)."""
    if not ctx.ideas_adopted:
        return outcome
    for index, reply in enumerate(outcome.replies):
        if reply.kind is ReplyKind.REPLY:
            told = Reply(f"{reply.body} {say(ctx.language, 'ideas.adopted')}", reply.kind)
            replies = (*outcome.replies[:index], told, *outcome.replies[index + 1 :])
            return replace(
                outcome, replies=replies, effects=(*outcome.effects, ToldIdeasAdopted(ctx.ideas_adopted))
            )
    return outcome
