"""Joining: the first text gets the program's terms, YES opts in, then a first name and a first
friend.

Nobody becomes a volunteer without replying YES to a message that said who we are, how often we
text, that rates may apply, and how to get help or stop (the CTIA's wording).
"""

from __future__ import annotations

from flows import invites, keywords, parse
from flows.events import (
    Context,
    Effect,
    Outcome,
    RecordConsent,
    Referred,
    Reply,
    ReplyKind,
    SetName,
    State,
)

FIRST_FRIEND_QUESTION = (
    "Who is someone in your life you'd like to talk with? Reply with a name and how you know "
    'them, like "Maria, neighbor".'
)


def terms(ctx: Context) -> str:
    """The opt-in request: program name, purpose, frequency, rates, HELP and STOP."""
    org = ctx.organization
    return (
        f"{org.name}: plan real conversations with people you know. Reply YES to join. "
        f"{org.frequency}. Msg & data rates may apply. HELP for help, STOP to opt out."
    )


def before_opt_in(state: State, text: str, ctx: Context) -> Outcome:
    """Answer someone who has not opted in: YES after the terms joins, anything else gets the
    terms (or a short reminder of them, if they were just sent)."""
    if state.step == "awaiting_opt_in" and keywords.is_opt_in(text):
        code = state.data.get("referral_code")
        opt_in: tuple[Effect, ...] = (RecordConsent("opt_in", text.strip().upper()[:40]),)
        if code:
            opt_in += (Referred(str(code)),)
        if ctx.name:
            body = f"Welcome back, {ctx.name}! {FIRST_FRIEND_QUESTION}"
            return Outcome(State("ask_friend"), (Reply(body),), opt_in)
        return Outcome(State("ask_name"), (Reply("Welcome! What's your first name?"),), opt_in)
    if state.step == "awaiting_opt_in":
        body = f"Reply YES to join {ctx.organization.name}, HELP for help, or STOP to opt out."
        return Outcome(state, (Reply(body, ReplyKind.OPT_IN_REQUEST),))
    command = keywords.parse_command(text)
    code = invites.referral_code(command.rest) if command and command.name == "join" else None
    data = {"referral_code": code} if code else dict(state.data)
    return Outcome(State("awaiting_opt_in", data), (Reply(terms(ctx), ReplyKind.OPT_IN_REQUEST),))


def take_name(state: State, text: str, ctx: Context) -> Outcome:
    """Remember the volunteer's first name, then ask for a first friend."""
    name = parse.parse_first_name(text)
    if name is None:
        return Outcome(state, (Reply("Sorry, I didn't get that. What's your first name?"),))
    body = f"Thanks, {name}. {FIRST_FRIEND_QUESTION}"
    return Outcome(State("ask_friend"), (Reply(body),), (SetName(name),))
