"""Phone numbers and email addresses: parsing, redaction for logs, keyed digests, and an
address's erasure (after a DELETE only the keyed digest of the number stays, which is all it
takes to honour an opt-out if they ever write again)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Iterable

import phonenumbers
import zipcodes
from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from flows.parse import mask_email
from gateway import clock, keys
from gateway.extensions import db
from gateway.models import Address, Message, text_waiting_from

log = logging.getLogger(__name__)


class AddressError(ValueError):
    """A phone number or email that cannot be used."""


VALUE_MAX = 320  # the width of Address.value


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_phone(raw: str, region: str = "US") -> str:
    """The number in E.164, or AddressError if it is not a possible phone number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise AddressError("not a phone number") from exc
    if not phonenumbers.is_possible_number(number):
        raise AddressError("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def organization_number(stored: str) -> str | None:
    """An organization's number as stored, in E.164 (None if unset or unreadable). Numbers are
    stored in E.164; older rows hold the national format of DEFAULT_REGION."""
    try:
        return parse_phone(stored, current_app.config["DEFAULT_REGION"]) if stored else None
    except AddressError:
        return None


def normalize_contact(raw: str, region: str = "US") -> str | None:
    """A phone number in E.164 or a lower-cased email, or None if it is neither."""
    raw = raw.strip()
    if "@" in raw:
        return raw.lower() if _EMAIL.match(raw) else None
    try:
        return parse_phone(raw, region)
    except AddressError:
        return None


def digest(value: str, secret: str, purpose: str = keys.DIGEST_PURPOSE) -> str:
    """The keyed digest under which a friend's contact detail (or an erased address) is kept:
    HMAC-SHA256 under the key derived from `secret` for `purpose` (gateway.keys)."""
    return hmac.new(keys.derive(secret, purpose), value.encode(), hashlib.sha256).hexdigest()


def digests(value: str, secrets: Iterable[str]) -> list[str]:
    """Every digest `value` may be kept under, to look it up: under each honoured secret, the
    current scheme and the one before it (HMAC keyed with the secret itself, which digests
    made before the purpose-derived key still use)."""
    found = []
    for secret in secrets:
        legacy = hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()
        found += [digest(value, secret), legacy]
    return found


def redact(value: str) -> str:
    """A form of a phone number or email that is safe to log: +1******7788, m***@example.org."""
    if "@" in value:
        return mask_email(value)
    return value[:2] + "*" * max(len(value) - 6, 0) + value[-4:] if len(value) > 6 else "***"


def mark_undeliverable(address: Address) -> None:
    """Note that the provider said this number cannot get texts: nothing more is sent to it until
    it texts in (the caller commits)."""
    if address.undeliverable_since is None:
        address.undeliverable_since = clock.now()
        log.info("addresses: %s marked undeliverable", redact(address.value))


def timezone_for_zip(code: str) -> str | None:
    """The IANA time zone of a US ZIP code, from the data the zipcodes package ships."""
    try:
        places = zipcodes.matching(code)
    except (TypeError, ValueError):
        return None
    zones = {place["timezone"] for place in places if place.get("timezone")}
    return zones.pop() if len(zones) == 1 else None


ERASED_PREFIX = "hmac:"


def erased_value(value: str) -> str:
    """What an erased address's value becomes: the keyed digest of the number or email."""
    return ERASED_PREFIX + digest(value, current_app.config["SECRET_KEY"])


def erased_values(value: str) -> list[str]:
    """Every value an erased address with `value` may have (see `digests`), to look it up."""
    return [ERASED_PREFIX + each for each in digests(value, keys.secrets(current_app.config))]


def find_or_add(organization_id: int, channel: str, value: str) -> tuple[Address, bool]:
    """The address on `channel` with `value`, found (an erased one by its digest, which keeps
    its opt-out) or created without a person; and whether it was created now. AddressError
    for a value longer than an address can be."""
    if len(value) > VALUE_MAX:
        raise AddressError(f"an address is at most {VALUE_MAX} characters")
    lookup = select(Address).where(
        Address.organization_id == organization_id,
        Address.channel == channel,
        Address.value.in_([value, *erased_values(value)]),
    )
    address = db.session.scalar(lookup)
    if address is not None:
        return address, False
    try:
        with db.session.begin_nested():
            address = Address(organization_id=organization_id, channel=channel, value=value)
            db.session.add(address)
            db.session.flush()
    except IntegrityError:  # the same address, given twice at once: the first one counts
        return db.session.scalars(lookup).one(), False
    return address, True


def complete_erasure(address: Address) -> bool:
    """Replace the address with its digest once nothing is left to send to it (the DELETE
    confirmation goes first) and no text from it waits to be answered; returns whether it was
    erased. The caller commits."""
    if not address.pending_erasure or address.value.startswith(ERASED_PREFIX):
        return False
    pending = db.session.scalar(
        select(
            # what is left to send, and a text they sent that waits for its answer
            exists().where(Message.address_id == address.id, Message.status.in_(("queued", "sending")))
            | text_waiting_from(address.id)
        )
    )
    if pending:
        return False
    address.value = erased_value(address.value)
    address.pending_erasure = False
    return True


def complete_pending_erasures() -> int:
    """Finish every erasure whose messages are done (the sweeper calls this)."""
    done = 0
    for address in db.session.scalars(select(Address).where(Address.pending_erasure.is_(True))):
        done += complete_erasure(address)
    return done
