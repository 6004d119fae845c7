"""The organization this deployment serves, and the prompt library it starts with."""

from __future__ import annotations

import json
import re
from importlib import resources

import phonenumbers
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from flows.events import DEFAULT_INTERESTS
from gateway.extensions import db
from gateway.models import Organization, Prompt


def default_prompts() -> list[dict]:
    """The starter prompt library shipped with Kindred."""
    return json.loads(resources.files("gateway").joinpath("data/prompts.json").read_text("utf-8"))


def default_organization() -> Organization:
    """The deployment's organization, created with the starter prompt library on first use."""
    org = db.session.scalar(select(Organization).order_by(Organization.id).limit(1))
    if org is not None:
        return org
    config = current_app.config
    try:
        with db.session.begin_nested():
            org = Organization(
                slug=re.sub(r"[^a-z0-9]+", "-", config["ORGANIZATION_NAME"].lower()).strip("-") or "kindred",
                name=config["ORGANIZATION_NAME"],
                contact=config["ORGANIZATION_CONTACT"],
                interests=list(DEFAULT_INTERESTS),
                timezone=config["DEFAULT_TIMEZONE"],
                phone=_display(config["TWILIO_FROM_NUMBER"]),
            )
            db.session.add(org)
            db.session.flush()
            seed_prompts(org)
    except IntegrityError:
        org = db.session.scalars(select(Organization).order_by(Organization.id).limit(1)).one()
    return org


def seed_prompts(org: Organization) -> int:
    """Add the starter prompts the organization does not have yet; returns how many."""
    have = set(db.session.scalars(select(Prompt.key).where(Prompt.organization_id == org.id)))
    added = 0
    for item in default_prompts():
        if item["key"] in have:
            continue
        db.session.add(
            Prompt(
                organization_id=org.id,
                key=item["key"],
                body=item["body"],
                stages=item.get("stages", []),
                interests=item.get("interests", []),
                relationships=item.get("relationships", []),
                language=item.get("language", "en"),
            )
        )
        added += 1
    db.session.flush()
    return added


def _display(number: str) -> str:
    """A phone number as people write it at home: "(415) 555-0100"."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
