"""Phone numbers and email addresses: parsing, redaction for logs, and keyed digests."""

from __future__ import annotations

import hashlib
import hmac
import re

import phonenumbers
import zipcodes


class AddressError(ValueError):
    """A phone number or email that cannot be used."""


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


def normalize_contact(raw: str, region: str = "US") -> str | None:
    """A phone number in E.164 or a lower-cased email, or None if it is neither."""
    raw = raw.strip()
    if "@" in raw:
        return raw.lower() if _EMAIL.match(raw) else None
    try:
        return parse_phone(raw, region)
    except AddressError:
        return None


def digest(value: str, secret: str) -> str:
    """The keyed digest (HMAC-SHA256) under which a friend's contact detail is kept."""
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def redact(value: str) -> str:
    """A form of a phone number or email that is safe to log: +1******7788, m***@example.org."""
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return value[:2] + "*" * max(len(value) - 6, 0) + value[-4:] if len(value) > 6 else "***"


def timezone_for_zip(code: str) -> str | None:
    """The IANA time zone of a US ZIP code, from the data the zipcodes package ships."""
    try:
        places = zipcodes.matching(code)
    except (TypeError, ValueError):
        return None
    zones = {place["timezone"] for place in places if place.get("timezone")}
    return zones.pop() if len(zones) == 1 else None
