"""The entry point of the conversation logic: one inbound text in, the answer out.

Opt-out, re-subscribe and HELP are handled first, before any flow logic and whatever step the
conversation is in. Someone who has not opted in only ever gets the program's terms. After
that, commands (ADD, FRIENDS, PROMPT, SKIP) win over a pending question, a pending question
takes its answer, and free text is read as a report or a new friend. Anything not understood
gets a short helpful reply and goes to the organizer inbox.
"""

from __future__ import annotations

from flows import (
    compliance,
    followups,
    friends,
    invites,
    keywords,
    onboarding,
    privacy,
    prompts,
    reports,
)
from flows.events import Consent, Context, Inbound, KeepForInbox, Outcome, Reply, State

NOT_UNDERSTOOD = (
    "Thanks! I've passed that on to an organizer. Reply ADD and a name to add someone, PROMPT for "
    "a conversation idea, FRIENDS for your list, or HELP."
)
MEDIA_ONLY = "Thanks! I can only read text here, so I've passed that on to an organizer."
# Steps where a short answer is expected: "no more" there answers the question.
NUMBERED_QUESTIONS = ("choose_friend", "choose_outcome")


def respond(state: State, inbound: Inbound, ctx: Context) -> Outcome:
    """Decide the replies and effects for one inbound text."""
    text = inbound.text.strip()
    handled = compliance.handle(state, text, ctx)
    if handled is not None:
        return handled
    if ctx.consent is Consent.OPTED_OUT:
        return Outcome(state)
    if ctx.consent is Consent.UNKNOWN:
        return onboarding.before_opt_in(state, text, ctx)
    if not text:
        return Outcome(state, (Reply(MEDIA_ONLY),), (KeepForInbox("media without text"),))
    return _opted_in(state, text, ctx) or not_understood(state)


def follow_up(state: State, ctx: Context, friend_id: int | None) -> Outcome:
    """The follow-up a volunteer asked for, now that it is due (the system starts this one)."""
    return followups.nudge(state, ctx, friend_id)


def not_understood(state: State) -> Outcome:
    """A helpful reply for text nobody could read; the organizer will see it in the inbox."""
    return Outcome(state, (Reply(NOT_UNDERSTOOD),), (KeepForInbox("not understood"),))


def _opted_in(state: State, text: str, ctx: Context) -> Outcome | None:
    if state.step == "confirm_delete":
        return privacy.confirm_erase(state, text, ctx)
    if state.step not in NUMBERED_QUESTIONS and keywords.maybe_opt_out(text):
        body = (
            f"Did you want to stop all texts from {ctx.organization.name}? Reply STOP to stop. "
            "Otherwise, reply PROMPT for a conversation idea."
        )
        return Outcome(state, (Reply(body),))
    command = keywords.parse_command(text)
    if command is not None:
        return _command(state, command, ctx)
    snoozed = followups.snooze(state, text, ctx)
    if snoozed is not None:
        return snoozed
    if state.step == "ask_name":
        return onboarding.take_name(state, text, ctx)
    if state.step == "ask_interests":
        return friends.take_interests(state, text, ctx)
    if state.step in ("choose_friend", "choose_outcome"):
        answered = reports.answer(state, text, ctx)
        if answered is not None:
            return answered
    if state.step == "ask_friend" and not ctx.friends:
        return friends.add(state, text, ctx) or Outcome(state, (Reply(friends.ASK_AGAIN),))
    # Outside a question, free text adds a friend only when it says how the volunteer knows
    # them ("my neighbor Carlos"), so a stray word is not mistaken for a name.
    return reports.read(state, text, ctx) or friends.add(state, text, ctx, with_relationship_only=True)


def _command(state: State, command: keywords.Command, ctx: Context) -> Outcome:
    if command.name == "add":
        return friends.add(state, command.rest, ctx) or Outcome(
            State("ask_friend"), (Reply(friends.ASK_AGAIN),)
        )
    if command.name == "friends":
        return friends.listing(ctx)
    if command.name == "skip" and state.step == "ask_interests":
        return friends.take_interests(state, "SKIP", ctx)
    if command.name in ("prompt", "skip"):
        return _next_prompt(state, ctx)
    if command.name == "invite":
        return invites.invitation(ctx, command.rest.strip(" .!?") or None)
    if command.name == "forget":
        return privacy.forget(state, command.rest, ctx)
    if command.name == "mydata":
        return privacy.summary(ctx)
    if command.name == "delete":
        return privacy.ask_to_erase(ctx)
    if command.name == "join":
        return Outcome(
            state, (Reply(f"You're already in, {ctx.name or 'friend'}! Reply PROMPT for an idea."),)
        )
    return not_understood(state)


def _next_prompt(state: State, ctx: Context) -> Outcome:
    friend = prompts.most_due(ctx.friends, ctx.now)
    if friend is None:
        if ctx.friends:
            body = "Everyone on your list has joined. Amazing! ADD someone else anytime."
            return Outcome(State("idle"), (Reply(body),))
        return Outcome(State("ask_friend"), (Reply(onboarding.FIRST_FRIEND_QUESTION),))
    reply, marks = prompts.prompt_reply(friend, friend.id, ctx)
    return Outcome(State("idle", {"prompted_friend": friend.name}), (reply,), marks)
