"""The organization this deployment serves, and the prompt library it starts with."""

from __future__ import annotations

import re

import phonenumbers
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from flows.events import DEFAULT_INTERESTS
from gateway.community import prompts
from gateway.delivery.transports.simulator import SIMULATOR_NUMBER
from gateway.extensions import db
from gateway.models import Organization


def default() -> Organization:
    """The deployment's organization, created with the starter prompt library on first use."""
    org = db.session.scalar(select(Organization).order_by(Organization.id).limit(1))
    if org is not None:
        return org
    config = current_app.config
    simulated = config["SMS_TRANSPORT"] == "simulator"
    sender = SIMULATOR_NUMBER if simulated else config["TWILIO_FROM_NUMBER"]
    try:
        with db.session.begin_nested():
            org = Organization(
                slug=re.sub(r"[^a-z0-9]+", "-", config["ORGANIZATION_NAME"].lower()).strip("-") or "kindred",
                name=config["ORGANIZATION_NAME"],
                contact=config["ORGANIZATION_CONTACT"],
                interests=list(DEFAULT_INTERESTS),
                timezone=config["DEFAULT_TIMEZONE"],
                phone=display_number(sender),
            )
            db.session.add(org)
            db.session.flush()
            prompts.seed(org)
    except IntegrityError:
        org = db.session.scalars(select(Organization).order_by(Organization.id).limit(1)).one()
    return org


def learn_number(org: Organization, number: str | None) -> None:
    """Remember the number volunteers text, from a text that names it, if it is not known yet
    (a Messaging Service sends from a pool, and TWILIO_FROM_NUMBER may be unset), or if the
    simulator's was taken when the organization was first set up. INVITE and HELP name it."""
    simulated = org.phone == display_number(SIMULATOR_NUMBER)  # first run on the simulator
    if number and (not org.phone or (simulated and number != SIMULATOR_NUMBER)):
        org.phone = display_number(number)


def display_number(number: str) -> str:
    """A phone number as people write it at home: "(415) 555-0100"."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
