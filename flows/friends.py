"""Friends: the people already in a volunteer's life, added in free text, listed with FRIENDS.

Friends are never contacted by Kindred. A phone number or email the volunteer types is passed on
only so the gateway can keep a keyed digest of it (to recognise the friend if they ever join on
their own); the volunteer has the conversation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from flows import parse, prompts
from flows.events import (
    AddFriend,
    Context,
    Friend,
    Outcome,
    Reply,
    SetInterests,
    State,
)
from flows.parse import FriendMention

ASK_AGAIN = 'Who would you like to add? Reply with a name and how you know them, like "Maria, neighbor".'


def add(state: State, text: str, ctx: Context, with_relationship_only: bool = False) -> Outcome | None:
    """Add the friends named in `text`; None when no name could be found in it. With
    `with_relationship_only`, only names whose relationship the text states count."""
    mentions = parse.parse_friends(text, ctx.organization.interests)
    if with_relationship_only:
        mentions = [m for m in mentions if m.relationship != "other"]
    if not mentions:
        return None
    already = {f.name.casefold() for f in ctx.friends}
    fresh = [m for m in mentions if m.name.casefold() not in already]
    if not fresh:
        names = _join([m.name for m in mentions])
        verb = "is" if len(mentions) == 1 else "are"
        body = f"{names} {verb} already on your list. Reply PROMPT for an idea."
        return Outcome(State("idle"), (Reply(body),))

    effects = tuple(
        AddFriend(f"new:{i}", m.name, m.relationship, m.interests, m.contacts) for i, m in enumerate(fresh)
    )
    added = f"Added {_join([m.name for m in fresh])} ({_describe(fresh)})."
    if any(m.contacts for m in fresh):
        added += " We never text your friends; you have the conversation."
    first = fresh[0]
    if len(fresh) == 1 and not first.interests:
        example = ", ".join(ctx.organization.interests[:3])
        body = f"{added} What does {first.name} care about? (e.g. {example}) or SKIP"
        return Outcome(State("ask_interests", {"friend_name": first.name}), (Reply(body),), effects)

    view = _view(first)
    reply, marks = prompts.prompt_reply(view, effects[0].key, ctx, lead=added)
    return Outcome(State("idle", {"prompted_friend": first.name}), (reply,), effects + marks)


def take_interests(state: State, text: str, ctx: Context) -> Outcome:
    """Record what the friend named in the state cares about (or SKIP), then give an idea."""
    friend = find_by_name(ctx.friends, str(state.data.get("friend_name", "")))
    if friend is None:
        return Outcome(State("idle"), (Reply("Reply PROMPT for a conversation idea."),))
    effects: tuple[SetInterests, ...] = ()
    if text.strip().upper() != "SKIP":
        interests = parse.parse_interest_answer(text, ctx.organization.interests)
        if interests:
            effects = (SetInterests(friend.id, interests),)
            friend = replace(friend, interests=interests)
    reply, marks = prompts.prompt_reply(friend, friend.id, ctx)
    return Outcome(State("idle", {"prompted_friend": friend.name}), (reply,), effects + marks)


def listing(ctx: Context) -> Outcome:
    """The FRIENDS answer: who is on the volunteer's list and where each stands."""
    if not ctx.friends:
        body = f"You haven't added anyone yet. {ASK_AGAIN}"
        return Outcome(State("ask_friend"), (Reply(body),))
    shown = ctx.friends[:12]
    lines = "; ".join(f"{f.name} ({f.relationship}, {f.stage})" for f in shown)
    more = f" and {len(ctx.friends) - len(shown)} more" if len(ctx.friends) > len(shown) else ""
    body = f"Your people: {lines}{more}. Reply PROMPT for an idea or ADD someone."
    return Outcome(State("idle"), (Reply(body),))


def find_by_name(friends: Sequence[Friend], name: str) -> Friend | None:
    """The most recently added friend with this name (case-insensitive)."""
    matches = [f for f in friends if f.name.casefold() == name.casefold()]
    return max(matches, key=lambda f: f.id) if matches else None


def _view(mention: FriendMention) -> Friend:
    """A friend added by this very text, as the prompt engine sees it."""
    return Friend(id=0, name=mention.name, relationship=mention.relationship, interests=mention.interests)


def _describe(mentions: Sequence[FriendMention]) -> str:
    relationships = list(dict.fromkeys(m.relationship for m in mentions))
    interests = list(dict.fromkeys(i for m in mentions for i in m.interests))
    text = "/".join(relationships)
    if interests:
        text += ", cares about " + _join(interests)
    return text


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
