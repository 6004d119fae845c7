"""Reports: the volunteer tells us, in their own words, how a conversation went.

A report names (or implies) a friend and an outcome. What was said is kept as what was learned,
and the friend moves along the ladder (listed → talked → open → committed → joined), never back.
When the text leaves the friend or the outcome unclear, the volunteer gets a short numbered
question instead of a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from flows import friends as friends_flow
from flows import parse
from flows.events import STAGES, Context, Friend, FriendRef, LogReport, Outcome, Reply, State
from flows.friends import find_by_name
from flows.messages import day_and_month, interest_label, join_names, say
from flows.prompts import event_to_invite_to, prompted_friend

# The numbered answers to "How did it go?", in order; their labels are "reports.choice.<outcome>".
OUTCOME_CHOICES = ("committed", "open", "undecided", "not_interested", "not_reached")
OUTCOME_STAGE = {
    "committed": "committed",
    "open": "open",
    "undecided": "talked",
    "not_interested": "talked",
}
MAX_CHOICES = 5


def read(state: State, text: str, ctx: Context, about: Friend | None = None) -> Outcome | None:
    """Log a report when the text is one; ask a numbered question when it is one but unclear;
    None when the text does not read as a report at all.

    A report about someone not on the volunteer's list ("talked to my cousin Joe, he's in")
    adds them and logs it in one turn. A report naming nobody is about `about` when given (the
    friend a pending question is about), else the friend last given an idea for, or the only one.
    """
    listed = [(f.id, f.name) for f in ctx.friends]
    reading = parse.parse_report(text, listed)
    if reading.outcome is None and not reading.talked:
        return None
    by_id = {f.id: f for f in ctx.friends}
    friends = [by_id[i] for i in reading.friend_ids if i in by_id]
    if not friends:
        new = parse.report_people(text, listed)
        if any(f.relationship == "family" for f in ctx.friends):
            # "talked to grandma" from someone whose grandma is listed by name: not someone new.
            new = [person for person in new if not parse.is_kin_name(person.name)]
        if new:
            return _about_new_people(new, reading.outcome, text, ctx)
        implied = about or _implied_friend(state, ctx)
        if implied is None:
            return _ask_friend(text, reading.outcome, ctx) if ctx.friends else None
        friends = [implied]
    if reading.outcome is None:
        return _ask_outcome(text, friends, ctx)
    return log(friends, reading.outcome, text, ctx)


def answer(state: State, text: str, ctx: Context) -> Outcome | None:
    """Take the answer to a numbered question asked by :func:`read`; None if it isn't one."""
    choice = _number(text)
    if choice is None:
        return None
    data = state.data
    if state.step == "choose_friend":
        options = [f for f in ctx.friends if f.id in data.get("options", ())]
        options.sort(key=lambda f: list(data["options"]).index(f.id))
        if not 1 <= choice <= len(options):
            return Outcome(state, (Reply(say(ctx.language, "reports.choose_number", count=len(options))),))
        friend = options[choice - 1]
        if data.get("outcome"):
            return log([friend], data["outcome"], data.get("text", ""), ctx)
        return _ask_outcome(data.get("text", ""), [friend], ctx)
    if not 1 <= choice <= len(OUTCOME_CHOICES):
        body = say(ctx.language, "reports.choose_number", count=len(OUTCOME_CHOICES))
        return Outcome(state, (Reply(body),))
    friends = [f for f in ctx.friends if f.id in data.get("friends", ())]
    named = (find_by_name(ctx.friends, str(name)) for name in data.get("names", ()))
    friends += [f for f in named if f is not None and f not in friends]
    if not friends:
        return None
    return log(friends, OUTCOME_CHOICES[choice - 1], data.get("text", ""), ctx)


