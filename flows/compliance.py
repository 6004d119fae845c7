"""Opt-out, opt-in and HELP: the carrier-required handling that runs before any other flow.

A volunteer who asks to stop in any reasonable words gets exactly one confirmation and then
silence; only HELP and a re-subscribe word get an answer after that.
"""

from __future__ import annotations

from flows import keywords
from flows.events import (
    Consent,
    Context,
    Outcome,
    RecordConsent,
    Reply,
    ReplyKind,
    State,
)


def help_text(ctx: Context) -> str:
    """The HELP answer: who we are, how to reach a person, how to stop."""
    org = ctx.organization
    return (
        f"{org.name}: plan real conversations with people you know. "
        f"Questions? {org.contact}. {org.frequency}. Msg & data rates may apply. "
        "Reply STOP to opt out."
    )


def handle(state: State, text: str, ctx: Context) -> Outcome | None:
    """Answer an opt-out, a re-subscribe or HELP; None when the text is none of those.

    Runs before any flow logic, whatever step the conversation is in.
    """
    reason = keywords.opt_out_reason(text)
    if reason is not None:
        if ctx.consent is Consent.OPTED_OUT:
            return Outcome(state)
        confirmation = Reply(
            f"{ctx.organization.name}: You're unsubscribed and will get no more texts from us. "
            "Reply START to rejoin.",
            ReplyKind.OPT_OUT_CONFIRMATION,
        )
        return Outcome(State("opted_out", state.data), (confirmation,), (RecordConsent("opt_out", reason),))
    if keywords.is_help(text):
        return Outcome(state, (Reply(help_text(ctx), ReplyKind.HELP),))
    if ctx.consent is Consent.OPTED_OUT and keywords.is_opt_in(text):
        return resubscribe(state, text, ctx)
    return None


def resubscribe(state: State, text: str, ctx: Context) -> Outcome:
    """Record a fresh opt-in and pick the conversation up where it makes sense."""
    effect = RecordConsent("opt_in", text.strip().upper()[:40] or "START")
    org = ctx.organization.name
    if ctx.name is None:
        body = f"Welcome back to {org}! What's your first name? Reply STOP anytime to opt out."
        return Outcome(State("ask_name"), (Reply(body),), (effect,))
    body = (
        f"Welcome back, {ctx.name}! Reply PROMPT for a conversation idea, ADD to add someone, "
        "or STOP anytime to opt out."
    )
    return Outcome(State("idle"), (Reply(body),), (effect,))
