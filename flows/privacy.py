"""Privacy by text: FORGET a friend, MYDATA to see what is kept, DELETE to erase it all.

After DELETE only what honours the opt-out is kept (a keyed digest of the number), so the
volunteer is never texted again unless they write to us first.
"""

from __future__ import annotations

from flows.events import (
    Context,
    EraseVolunteer,
    ForgetFriend,
    Outcome,
    Reply,
    ReplyKind,
    State,
)
from flows.friends import find_by_name
from flows.keywords import is_opt_in


def forget(state: State, name: str, ctx: Context) -> Outcome:
    """Delete the named friend and everything recorded about them."""
    name = name.strip(" .!?")
    if not name:
        return Outcome(state, (Reply("Who should I forget? Reply FORGET and their name."),))
    friend = find_by_name(ctx.friends, name) or _only_first_name_match(ctx, name)
    if friend is None:
        body = f"I couldn't find {name[:40]} on your list. Reply FRIENDS to see it."
        return Outcome(state, (Reply(body),))
    # The reply doesn't repeat the name: every trace of it is being removed.
    body = "Done. They're off your list, and everything you told us about them is deleted."
    return Outcome(State("idle"), (Reply(body),), (ForgetFriend(friend.id),))


def summary(ctx: Context) -> Outcome:
    """MYDATA: everything Kindred keeps about the volunteer, in one text."""
    parts = ["your number"]
    if ctx.name:
        parts.append(f"your first name ({ctx.name})")
    if ctx.friends:
        names = ", ".join(f.name for f in ctx.friends[:6]) + ("..." if len(ctx.friends) > 6 else "")
        parts.append(f"{len(ctx.friends)} people you listed ({names}) and what you told us about them")
    if ctx.report_count:
        parts.append(f"{ctx.report_count} conversation report{'s' if ctx.report_count != 1 else ''}")
    if ctx.joined_at:
        parts.append(f"that you joined on {ctx.joined_at:%b} {ctx.joined_at.day}")
    body = (
        f"We keep: {'; '.join(parts)}. We never text your friends or share your data. "
        "FORGET a name removes one person; DELETE erases it all."
    )
    return Outcome(State("idle"), (Reply(body),))


def ask_to_erase(ctx: Context) -> Outcome:
    """DELETE: make sure, since it can't be undone."""
    body = (
        "This erases your name, the people you listed and your reports, and stops all texts. "
        "Reply YES to erase everything, or anything else to keep it."
    )
    return Outcome(State("confirm_delete"), (Reply(body),))


def confirm_erase(state: State, text: str, ctx: Context) -> Outcome:
    """The answer to DELETE's question: YES erases, anything else keeps everything."""
    if not is_opt_in(text):
        return Outcome(State("idle"), (Reply("Okay, nothing was deleted."),))
    body = (
        f"{ctx.organization.name}: Done. Your data is erased and you won't get more texts. "
        "Reply START if you ever want to rejoin."
    )
    return Outcome(State("opted_out"), (Reply(body, ReplyKind.OPT_OUT_CONFIRMATION),), (EraseVolunteer(),))


def _only_first_name_match(ctx: Context, name: str):
    first = name.split()[0].casefold()
    matches = [f for f in ctx.friends if f.name.split()[0].casefold() == first]
    return matches[0] if len(matches) == 1 else None
