"""The entry point of the conversation logic: one inbound text in, the answer out.

Opt-out, re-subscribe and HELP are handled first, before any flow logic and whatever step the
conversation is in. Someone who has not opted in only ever gets the program's terms. After
that, commands (ADD, FRIENDS, PROMPT, IDEA, TIPS, SKIP, TEAM, UPDATE, EVENTS, RSVP, EMAIL ...) win
over a pending question (TIPS, like HELP, leaves it open), then an RSVP in plain words ("count
me in for the forum"), then an acknowledgement ("ok 👍", "thanks!", "gracias") gets a short
friendly reply and leaves a pending question open (one asking for a name reads it itself:
"Dale" may be one), a pending question takes only its answer
(a report or a new friend of the volunteer's own sent instead is handled as that, and the
question dropped; after DELETE's question anything but YES keeps everything and is handled as
itself), and free text is read as a report (about a listed friend, or someone it adds) or a new
friend. Anything not understood
gets a short helpful reply and goes to the organizer inbox. News from the organizers (a volunteer
made a team lead, their proposed event approved) rides on the answer (flows/notices.py).

Before all of that, a pure pre-step picks the language of the answer
(:func:`flows.language.choose_language`: ESPAÑOL / ENGLISH by name, a Spanish keyword or command
such as AYUDA, ALTO or MISDATOS, or the language the text is written in when the evidence is
strong enough). It only computes a language; it never answers or swallows a text, so an opt-out
is still honoured first, only confirmed in the language chosen for this turn (a lone STOP never
changes it; a lone ALTO chooses Spanish). When the language changes, the same turn's
replies are already in the new one and the outcome carries a SetLanguage effect. Every reply's
words come from the message catalog (:mod:`flows.messages`).
"""

from __future__ import annotations

from dataclasses import replace

from flows import (
    compliance,
    email_signup,
    event_proposals,
    events_rsvp,
    followups,
    friends,
    ideas,
    invites,
    keywords,
    language,
    notices,
    onboarding,
    parse,
    privacy,
    profile,
    prompts,
    reports,
    teams,
    tips,
)
from flows.events import (
    Consent,
    Context,
    EventView,
    Inbound,
    KeepForInbox,
    Outcome,
    Reply,
    ReplyKind,
    SetLanguage,
    State,
)
from flows.messages import say

# Steps where a short answer is expected: "no more" there answers the question.
NUMBERED_QUESTIONS = ("choose_friend", "choose_outcome")


def respond(state: State, inbound: Inbound, ctx: Context) -> Outcome:
    """Decide the replies and effects for one inbound text, in the language it chooses."""
    text = inbound.text.strip()
    chosen = language.choose_language(text, ctx.language)
    if chosen == ctx.language:
        return notices.with_notices(_respond(state, text, ctx), ctx)
    ctx = replace(ctx, language=chosen)
    outcome = notices.with_notices(_respond(state, text, ctx), ctx)
    return replace(outcome, effects=(SetLanguage(chosen), *outcome.effects))


# Set in the state while the last text was an acknowledgement Kindred answered: the next one
# gets no answer, so an automatic "OK" from a phone or a bot cannot start a loop of replies.
ACKNOWLEDGED = "acknowledged"


def _respond(state: State, text: str, ctx: Context) -> Outcome:
    just_acknowledged = bool(state.data.get(ACKNOWLEDGED))
    after_tip = bool(state.data.get(tips.JUST_SENT))
    state = _without_last_reply_marks(state)
    handled = compliance.handle(state, text, ctx)
    if handled is not None:
        return handled
    if ctx.consent is Consent.OPTED_OUT:
        return Outcome(state)
    if language.asked_for_language(text) is not None:
        return _language_chosen(state, ctx)
    if ctx.consent is Consent.UNKNOWN:
        return onboarding.before_opt_in(state, text, ctx)
    if not text:
        body = say(ctx.language, "engine.media_only")
        return Outcome(state, (Reply(body),), (KeepForInbox("media without text"),))
    return _opted_in(state, text, ctx, just_acknowledged, after_tip) or not_understood(state, ctx)


def _without_last_reply_marks(state: State) -> State:
    """`state` without the marks that say what Kindred's last text was (an acknowledgement, a
    tip): they hold for the one text that follows it."""
    marks = (ACKNOWLEDGED, tips.JUST_SENT)
    return State(state.step, {k: v for k, v in state.data.items() if k not in marks})


