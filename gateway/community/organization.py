"""The organizations an instance serves (the first is the deployment's own; `kindred org create`
adds more, each texted at its own number), and the prompt library each starts with."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from flows.events import DEFAULT_INTERESTS, STAGES
from gateway.community import prompts, tips
from gateway.delivery.addresses import AddressError, organization_number, parse_phone
from gateway.delivery.outbox import serves_several
from gateway.delivery.transports.simulator import SIMULATOR_NUMBER
from gateway.extensions import db
from gateway.models import Address, Organization

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")


class OrganizationError(ValueError):
    """An organization that cannot be made as asked (the message says why)."""


def by_slug(slug: str) -> Organization | None:
    """The organization with this short name, if any."""
    return db.session.scalar(select(Organization).where(Organization.slug == slug.strip().lower()))


def several() -> bool:
    """Whether this instance serves more than one organization."""
    return serves_several()


def create(slug: str, name: str, phone: str, timezone: str, contact: str = "") -> Organization:
    """A new organization with the starter prompts and tips (the caller audits and commits).
    `phone` is the number its volunteers text (or "" to set it later): texts are told apart by
    the number they were sent to, so it is checked as `kindred org set --phone` checks it."""
    slug = slug.strip().lower()
    if not SLUG.fullmatch(slug):
        raise OrganizationError("the slug is 1 to 64 lower-case letters, digits and dashes, like eastside")
    if by_slug(slug) is not None:
        raise OrganizationError(f"there is an organization {slug!r} already")
    try:
        checked = {
            field: SETTINGS[field](value)
            for field, value in (("name", name), ("contact", contact), ("phone", phone))
        }
        checked["timezone"] = _timezone(timezone)
        _claimable(None, checked["phone"])
    except SettingsError as exc:
        raise OrganizationError(str(exc)) from None
    return _add(slug=slug, **checked)


def _add(**fields: Any) -> Organization:
    org = Organization(interests=list(DEFAULT_INTERESTS), **fields)
    db.session.add(org)
    db.session.flush()
    prompts.seed(org)
    tips.seed(org)
    return org


def default() -> Organization:
    """The deployment's organization, created with the starter prompts and tips on first use."""
    org = db.session.scalar(select(Organization).order_by(Organization.id).limit(1))
    if org is not None:
        return org
    config = current_app.config
    simulated = config["SMS_TRANSPORT"] == "simulator"
    sender = SIMULATOR_NUMBER if simulated else config["TWILIO_FROM_NUMBER"]
    try:
        with db.session.begin_nested():
            org = _add(
                slug=re.sub(r"[^a-z0-9]+", "-", config["ORGANIZATION_NAME"].lower()).strip("-") or "kindred",
                name=config["ORGANIZATION_NAME"],
                contact=config["ORGANIZATION_CONTACT"],
                timezone=config["DEFAULT_TIMEZONE"],
                phone=organization_number(sender) or "",
            )
    except IntegrityError:
        org = db.session.scalars(select(Organization).order_by(Organization.id).limit(1)).one()
    return org


def for_number(number: str) -> Organization | None:
    """The organization volunteers reach by texting `number` (E.164): the one whose number it
    is, else the only one there is (created on first use, as by `default`); None when several
    organizations share this deployment and none of them has this number."""
    return routing(number)[0]


def routing(number: str) -> tuple[Organization | None, set[str]]:
    """`for_number(number)` (None for no number) and every number of this deployment's, in
    E.164 (TWILIO_FROM_NUMBER and each organization's), from one read."""
    orgs = db.session.scalars(select(Organization).order_by(Organization.id)).all()
    by_number = {organization_number(org.phone): org for org in reversed(orgs)}  # the first wins
    ours = {
        each for each in [organization_number(current_app.config["TWILIO_FROM_NUMBER"]), *by_number] if each
    }
    if not number:
        return None, ours
    org = by_number.get(number) or (default() if len(orgs) <= 1 else None)
    return org, ours


def _claimable(org: Organization | None, number: str) -> None:
    """SettingsError unless `number` (E.164, or "" for none) may be `org`'s (None: one being
    made): not another organization's, whose texts it would take, and not anyone's own phone,
    whose texts would be dropped as coming from one of our numbers."""
    if not number:
        return
    for other in db.session.scalars(select(Organization)):
        if other is not org and organization_number(other.phone) == number:
            raise SettingsError(
                f"another organization is texted at {display_number(number)}; each needs its own number"
            )
    person = select(Address.id).where(Address.channel == "sms", Address.value == number).limit(1)
    if db.session.scalar(person) is not None:
        raise SettingsError(
            f"{display_number(number)} is the phone of someone Kindred texts, not the organization's"
        )


def learn_number(org: Organization, number: str | None) -> None:
    """Remember the number volunteers text, from a text that names it, if it is not known yet
    (a Messaging Service sends from a pool, and TWILIO_FROM_NUMBER may be unset), or if the
    simulator's was taken when the organization was first set up. INVITE and HELP name it."""
    simulated = organization_number(org.phone) == SIMULATOR_NUMBER  # first run on the simulator
    if number and (not org.phone or (simulated and number != SIMULATOR_NUMBER)):
        try:
            _claimable(org, number)
        except SettingsError:
            return
        org.phone = number