def log(
    friends: Sequence[Friend],
    outcome: str,
    text: str,
    ctx: Context,
    refs: Sequence[FriendRef] = (),
    lead: str = "",
) -> Outcome:
    """Record the report for each friend and thank the volunteer with what was logged, and
    suggest the next step on the ladder: for one friend who is open, an invite to share for
    the next upcoming event (one the volunteer is going to first), if there is one. `refs`
    name the friends in the effects when they are added by this same turn; `lead` goes first.
    A friend who was not interested, or a talk that sounds tense ("we argued"), marks the
    friend's next idea to lead with listening (see :func:`flows.prompts.suggest`)."""
    tags = parse.find_interests(text, ctx.organization.interests)
    learned = " ".join(text.split())
    refs = refs or [f.id for f in friends]
    # A tense talk that still ended well ("it got heated but she's in") needs no softer start.
    listen_first = outcome == "not_interested" or (
        parse.sounds_tense(text) and outcome not in ("committed", "open")
    )
    effects = tuple(
        LogReport(ref, outcome, learned, tags, _next_stage(f.stage, outcome), listen_first)
        for f, ref in zip(friends, refs, strict=True)
    )
    language = ctx.language
    names = join_names(language, [f.name for f in friends])
    count = "one" if len(friends) == 1 else "many"
    logged = say(language, f"reports.said.{outcome}.{count}", names=names)
    if tags:
        labels = ", ".join(interest_label(language, t) for t in tags)
        logged = say(language, "reports.said_with_tags", said=logged, tags=labels)
    if outcome == "not_reached":
        key = "reports.logged_not_reached"
    elif outcome == "open" and len(friends) == 1:
        key = "reports.logged_open"
    elif outcome == "committed":
        key = "reports.logged_committed"
    else:
        key = "reports.logged"
    event = event_to_invite_to(ctx) if key == "reports.logged_open" else None
    if event is not None:
        date = day_and_month(language, event.starts_at, short=True)
        body = say(
            language, "reports.logged_open_event", logged=logged, names=names, event=event.title, date=date
        )
    else:
        body = say(language, key, logged=logged, names=names)
    return Outcome(State("idle"), (Reply(f"{lead} {body}" if lead else body),), effects)


def _about_new_people(
    people: Sequence[parse.FriendMention], outcome: str | None, text: str, ctx: Context
) -> Outcome:
    """Add the people a report is about to the volunteer's list, and log it (or ask how it went)."""
    added = friends_flow.adding(people)
    lead = friends_flow.added_line(ctx.language, people)
    views = [friends_flow.view(person) for person in people]
    if outcome is None:
        asked = _ask_outcome(text, views, ctx)
        data = {"names": [person.name for person in people], "text": text}
        (reply,) = asked.replies
        return Outcome(State("choose_outcome", data), (Reply(f"{lead} {reply.body}"),), added)
    logged = log(views, outcome, text, ctx, refs=[effect.key for effect in added], lead=lead)
    return replace(logged, effects=added + logged.effects)


def _next_stage(current: str, outcome: str) -> str | None:
    target = OUTCOME_STAGE.get(outcome)
    if target is None or STAGES.index(target) <= STAGES.index(current):
        return None
    return target


def _implied_friend(state: State, ctx: Context) -> Friend | None:
    """The friend the volunteer most likely means when they name nobody: the one we last gave
    them an idea for, or their only friend."""
    prompted = prompted_friend(state, ctx.now)
    if prompted:
        friend = find_by_name(ctx.friends, str(prompted))
        if friend is not None:
            return friend
    return ctx.friends[0] if len(ctx.friends) == 1 else None


def _ask_friend(text: str, outcome: str | None, ctx: Context) -> Outcome:
    recent = sorted(ctx.friends, key=lambda f: f.id)[-MAX_CHOICES:]
    options = " ".join(f"{i} {f.name}" for i, f in enumerate(recent, 1))
    body = say(ctx.language, "reports.ask_friend", options=options)
    data = {"options": [f.id for f in recent], "outcome": outcome, "text": text}
    return Outcome(State("choose_friend", data), (Reply(body),))


def _ask_outcome(text: str, friends: Sequence[Friend], ctx: Context) -> Outcome:
    language = ctx.language
    options = " ".join(
        f"{i} {say(language, f'reports.choice.{outcome}')}" for i, outcome in enumerate(OUTCOME_CHOICES, 1)
    )
    names = join_names(language, [f.name for f in friends])
    body = say(language, "reports.ask_outcome", names=names, options=options)
    data = {"friends": [f.id for f in friends], "text": text}
    return Outcome(State("choose_outcome", data), (Reply(body),))


def _number(text: str) -> int | None:
    stripped = text.strip().rstrip(".!)")
    return int(stripped) if stripped.isdigit() and len(stripped) <= 2 else None