def follow_up(state: State, ctx: Context, friend_id: int | None) -> Outcome:
    """The follow-up a volunteer asked for, now that it is due (the system starts this one)."""
    return followups.nudge(_without_last_reply_marks(state), ctx, friend_id)


def event_reminder(state: State, ctx: Context, event: EventView) -> Outcome:
    """The reminder before an event the volunteer said they'd come to (the system starts this one)."""
    return events_rsvp.reminder(_without_last_reply_marks(state), ctx, event)


def not_understood(state: State, ctx: Context) -> Outcome:
    """A helpful reply for text nobody could read; the organizer will see it in the inbox."""
    body = say(ctx.language, "engine.not_understood")
    return Outcome(state, (Reply(body),), (KeepForInbox("not understood"),))


def _language_chosen(state: State, ctx: Context) -> Outcome:
    """The answer to ESPAÑOL or ENGLISH, already in that language: the program's terms for
    someone who has not joined yet, else a confirmation. A pending question stays open, except
    DELETE's: an erasure is confirmed only in the language the volunteer just chose."""
    if ctx.consent is Consent.UNKNOWN:
        terms = Reply(onboarding.terms(ctx), ReplyKind.OPT_IN_REQUEST)
        return Outcome(State("awaiting_opt_in", state.data), (terms,))
    next_state = State("idle") if state.step == "confirm_delete" else state
    return Outcome(next_state, (Reply(say(ctx.language, "engine.language_chosen")),))


def _opted_in(
    state: State, text: str, ctx: Context, just_acknowledged: bool = False, after_tip: bool = False
) -> Outcome | None:
    if state.step == "confirm_delete":
        return _after_delete_question(state, text, ctx, just_acknowledged)
    if state.step not in NUMBERED_QUESTIONS and keywords.maybe_opt_out(
        text, organization=ctx.organization.name
    ):
        body = say(ctx.language, "engine.maybe_opt_out", organization=ctx.organization.name)
        return Outcome(state, (Reply(body),))
    command = keywords.parse_command(text)
    handled = _command(state, command, ctx) if command is not None else None
    if handled is not None:
        return handled
    if after_tip and keywords.asks_for_another(text):
        return tips.next_tip(state, ctx)
    rsvp = events_rsvp.count_me_in(state, text, ctx)
    if rsvp is not None:
        return rsvp
    snoozed = followups.snooze(state, text, ctx)
    if snoozed is not None:
        return snoozed
    acknowledged = None if _asks_for_a_name(state, ctx) else keywords.acknowledgement(text)
    if acknowledged is not None:
        # "ok" or "thanks" answers no question: a pending one stays open for its answer.
        acknowledging = State(state.step, {**state.data, ACKNOWLEDGED: True})
        if just_acknowledged:
            return Outcome(acknowledging)
        return Outcome(acknowledging, (Reply(say(ctx.language, f"engine.acknowledged.{acknowledged}")),))
    if state.step == "ask_interests" or _asks_for_a_name(state, ctx):
        other = _not_the_answer(state, text, ctx)
        if other is not None:
            return other
    if state.step == "ask_name":
        return onboarding.take_name(state, text, ctx)
    if state.step == "ask_interests":
        return friends.take_interests(state, text, ctx)
    if state.step in ("choose_friend", "choose_outcome"):
        answered = reports.answer(state, text, ctx)
        if answered is not None:
            return answered
    if state.step == "ask_friend" and not ctx.friends:
        return friends.add(state, text, ctx) or Outcome(state, (Reply(friends.ask_again(ctx.language)),))
    # Outside a question, free text adds a friend only when it says how the volunteer knows
    # them ("my neighbor Carlos"), so a stray word is not mistaken for a name.
    return reports.read(state, text, ctx) or friends.add(state, text, ctx, with_relationship_only=True)


def _after_delete_question(state: State, text: str, ctx: Context, just_acknowledged: bool) -> Outcome:
    """The answer to DELETE's question: YES erases; anything else keeps everything, and a text
    that is something else (a report, a command, a new friend) is handled as that too."""
    kept = privacy.confirm_erase(state, text, ctx)
    if privacy.confirms_erasure(text) or privacy.declines_erasure(text):
        return kept
    other = _opted_in(State("idle"), text, ctx, just_acknowledged)
    if other is None or not other.replies:
        return kept
    first, *rest = other.replies
    joined = replace(first, body=f"{kept.replies[0].body} {first.body}")
    return replace(other, replies=(joined, *rest))


