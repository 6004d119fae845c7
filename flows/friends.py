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
from flows.messages import interest_label, join_names, relationship_label, say, stage_label
from flows.parse import FriendMention


def ask_again(language: str) -> str:
    """The question for a name, when none could be read from the volunteer's text."""
    return say(language, "friends.ask_again")


def add(state: State, text: str, ctx: Context, with_relationship_only: bool = False) -> Outcome | None:
    """Add the friends named in `text`; None when no name could be found in it. With
    `with_relationship_only`, only names whose relationship the text states count."""
    mentions = parse.parse_friends(text, ctx.organization.interests, ctx.organization.region)
    if with_relationship_only:
        mentions = [m for m in mentions if m.relationship != "other"]
    if not mentions:
        return None
    language = ctx.language
    already = {f.name.casefold() for f in ctx.friends}
    fresh = [m for m in mentions if m.name.casefold() not in already]
    if not fresh:
        key = "friends.already_one" if len(mentions) == 1 else "friends.already_many"
        body = say(language, key, names=join_names(language, [m.name for m in mentions]))
        return Outcome(State("idle"), (Reply(body),))

    effects = adding(fresh)
    added = added_line(language, fresh)
    first = fresh[0]
    if len(fresh) == 1 and not first.interests:
        examples = ", ".join(interest_label(language, i) for i in ctx.organization.interests[:3])
        body = say(language, "friends.ask_interests", added=added, name=first.name, examples=examples)
        return Outcome(State("ask_interests", {"friend_name": first.name}), (Reply(body),), effects)

    reply, marks, next_state = prompts.prompt_reply(view(first), effects[0].key, ctx, lead=added)
    return Outcome(next_state, (reply,), effects + marks)


def adding(mentions: Sequence[FriendMention]) -> tuple[AddFriend, ...]:
    """The effects that add these people, keyed "new:0", "new:1" ... for the same turn's other
    effects."""
    return tuple(
        AddFriend(f"new:{i}", m.name, m.relationship, m.interests, m.contacts) for i, m in enumerate(mentions)
    )


def added_line(language: str, mentions: Sequence[FriendMention]) -> str:
    """ "Added Joe (family)." and, when a number or email was given, that Kindred never texts it."""
    names = join_names(language, [m.name for m in mentions])
    added = say(language, "friends.added", names=names, description=_describe(language, mentions))
    if any(m.contacts for m in mentions):
        added += " " + say(language, "friends.never_texted")
    return added


def view(mention: FriendMention) -> Friend:
    """A friend added by this very text, as the prompt engine sees it."""
    return Friend(id=0, name=mention.name, relationship=mention.relationship, interests=mention.interests)


def take_interests(state: State, text: str, ctx: Context) -> Outcome:
    """Record what the friend named in the state cares about, added to what was known (or
    SKIP), then give an idea."""
    friend = find_by_name(ctx.friends, str(state.data.get("friend_name", "")))
    if friend is None:
        return Outcome(State("idle"), (Reply(say(ctx.language, "friends.prompt_hint")),))
    effects: tuple[SetInterests, ...] = ()
    if text.strip().upper() != "SKIP":
        interests = parse.parse_interest_answer(text, ctx.organization.interests)
        merged = tuple(dict.fromkeys((*friend.interests, *interests)))
        if merged != friend.interests:
            effects = (SetInterests(friend.id, merged),)
            friend = replace(friend, interests=merged)
    reply, marks, next_state = prompts.prompt_reply(friend, friend.id, ctx)
    return Outcome(next_state, (reply,), effects + marks)


def listing(ctx: Context) -> Outcome:
    """The FRIENDS answer: who is on the volunteer's list and where each stands."""
    language = ctx.language
    if not ctx.friends:
        body = say(language, "friends.none_yet", question=ask_again(language))
        return Outcome(State("ask_friend"), (Reply(body),))
    shown = ctx.friends[:12]
    lines = "; ".join(
        say(
            language,
            "friends.listing_item",
            name=f.name,
            relationship=relationship_label(language, f.relationship),
            stage=stage_label(language, f.stage),
        )
        for f in shown
    )
    hidden = len(ctx.friends) - len(shown)
    more = say(language, "friends.listing_more", count=hidden) if hidden > 0 else ""
    body = say(language, "friends.listing", lines=lines, more=more)
    return Outcome(State("idle"), (Reply(body),))


def find_by_name(friends: Sequence[Friend], name: str) -> Friend | None:
    """The most recently added friend with this name (case-insensitive)."""
    matches = [f for f in friends if f.name.casefold() == name.casefold()]
    return max(matches, key=lambda f: f.id) if matches else None


def _describe(language: str, mentions: Sequence[FriendMention]) -> str:
    relationships = "/".join(
        relationship_label(language, r) for r in dict.fromkeys(m.relationship for m in mentions)
    )
    interests = [interest_label(language, i) for i in dict.fromkeys(i for m in mentions for i in m.interests)]
    if not interests:
        return relationships
    return say(
        language,
        "friends.description_with_interests",
        relationships=relationships,
        interests=join_names(language, interests),
    )
