"""Conversation ideas: which friend is most due for a conversation, which idea fits them, and the
idea written out for the volunteer.

A prompt is a template from the organization's library with placeholders ({friend},
{volunteer}, {interest}, {relationship}, {event}) and optional targeting by ladder stage,
interest, relationship and language. The most specific prompt not yet used for that friend wins,
among those in the volunteer's language only: a Spanish-speaking volunteer gets the library's
Spanish prompts (keys ending "-es"). An idea that names {event} fits only while an event is
coming up, and then counts as more specific: a named event is the most concrete ask there is.
A friend who has joined gets only ideas written for that stage (welcoming them, bringing them
along), and only once every friend still on the way has run out of ideas.

An idea is never repeated for a friend. When none is left that fits them, the volunteer is told
so kindly, with what would help: what the friend cares about (the conversation then waits for
that answer), how the last talk went, or someone new. The lead ("Idea for" / "Idea para"), that
answer, the closing line and the words filled into the placeholders (interest and relationship
labels, "you" / "tú", the event) come from the message catalog.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from flows import segments
from flows.events import Context, EventView, Friend, FriendRef, MarkPrompted, Prompt, Reply, State
from flows.messages import day_and_month, interest_label, relationship_label, say
from flows.segments import gsm_friendly

# Friends further along the ladder need a conversation less urgently; joined friends are done.
_URGENCY = {"listed": 0, "talked": 1, "open": 2, "committed": 3}  # every stage but "joined"
MAX_SEGMENTS = 2  # what one idea may cost, where the text allows
EVENT = "{event}"  # the placeholder an idea names the next event with
EXAMPLES = 3  # interests offered as examples when asking what a friend cares about


@dataclass(frozen=True)
class Suggestion:
    """An idea for a conversation with one friend."""

    friend: Friend
    prompt: Prompt | None  # None: no unused idea fits them, and the text says so
    text: str


class Due(Protocol):
    """What choosing the friend most due reads of a friend (a Friend, or a row of its fields)."""

    @property
    def id(self) -> int: ...
    @property
    def stage(self) -> str: ...
    @property
    def added_at(self) -> datetime | None: ...
    @property
    def last_prompted_at(self) -> datetime | None: ...
    @property
    def last_reported_at(self) -> datetime | None: ...
    @property
    def snoozed_until(self) -> datetime | None: ...


DueFriend = TypeVar("DueFriend", bound=Due)


def most_due(friends: Iterable[DueFriend], now: datetime | None = None) -> DueFriend | None:
    """The friend most due for a conversation: earliest on the ladder, then the one whose last
    prompt or report is oldest (never is oldest of all), then the one added first. Friends the
    volunteer snoozed until after `now` wait their turn."""
    return next(iter(due_order(friends, now)), None)


def due_order(friends: Iterable[DueFriend], now: datetime | None = None) -> list[DueFriend]:
    """The friends still on the way up the ladder and not snoozed past `now`, most due first
    (as :func:`most_due` orders them)."""
    candidates = [
        f
        for f in friends
        if f.stage in _URGENCY and not (now and f.snoozed_until and _naive(f.snoozed_until) > _naive(now))
    ]

    def key(friend: DueFriend) -> tuple[int, datetime, datetime, int]:
        touches = [t for t in (friend.last_prompted_at, friend.last_reported_at) if t]
        last_touch = max(touches) if touches else datetime.min
        added = friend.added_at or datetime.min
        return (_URGENCY[friend.stage], _naive(last_touch), _naive(added), friend.id)

    return sorted(candidates, key=key)


def with_idea(ctx: Context) -> Friend | None:
    """The friend to give the volunteer an idea for: the most due who has an unused idea that
    fits them, else a friend who joined and has a welcome idea left; None if nobody has one."""
    joined = [f for f in ctx.friends if f.stage == "joined"]
    return next((f for f in (*due_order(ctx.friends, ctx.now), *joined) if has_idea(f, ctx)), None)


def has_idea(friend: Friend, ctx: Context) -> bool:
    """Whether an idea never used for `friend` fits them (the first found answers, so a prompt
    round checks each volunteer's friends without ranking the whole library for each)."""
    event = event_to_invite_to(ctx) is not None
    return any(
        p.id not in friend.used_prompt_ids and _specificity(p, friend, ctx.language, event) is not None
        for p in ctx.prompts
    )


def matching_prompt(
    friend: Friend, prompts: Iterable[Prompt], language: str, event: EventView | None = None
) -> Prompt | None:
    """The most specific library prompt that fits the friend and was never used for them;
    ideas naming the next event fit only when there is one (`event`)."""
    best: tuple[int, int, Prompt] | None = None
    for prompt in prompts:
        if prompt.id in friend.used_prompt_ids:
            continue
        specificity = _specificity(prompt, friend, language, event is not None)
        if specificity is None:
            continue
        rank = (specificity, -prompt.id, prompt)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None


def suggest(friend: Friend, ctx: Context, lead: str = "") -> Suggestion:
    """Write out the best unused idea for a conversation with `friend`, after `lead`, in at
    most MAX_SEGMENTS segments where the text allows: the closing line goes first, then the
    lead. For a friend whose last talk was hard (`listen_first`), the idea opens with a line
    to lead with listening and a personal story, which is never dropped. With no unused idea
    left for them, the text says so and what would help."""
    language = ctx.language
    event = event_to_invite_to(ctx)
    prompt = matching_prompt(friend, ctx.prompts, language, event)
    if prompt is None:
        return Suggestion(friend, None, f"{lead} {_none_left(friend, ctx)}".strip())
    filled = _sentence(fill(gsm_friendly(prompt.body), _placeholders(friend, prompt, ctx, event)))
    idea = say(language, "prompts.idea", friend=friend.name, idea=filled)
    if friend.listen_first:
        idea = f"{say(language, 'prompts.listen_first', friend=friend.name)} {idea}"
    closing = say(language, "prompts.closing")
    candidates = [f"{lead} {idea} {closing}", f"{lead} {idea}", f"{idea} {closing}", idea]
    fitting = (c.strip() for c in candidates if segments.count(c.strip()).count <= MAX_SEGMENTS)
    return Suggestion(friend, prompt, next(fitting, idea))


def prompt_reply(
    friend: Friend, ref: FriendRef, ctx: Context, lead: str = ""
) -> tuple[Reply, tuple[MarkPrompted, ...], State]:
    """The reply carrying an idea for `friend`, the effect that marks the prompt used, and the
    conversation after it: expecting a report about them, or, when no idea was left for them,
    what they care about (see :func:`suggest`)."""
    suggestion = suggest(friend, ctx, lead)
    if suggestion.prompt is None:
        data = {"friend_name": friend.name, "prompted_friend": friend.name}
        return Reply(suggestion.text), (), State("ask_interests", data)
    return Reply(suggestion.text), (MarkPrompted(ref, suggestion.prompt.id),), prompted_state(friend)


def event_to_invite_to(ctx: Context) -> EventView | None:
    """The upcoming event to suggest bringing a friend to: the soonest the volunteer said
    they'd come to, else the soonest of all; None when nothing is coming up."""
    upcoming = [e for e in ctx.events if e.starts_at > ctx.now]
    going = [e for e in upcoming if e.going]
    return (going or upcoming or [None])[0]


def prompted_state(friend: Friend, sent_at: datetime | None = None) -> State:
    """The conversation after an idea for `friend` went out (or, given `sent_at`, once it goes
    then: a prompt round's idea held for the volunteer's calling window): a report that names
    nobody is about them."""
    data = {"prompted_friend": friend.name}
    if sent_at is not None:
        data["prompted_from"] = sent_at.isoformat()
    return State("idle", data)


def prompted_friend(state: State, now: datetime) -> str:
    """The name of the friend the volunteer was last given an idea for, if it has reached them
    by `now`; "" if none."""
    sent_at = state.data.get("prompted_from")
    if sent_at and _naive(datetime.fromisoformat(str(sent_at))) > _naive(now):
        return ""
    return str(state.data.get("prompted_friend") or "")


def fill(template: str, values: Mapping[str, str]) -> str:
    """Fill {placeholders} in a template; unknown placeholders are left as written, so a typo in
    the library shows up in the preview instead of breaking a volunteer's conversation."""
    out = []
    for literal, name, _spec, _conv in string.Formatter().parse(
        template.replace("{{", "\0").replace("}}", "\1")
    ):
        out.append(literal)
        if name is not None:
            out.append(values.get(name, "{" + name + "}"))
    return "".join(out).replace("\0", "{").replace("\1", "}")


def _specificity(prompt: Prompt, friend: Friend, language: str, event: bool) -> int | None:
    if prompt.language != language:
        return None
    if friend.stage == "joined" and "joined" not in prompt.stages:
        return None
    names_event = EVENT in prompt.body
    if names_event and not event:
        return None
    score = 1 if names_event else 0
    for wanted, have in (
        (prompt.stages, {friend.stage}),
        (prompt.relationships, {friend.relationship}),
        (prompt.interests, set(friend.interests)),
    ):
        if not wanted:
            continue
        if not set(wanted) & have:
            return None
        score += 1
    return score


def _placeholders(friend: Friend, prompt: Prompt, ctx: Context, event: EventView | None) -> dict[str, str]:
    language = ctx.language
    targeted = [i for i in friend.interests if i in prompt.interests]
    interest = (targeted or list(friend.interests) or [None])[0]
    # "other" reads as a friend: "ask your friend ...".
    relationship = "friend" if friend.relationship == "other" else friend.relationship
    values = {
        "friend": friend.name,
        "volunteer": ctx.name or say(language, "prompts.you"),
        "interest": interest_label(language, interest) if interest else say(language, "prompts.what_matters"),
        "relationship": relationship_label(language, relationship),
    }
    if event is not None:
        date = day_and_month(language, event.starts_at, short=True)
        values["event"] = say(language, "prompts.event", title=event.title, date=date)
    return values


def _none_left(friend: Friend, ctx: Context) -> str:
    """No unused idea fits `friend`: say so, and ask what else they care about."""
    language = ctx.language
    interests = ctx.organization.interests
    fresh = [i for i in interests if i not in friend.interests] or list(interests)
    examples = ", ".join(interest_label(language, i) for i in fresh[:EXAMPLES])
    return say(language, "prompts.none_left", friend=friend.name, examples=examples)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


def _naive(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
