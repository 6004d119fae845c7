"""Opt-out, opt-in and HELP: the carrier-required handling that runs before any other flow.

A volunteer who asks to stop in any reasonable words gets exactly one confirmation and then
silence; only HELP and a re-subscribe word get an answer after that. Every opt-out is recorded,
at once, however often it comes; the confirmation goes at most once per number in
OPT_OUT_CONFIRMATION_EVERY, so STOP and START in turn never get a confirmation each.
"""

from __future__ import annotations

from datetime import timedelta

from flows import keywords, segments
from flows.events import (
    Consent,
    Context,
    Outcome,
    RecordConsent,
    Reply,
    ReplyKind,
    State,
)
from flows.messages import frequency, say

HELP_SEGMENTS = 2  # what a HELP answer should cost at most, where the organization's line allows
OPT_OUT_CONFIRMATION_EVERY = timedelta(minutes=10)


def help_text(ctx: Context) -> str:
    """The HELP answer, in the volunteer's language, as a person would write it: who we are,
    how to reach a person (the organization's contact and the number to text), the
    organization's own line if it set one, how often we text, rates, how to stop.

    With the organization's line it drops the sentence about what we do when that keeps the
    answer to two segments; the parts carriers require are always there."""
    org = ctx.organization
    key = "compliance.questions_contact" if org.contact else "compliance.questions"
    if not org.phone:
        key += "_here"  # a number we don't know yet is the one they are texting
    questions = say(ctx.language, key, contact=org.contact, number=org.phone)
    if org.help_text:
        questions += " " + org.help_text
    values = {
        "organization": org.name,
        "questions": questions,
        "frequency": frequency(ctx.language, org.frequency),
    }
    full = say(ctx.language, "compliance.help", **values)
    if not org.help_text or segments.count(full).count <= HELP_SEGMENTS:
        return full
    return say(ctx.language, "compliance.help_short", **values)


def handle(state: State, text: str, ctx: Context) -> Outcome | None:
    """Answer an opt-out, a re-subscribe or HELP; None when the text is none of those.

    Runs before any flow logic, whatever step the conversation is in.
    """
    reason = keywords.opt_out_reason(text, organization=ctx.organization.name)
    if reason is not None:
        recorded = (RecordConsent("opt_out", reason),)
        if ctx.consent is Consent.OPTED_OUT:
            return Outcome(state, (), recorded)
        confirmed = ctx.opt_out_confirmed_at
        if confirmed is not None and ctx.now - confirmed < OPT_OUT_CONFIRMATION_EVERY:
            return Outcome(State("opted_out", state.data), (), recorded)
        confirmation = Reply(
            say(ctx.language, "compliance.opted_out", organization=ctx.organization.name),
            ReplyKind.OPT_OUT_CONFIRMATION,
        )
        return Outcome(State("opted_out", state.data), (confirmation,), recorded)
    if keywords.is_help(text):
        return Outcome(state, (Reply(help_text(ctx), ReplyKind.HELP),))
    if ctx.consent is Consent.OPTED_OUT and keywords.is_opt_in(text):
        return resubscribe(state, text, ctx)
    return None


def resubscribe(state: State, text: str, ctx: Context) -> Outcome:
    """Record a fresh opt-in and pick the conversation up where it makes sense."""
    effect = RecordConsent("opt_in", text.strip().upper()[:40] or "START")
    if ctx.name is None:
        body = say(ctx.language, "compliance.welcome_back_no_name", organization=ctx.organization.name)
        return Outcome(State("ask_name"), (Reply(body),), (effect,))
    body = say(ctx.language, "compliance.welcome_back", name=ctx.name)
    return Outcome(State("idle"), (Reply(body),), (effect,))
