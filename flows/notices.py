"""News from the organizers, told once in the reply to the volunteer's next text.

Organizers start texts only through prompt rounds, so when an organizer makes a volunteer a
team lead, approves or declines the event a lead proposed, or adopts a volunteer's idea into
the library, the volunteer hears it as a line
added to the answer to whatever they text next ("(You're now a lead of Block Walkers ...)"),
and never again. A reply the carriers require (an opt-out confirmation, HELP) gets no news,
and nothing is added for someone who has not opted in.
"""

from __future__ import annotations

from dataclasses import replace

from flows.events import Consent, Context, NoticesTold, Outcome, ReplyKind
from flows.messages import say


def with_notices(outcome: Outcome, ctx: Context) -> Outcome:
    """`outcome` with the pending notices added to its last ordinary reply (and marked told);
    unchanged if there are none or no ordinary reply to carry them."""
    if not ctx.notices or ctx.consent is not Consent.OPTED_IN:
        return outcome
    replies = list(outcome.replies)
    carrier = next((i for i in reversed(range(len(replies))) if replies[i].kind is ReplyKind.REPLY), None)
    if carrier is None:
        return outcome
    # Two ideas adopted are one piece of news, said once.
    news = " ".join(
        dict.fromkeys(say(ctx.language, f"notices.{n.kind}", subject=n.subject) for n in ctx.notices)
    )
    replies[carrier] = replace(replies[carrier], body=f"{replies[carrier].body} {news}")
    return replace(outcome, replies=tuple(replies), effects=(*outcome.effects, NoticesTold(ctx.notices)))
