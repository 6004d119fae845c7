"""Email by text: a volunteer texts EMAIL and their address (CORREO in Spanish) to get the
organization's occasional email too.

Double opt-in: the answer only promises a confirmation email. The gateway sends that one email,
with a link; only confirming it records the email opt-in. The reply shows the address masked,
so a text on a lock screen does not give it away, and says the same whoever the address turns
out to belong to. Where the organization sends no email at all, EMAIL says so and asks for
nothing.
"""

from __future__ import annotations

import re

from flows.events import Context, EmailStatus, Outcome, Reply, SignUpForEmail, State
from flows.messages import say
from flows.parse import email_address, mask_email

# What tries to be an address even without a valid one: an @, a dotted domain, or one spelt out
# ("sam at example dot org", "ana arroba ejemplo punto org").
_ADDRESS_ATTEMPT = re.compile(r"@|\w\.\w|\b(?:dot|arroba|punto)\b", re.IGNORECASE)


def sign_up(state: State, rest: str, ctx: Context) -> Outcome | None:
    """EMAIL sam@example.org: send that address a link to confirm. Bare EMAIL explains how; an
    address that can't be one gets a helpful reply. None when the word only started a sentence
    ("email from Ruth was lovely"): the text is read as free text."""
    rest = rest.strip()
    lang = ctx.language
    address = email_address(rest)
    if address is None and not _ADDRESS_ATTEMPT.search(rest) and len(rest.split()) > 1:
        return None
    if not ctx.email_on:
        return Outcome(state, (Reply(say(lang, "email.off", organization=ctx.organization.name)),))
    if not rest:
        return Outcome(state, (Reply(say(lang, "email.how", organization=ctx.organization.name)),))
    if address is None:
        return Outcome(state, (Reply(say(lang, "email.not_an_address")),))
    shown = mask_email(address)
    if any(own.address == address and own.status is EmailStatus.CONFIRMED for own in ctx.emails):
        return Outcome(state, (Reply(say(lang, "email.already_confirmed", address=shown)),))
    return Outcome(state, (Reply(say(lang, "email.sent", address=shown)),), (SignUpForEmail(address),))
