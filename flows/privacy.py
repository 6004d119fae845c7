"""Privacy by text: FORGET a friend, MYDATA to see what is kept, DELETE to erase it all.

After DELETE only what honours the opt-out is kept (a keyed digest of the number, and of any
email address they gave), so the volunteer is never texted or emailed again unless they write
to us first (or, for email, confirm a new sign-up).
"""

from __future__ import annotations

import re

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
from flows.messages import day_and_month, say
from flows.parse import first_name, mask_contacts, mask_email


def forget(state: State, name: str, ctx: Context) -> Outcome:
    """Delete the named friend and everything recorded about them."""
    name = name.strip(" .!?")
    if not name:
        return Outcome(state, (Reply(say(ctx.language, "privacy.forget_who")),))
    friend = find_by_name(ctx.friends, name) or _only_first_name_match(ctx, name)
    if friend is None:
        shown = mask_contacts(name, ctx.organization.region)[:40]
        return Outcome(state, (Reply(say(ctx.language, "privacy.not_found", name=shown)),))
    # The reply doesn't repeat the name: every trace of it is being removed.
    return Outcome(
        State("idle"), (Reply(say(ctx.language, "privacy.forgotten")),), (ForgetFriend(friend.id),)
    )


def summary(ctx: Context) -> Outcome:
    """MYDATA: everything Kindred keeps about the volunteer, in one text."""
    language = ctx.language
    parts = [say(language, "privacy.kept_number")]
    parts += [
        say(
            language,
            "privacy.kept_email",
            address=mask_email(email.address),
            status=say(language, f"email_status.{email.status}"),
        )
        for email in ctx.emails
    ]
    if ctx.name:
        parts.append(say(language, "privacy.kept_name", name=ctx.name))
    if ctx.friends:
        names = ", ".join(f.name for f in ctx.friends[:6]) + ("..." if len(ctx.friends) > 6 else "")
        key = "privacy.kept_friends.one" if len(ctx.friends) == 1 else "privacy.kept_friends.many"
        parts.append(say(language, key, count=len(ctx.friends), names=names))
    if ctx.report_count:
        key = "privacy.kept_reports.one" if ctx.report_count == 1 else "privacy.kept_reports.many"
        parts.append(say(language, key, count=ctx.report_count))
    if ctx.ideas_shared:
        key = "privacy.kept_ideas.one" if ctx.ideas_shared == 1 else "privacy.kept_ideas.many"
        parts.append(say(language, key, count=ctx.ideas_shared))
    if ctx.joined_at:
        parts.append(
            say(language, "privacy.kept_joined", date=day_and_month(language, ctx.joined_at, short=True))
        )
    body = say(language, "privacy.summary", kept="; ".join(parts))
    return Outcome(State("idle"), (Reply(body),))


def ask_to_erase(ctx: Context) -> Outcome:
    """DELETE: make sure, since it can't be undone."""
    return Outcome(State("confirm_delete"), (Reply(say(ctx.language, "privacy.ask_to_erase")),))


# DELETE's question answered: "yes, delete everything", "sí, borrar" erase like YES does;
# "no thanks", "never mind", "mejor no" only keep everything.
_CONFIRMS = re.compile(
    r"^\W*(?:yes|yep|yeah|ok|s[ií])\b[\s,.!]*(?:please\s+)?"
    r"(?:delete|erase|remove|borra|borrar|b[oó]rralo|borrarlo|elimina|eliminar)\b",
    re.IGNORECASE,
)
_DECLINES = re.compile(
    r"^\W*(?:no|nope|nah|never\s*mind|nvm|cancel|not\s+now|don'?t|do\s+not|mejor\s+no|"
    r"olv[ií]dalo|todav[ií]a\s+no|a[uú]n\s+no)\b",
    re.IGNORECASE,
)


def confirms_erasure(text: str) -> bool:
    """Whether `text` answers DELETE's question with a yes."""
    return is_opt_in(text) or bool(_CONFIRMS.match(text))


def declines_erasure(text: str) -> bool:
    """Whether `text` answers DELETE's question with a no ("no thanks", "never mind")."""
    return bool(_DECLINES.match(text))


def confirm_erase(state: State, text: str, ctx: Context) -> Outcome:
    """The answer to DELETE's question: YES erases, anything else keeps everything."""
    if not confirms_erasure(text):
        return Outcome(State("idle"), (Reply(say(ctx.language, "privacy.nothing_deleted")),))
    body = say(ctx.language, "privacy.erased", organization=ctx.organization.name)
    return Outcome(State("opted_out"), (Reply(body, ReplyKind.OPT_OUT_CONFIRMATION),), (EraseVolunteer(),))


def _only_first_name_match(ctx: Context, name: str):
    first = first_name(name)
    matches = [f for f in ctx.friends if first_name(f.name) == first]
    return matches[0] if len(matches) == 1 else None
