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
from flows.messages import frequency, say


def first_friend_question(language: str) -> str:
    """The question that asks for a first friend, with an example answer."""
    return say(language, "onboarding.first_friend_question")


def terms(ctx: Context) -> str:
    """The opt-in request, in the volunteer's language: program name, purpose, frequency,
    rates, HELP and STOP (the CTIA asks for all of them in Spanish too)."""
    org = ctx.organization
    return say(
        ctx.language,
        "onboarding.terms",
        organization=org.name,
        frequency=frequency(ctx.language, org.frequency),
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
            question = first_friend_question(ctx.language)
            body = say(ctx.language, "onboarding.welcome_back", name=ctx.name, question=question)
            return Outcome(State("ask_friend"), (Reply(body),), opt_in)
        return Outcome(State("ask_name"), (Reply(say(ctx.language, "onboarding.welcome")),), opt_in)
    if state.step == "awaiting_opt_in":
        body = say(ctx.language, "onboarding.terms_reminder", organization=ctx.organization.name)
        return Outcome(state, (Reply(body, ReplyKind.OPT_IN_REQUEST),))
    command = keywords.parse_command(text)
    code = invites.referral_code(command.rest) if command and command.name == "join" else None
    data = {"referral_code": code} if code else dict(state.data)
    return Outcome(State("awaiting_opt_in", data), (Reply(terms(ctx), ReplyKind.OPT_IN_REQUEST),))


def take_name(state: State, text: str, ctx: Context) -> Outcome:
    """Remember the volunteer's first name, then ask for a first friend."""
    name = parse.parse_first_name(text)
    if name is None:
        return Outcome(state, (Reply(say(ctx.language, "onboarding.name_again")),))
    question = first_friend_question(ctx.language)
    body = say(ctx.language, "onboarding.thanks_name", name=name, question=question)
    return Outcome(State("ask_friend"), (Reply(body),), (SetName(name),))