def display_number(number: str) -> str:
    """A phone number as people write it at home: "(415) 555-0100"."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


# The calling window is bounded by the TCPA's 8 a.m. to 9 p.m. (recipient's local time); the
# default, 9 a.m. to 8 p.m., also sits inside every state's stricter window.
EARLIEST, LATEST = 8, 21  # hours; messages the system starts never go outside these
DAILY_CAPS, WEEKLY_CAPS = range(1, 11), range(1, 31)
HELP_TEXT_LENGTH = 160


class SettingsError(ValueError):
    """A setting that cannot be saved; `field` names the one at fault."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def change_settings(org: Organization, **values: Any) -> dict[str, Any]:
    """Check and apply the settings given (None: unchanged), all or none; returns the fields
    that changed with their new values (the caller audits and commits). Raises SettingsError.

    Fields: name, contact, phone, timezone, frequency, help_text (text); window (start, end
    hours); daily_cap, weekly_cap; interests (list of names); stage_labels ({stage: name})."""
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}")
    checked = {}
    for field, value in values.items():
        if value is not None:
            try:
                checked[field] = SETTINGS[field](value)
            except SettingsError as exc:
                raise SettingsError(str(exc), field) from None
    if "phone" in checked:
        try:
            _claimable(org, checked["phone"])
        except SettingsError as exc:
            raise SettingsError(str(exc), "phone") from None
    window = checked.pop("window", None)
    if window is not None:
        checked["window_start_hour"], checked["window_end_hour"] = window
    daily = checked.get("daily_cap", org.daily_cap)
    if checked.get("weekly_cap", org.weekly_cap) < daily:
        raise SettingsError("the weekly cap can't be below the daily cap", "weekly_cap")
    changed = {field: value for field, value in checked.items() if getattr(org, field) != value}
    for field, value in changed.items():
        setattr(org, field, value)
    return changed


def _text(limit: int, required: bool = False) -> Callable[[str], str]:
    def check(value: str) -> str:
        value = " ".join(value.split())
        if required and not value:
            raise SettingsError("can't be empty")
        if len(value) > limit:
            raise SettingsError(f"must be {limit} characters or fewer")
        return value

    return check


def _phone(value: str) -> str:
    """A number in E.164, which reads back the same wherever the instance is ("" for none)."""
    value = value.strip()
    if not value:
        return ""
    try:
        return parse_phone(value, current_app.config["DEFAULT_REGION"])
    except AddressError:
        raise SettingsError(
            f"{value[:30]!r} is not a phone number (give one with its country code, like +14155550100)"
        ) from None


def _window(value: tuple[int, int]) -> tuple[int, int]:
    start, end = value
    if not EARLIEST <= start < end <= LATEST:
        raise SettingsError(
            f"the window must lie within {EARLIEST}:00 and {LATEST}:00 and start before it ends"
        )
    return start, end


def _timezone(value: str) -> str:
    value = value.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: "America", a folder
        raise SettingsError(f"{value!r} is not an IANA time zone") from exc
    return value


def _cap(allowed: range) -> Callable[[int], int]:
    def check(value: int) -> int:
        if value not in allowed:
            raise SettingsError(f"must be from {allowed.start} to {allowed.stop - 1}")
        return value

    return check


def _interests(value: list[str]) -> list[str]:
    """Interest names, lower-cased, each once, in the order given. Friends keep the interests
    they have: this is only what volunteers are asked about."""
    names: list[str] = []
    for raw in value:
        name = " ".join(raw.split()).lower()
        if len(name) > 40:
            raise SettingsError(f"{name[:40]!r}... is too long (40 characters at most)")
        if name and name not in names:
            names.append(name)
    if not names:
        raise SettingsError("name at least one interest")
    if len(names) > 30:
        raise SettingsError("30 interests at most")
    return names


def _stage_labels(value: dict[str, str]) -> dict[str, str]:
    """The organization's names for the ladder stages; a stage left blank keeps its own."""
    labels = {}
    for stage, raw in value.items():
        if stage not in STAGES:
            raise SettingsError(f"there is no stage {stage!r}")
        label = " ".join(raw.split())
        if len(label) > 30:
            raise SettingsError("a stage's name is 30 characters at most")
        if label and label != stage:
            labels[stage] = label
    return labels


SETTINGS: dict[str, Callable[[Any], Any]] = {
    "name": _text(120, required=True),
    "contact": _text(200),
    "phone": _phone,
    "timezone": _timezone,
    "frequency": _text(80, required=True),
    "help_text": _text(HELP_TEXT_LENGTH),
    "window": _window,
    "daily_cap": _cap(DAILY_CAPS),
    "weekly_cap": _cap(WEEKLY_CAPS),
    "interests": _interests,
    "stage_labels": _stage_labels,
}
