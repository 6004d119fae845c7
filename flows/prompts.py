"""Conversation ideas: which friend is most due for a conversation, which idea fits them, and the
idea written out for the volunteer.

A prompt is a template from the organization's library with placeholders ({friend},
{volunteer}, {interest}, {relationship}) and optional targeting by ladder stage, interest,
relationship and language. The most specific prompt not yet used for that friend wins, among
those in the volunteer's language only: a Spanish-speaking volunteer gets the library's Spanish
prompts (keys ending "-es"), and the generic idea when none fits. The lead ("Idea for" /
"Idea para"), the generic idea, the closing line and the words filled into the placeholders
(interest and relationship labels, "you" / "tú") come from the message catalog.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from flows import segments
from flows.events import Context, Friend, FriendRef, MarkPrompted, Prompt, Reply, State
from flows.messages import interest_label, relationship_label, say
from flows.segments import gsm_friendly

# Friends further along the ladder need a conversation less urgently; joined friends are done.
_URGENCY = {"listed": 0, "talked": 1, "open": 2, "committed": 3}  # every stage but "joined"
MAX_SEGMENTS = 2  # what one idea may cost, where the text allows


@dataclass(frozen=True)
class Suggestion:
    """An idea for a conversation with one friend."""

    friend: Friend
    prompt: Prompt | None  # None: nothing in the library fits, the generic idea is used
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
    candidates = [
        f
        for f in friends
        if f.stage in _URGENCY and not (now and f.snoozed_until and _naive(f.snoozed_until) > _naive(now))
    ]
    if not candidates:
        return None

    def key(friend: DueFriend) -> tuple[int, datetime, datetime, int]:
        touches = [t for t in (friend.last_prompted_at, friend.last_reported_at) if t]
        last_touch = max(touches) if touches else datetime.min
        added = friend.added_at or datetime.min
        return (_URGENCY[friend.stage], _naive(last_touch), _naive(added), friend.id)

    return min(candidates, key=key)


def matching_prompt(friend: Friend, prompts: Iterable[Prompt], language: str) -> Prompt | None:
    """The most specific library prompt that fits the friend and was never used for them."""
    best: tuple[int, int, Prompt] | None = None
    for prompt in prompts:
        specificity = _specificity(prompt, friend, language)
        if specificity is None or prompt.id in friend.used_prompt_ids:
            continue
        rank = (specificity, -prompt.id, prompt)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None


def suggest(friend: Friend, ctx: Context, lead: str = "") -> Suggestion:
    """Write out the best idea for a conversation with `friend`, after `lead`, in at most
    MAX_SEGMENTS segments where the text allows: the closing line goes first, then the lead."""
    language = ctx.language
    prompt = matching_prompt(friend, ctx.prompts, language)
    # The generic idea's {friend} is left for fill(), like a library prompt's.
    body = gsm_friendly(prompt.body if prompt else say(language, "prompts.fallback", friend="{friend}"))
    filled = _sentence(fill(body, _placeholders(friend, prompt, ctx)))
    idea = say(language, "prompts.idea", friend=friend.name, idea=filled)
    closing = say(language, "prompts.closing")
    candidates = [f"{lead} {idea} {closing}", f"{lead} {idea}", f"{idea} {closing}", idea]
    fitting = (c.strip() for c in candidates if segments.count(c.strip()).count <= MAX_SEGMENTS)
    return Suggestion(friend, prompt, next(fitting, idea))


def prompt_reply(
    friend: Friend, ref: FriendRef, ctx: Context, lead: str = ""
) -> tuple[Reply, tuple[MarkPrompted, ...]]:
    """The reply carrying an idea for `friend`, and the effect that marks the prompt used."""
    suggestion = suggest(friend, ctx, lead)
    effects = (MarkPrompted(ref, suggestion.prompt.id),) if suggestion.prompt else ()
    return Reply(suggestion.text), effects


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


def _specificity(prompt: Prompt, friend: Friend, language: str) -> int | None:
    if prompt.language != language:
        return None
    score = 0
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


def _placeholders(friend: Friend, prompt: Prompt | None, ctx: Context) -> dict[str, str]:
    language = ctx.language
    targeted = [i for i in friend.interests if prompt and i in prompt.interests]
    interest = (targeted or list(friend.interests) or [None])[0]
    # "other" reads as a friend: "ask your friend ...".
    relationship = "friend" if friend.relationship == "other" else friend.relationship
    return {
        "friend": friend.name,
        "volunteer": ctx.name or say(language, "prompts.you"),
        "interest": interest_label(language, interest) if interest else say(language, "prompts.what_matters"),
        "relationship": relationship_label(language, relationship),
    }


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


def _naive(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
