"""Signed tokens in email addresses and links: the reply-to address of a member's thread
(`reply+<token>@INBOUND_EMAIL_DOMAIN`), one-click unsubscribe, and the confirmation of an email
sign-up.

A token names one row and carries a keyed MAC (HMAC-SHA256 under SECRET_KEY, 80 bits) of that
row, its purpose and the day it was issued, so it can be neither guessed nor forged nor moved
to another purpose. A token made under a retired secret still in SECRET_KEY_PREVIOUS is still
honoured: an unsubscribe link in mail already sent must keep working. Tokens are lower-case
letters, digits and dashes: mail systems may change the case of an address's local part.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, timedelta

from flask import current_app

from gateway import clock, keys

# How long each kind of token is honoured. A reply months later still routes to its thread;
# an unsubscribe link works as long as the email exists; a sign-up is confirmed within a week.
REPLY = "reply"
UNSUBSCRIBE = "unsubscribe"
CONFIRM = "confirm"
LIFETIME = {REPLY: timedelta(days=400), UNSUBSCRIBE: timedelta(days=3650), CONFIRM: timedelta(days=7)}
_MAC_CHARS = 20
_EPOCH = date(2020, 1, 1)
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def make(purpose: str, row_id: int) -> str:
    """A token for row `row_id`, for `purpose`, issued today."""
    day = (clock.now().date() - _EPOCH).days
    body = f"{_b36(row_id)}-{_b36(day)}"
    return f"{body}-{_mac(current_app.config['SECRET_KEY'], purpose, body)}"


def read(purpose: str, token: str) -> int | None:
    """The row a token names, or None if it is malformed, forged, for another purpose, or
    older than its purpose allows."""
    parts = token.strip().lower().split("-")
    if len(parts) != 3 or not all(parts) or len(token) > 60:
        return None
    row, day, mac = parts
    if not all(c in _DIGITS for c in row + day):
        return None
    macs = [_mac(secret, purpose, f"{row}-{day}") for secret in keys.secrets(current_app.config)]
    if not any(hmac.compare_digest(mac, each) for each in macs):
        return None
    issued = _EPOCH + timedelta(days=int(day, 36))
    if not (clock.now().date() - LIFETIME[purpose] <= issued <= clock.now().date() + timedelta(days=1)):
        return None
    return int(row, 36)


def reply_address(person_id: int) -> str:
    """The reply-to address of a person's thread."""
    return f"{REPLY}+{make(REPLY, person_id)}@{current_app.config['INBOUND_EMAIL_DOMAIN']}"


def unsubscribe_mailto(address_id: int) -> str:
    """The mailto: an unsubscribe by email goes to (List-Unsubscribe's second form)."""
    token = make(UNSUBSCRIBE, address_id)
    return f"mailto:{UNSUBSCRIBE}+{token}@{current_app.config['INBOUND_EMAIL_DOMAIN']}?subject=unsubscribe"


def unsubscribe_url(address_id: int) -> str:
    """The one-click unsubscribe link of an address (RFC 8058: POST opts out, GET asks first)."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/email/unsubscribe/{make(UNSUBSCRIBE, address_id)}"


def confirm_url(signup_id: int) -> str:
    """The link that confirms an email sign-up (GET shows a button, POST confirms)."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/email/confirm/{make(CONFIRM, signup_id)}"


def route(recipient: str) -> tuple[str, int] | None:
    """What an address at INBOUND_EMAIL_DOMAIN names: (purpose, row id) for a valid
    `reply+<token>@` or `unsubscribe+<token>@`, else None (unknown, expired or forged)."""
    local, _, domain = recipient.strip().strip("<>").lower().rpartition("@")
    if domain != current_app.config["INBOUND_EMAIL_DOMAIN"] or "+" not in local:
        return None
    purpose, _, token = local.partition("+")
    if purpose not in (REPLY, UNSUBSCRIBE):
        return None
    row = read(purpose, token)
    return None if row is None else (purpose, row)


def _mac(secret: str, purpose: str, body: str) -> str:
    message = f"kindred-mail:{purpose}:{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:_MAC_CHARS]


def _b36(n: int) -> str:
    if n < 0:
        raise ValueError("token rows are not negative")
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _DIGITS[r] + out
        if n == 0:
            return out
