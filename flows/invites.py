"""Growing the community on each person's own consent: INVITE gives the volunteer a message to
forward, carrying their personal code. Kindred never texts the friend; the friend texts JOIN and
the code themselves, and goes through their own opt-in.
"""

from __future__ import annotations

import re

from flows.events import Context, Outcome, Reply, State
from flows.messages import say

_CODE = re.compile(r"^[A-Za-z0-9]{4,8}$")


def invitation(ctx: Context, friend_name: str | None = None) -> Outcome:
    """The INVITE answer: a short message to forward, with the volunteer's code."""
    language = ctx.language
    number = ctx.organization.phone or say(language, "invites.this_number")
    join = f"JOIN {ctx.referral_code}" if ctx.referral_code else "JOIN"
    message = say(language, "invites.message", organization=ctx.organization.name, join=join, number=number)
    to = friend_name or say(language, "invites.someone")
    body = say(language, "invites.forward", to=to, message=message)
    return Outcome(State("idle"), (Reply(body),))


def referral_code(rest: str) -> str | None:
    """The personal code in "JOIN K7Q2", if one was given."""
    word = rest.strip(" .!?").split(" ")[0] if rest.strip() else ""
    return word.upper() if _CODE.match(word) else None