def _not_the_answer(state: State, text: str, ctx: Context) -> Outcome | None:
    """A text sent while a question waits for a name or what a friend cares about that is
    something else: a report (about the friend asked about, if it names nobody) or a new friend
    of the volunteer's own ("my neighbor Carlos"). It is handled as that and the question is
    dropped; None when the text is the answer. A name answers the name question whatever
    follows it ("Dana, my coworker Lucy sent me"); short of a report, a text naming one of the
    organization's interests answers what a friend cares about ("same as my mom, healthcare")."""
    if state.step == "ask_name" and parse.parse_first_name(text) is not None:
        return None
    if parse.reads_as_report(text):
        about = None
        if state.step == "ask_interests":
            about = friends.find_by_name(ctx.friends, str(state.data.get("friend_name", "")))
        report = reports.read(State("idle"), text, ctx, about=about)
        if report is not None:
            return report
    if state.step == "ask_interests" and parse.find_interests(text, ctx.organization.interests):
        return None
    if state.step != "ask_friend" and parse.introduces_own(text, leading=state.step == "ask_name"):
        return friends.add(State("idle"), text, ctx, with_relationship_only=True)
    return None


def _asks_for_a_name(state: State, ctx: Context) -> bool:
    """Whether the pending question is the volunteer's name or their first friend's: "Dale",
    "Roger" or "Vale" may answer it, and its parser asks again, changing nothing, when an "ok"
    or a "thanks" does not."""
    return state.step == "ask_name" or (state.step == "ask_friend" and not ctx.friends)


def _command(state: State, command: keywords.Command, ctx: Context) -> Outcome | None:
    """The answer to a command; None when the word only looked like one ("Event was great,
    talked to Ruth"), and the text is read as free text."""
    if command.name == "add":
        return friends.add(state, command.rest, ctx) or Outcome(
            State("ask_friend"), (Reply(friends.ask_again(ctx.language)),)
        )
    if command.name == "friends":
        return friends.listing(ctx)
    if command.name == "skip" and state.step == "ask_interests":
        return friends.take_interests(state, "SKIP", ctx)
    if command.name in ("prompt", "skip"):
        return _next_prompt(state, ctx, command.rest if command.name == "prompt" else "")
    if command.name == "invite":
        return invites.invitation(ctx, command.rest.strip(" .!?") or None)
    if command.name == "forget":
        return privacy.forget(state, command.rest, ctx)
    if command.name == "mydata":
        return privacy.summary(ctx)
    if command.name == "email":
        return email_signup.sign_up(state, command.rest, ctx)
    if command.name == "zip":
        return profile.set_zip(state, command.rest, ctx)
    if command.name == "delete":
        return privacy.ask_to_erase(ctx)
    if command.name == "team":
        return teams.handle(state, command.rest, ctx)
    if command.name == "update":
        # "Update: talked to Maria, she's in!" from someone on no team is a report.
        report = reports.read(state, command.rest, ctx) if ctx.team is None else None
        return report or teams.update(state, command.rest, ctx)
    if command.name in ("mute", "unmute"):
        return teams.mute(ctx, muted=command.name == "mute")
    if command.name == "events":
        return events_rsvp.listing(ctx)
    if command.name == "event":
        return event_proposals.handle(state, command.rest, ctx)
    if command.name == "rsvp":
        return events_rsvp.rsvp(state, command.rest, ctx)
    if command.name == "idea":
        return ideas.share(state, command.rest, ctx)
    if command.name == "tips":
        return tips.next_tip(state, ctx)
    if command.name == "join":
        if ctx.name:
            return Outcome(state, (Reply(say(ctx.language, "engine.already_in", name=ctx.name)),))
        return Outcome(state, (Reply(say(ctx.language, "engine.already_in_no_name")),))
    return not_understood(state, ctx)


def _next_prompt(state: State, ctx: Context, asked: str = "") -> Outcome:
    # The friend named ("PROMPT Ruth", "IDEA for Ruth"), else the most due friend with an idea
    # left; if nobody has one, the most due is told so.
    named = parse.parse_report(asked, [(f.id, f.name) for f in ctx.friends]).friend_ids if asked else ()
    by_id = {f.id: f for f in ctx.friends}
    friend = by_id[named[0]] if named else prompts.with_idea(ctx) or prompts.most_due(ctx.friends, ctx.now)
    if friend is None:
        if ctx.friends:
            return Outcome(State("idle"), (Reply(say(ctx.language, "engine.everyone_joined")),))
        return Outcome(State("ask_friend"), (Reply(onboarding.first_friend_question(ctx.language)),))
    reply, marks, next_state = prompts.prompt_reply(friend, friend.id, ctx)
    return Outcome(next_state, (reply,), marks)
