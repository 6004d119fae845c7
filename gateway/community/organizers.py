"""The organizers who use the console: accounts, roles, passwords and one-time invitations.

Passwords are hashed with scrypt (werkzeug's). Roles are ordered: a viewer reads, an organizer
also acts (answers texts, runs rounds), an admin also manages organizers and settings.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from gateway.community import organization
from gateway.extensions import db
from gateway.models import Invitation, Organization, Organizer

ROLES = ("viewer", "organizer", "admin")  # each may do what the ones before it may
MIN_PASSWORD = 12
INVITATION_LIFETIME = timedelta(days=3)
# Checked against when an email has no account, so a wrong email takes as long as a wrong password.
_NOBODY = generate_password_hash(secrets.token_urlsafe(16), method="scrypt")


class OrganizerError(ValueError):
    """What an organizer asked for cannot be done as asked (the message says why)."""


def may(role: str, needed: str) -> bool:
    """Whether `role` includes what `needed` may do."""
    return ROLES.index(role) >= ROLES.index(needed)


def normalize_email(email: str) -> str:
    """An organizer's email as stored and compared (a NUL, which no address has and
    PostgreSQL cannot store, is dropped)."""
    return email.replace("\x00", "").strip().lower()


def create(org: Organization, email: str, password: str, role: str, name: str = "") -> Organizer:
    """A new organizer (the caller commits)."""
    email = normalize_email(email)
    if "@" not in email or len(email) > 320 or "\x00" in email:
        raise OrganizerError("that is not an email address")
    if role not in ROLES:
        raise OrganizerError(f"role must be one of {', '.join(ROLES)}")
    _check_password(password)
    if find(org, email) is not None:
        raise OrganizerError(f"{email} already has an account")
    organizer = Organizer(
        organization_id=org.id,
        email=email,
        name=name.replace("\x00", "").strip()[:80],
        password_hash=generate_password_hash(password, method="scrypt"),
        role=role,
    )
    db.session.add(organizer)
    db.session.flush()
    return organizer


def find(org: Organization, email: str) -> Organizer | None:
    """The organization's organizer with this email, if any."""
    return db.session.scalar(
        select(Organizer).where(
            Organizer.organization_id == org.id, func.lower(Organizer.email) == normalize_email(email)
        )
    )


def authenticate(org: Organization, email: str, password: str, now: datetime) -> Organizer | None:
    """The active organizer whose email and password these are, or None."""
    organizer = find(org, email)
    valid = check_password_hash(organizer.password_hash if organizer else _NOBODY, password)
    if organizer is None or not valid or not organizer.active:
        return None
    organizer.last_login_at = now
    return organizer


@dataclass(frozen=True)
class SignIn:
    """A sign-in attempt's outcome: the organization it was for (whose audit log records it)
    and the organizer signed in, or None. `ambiguous`: the password opens accounts with this
    email in more than one organization, so the organization must be named."""

    org: Organization
    organizer: Organizer | None
    ambiguous: bool = False


def sign_in(slug: str, email: str, password: str, now: datetime) -> SignIn:
    """Sign in to the organization named by `slug` or, with none named, to the one whose
    account with this email the password opens (an email is unique within an organization
    only, so two organizations may each have an organizer with it)."""
    if slug.strip():
        named = organization.by_slug(slug)
        if named is None:
            check_password_hash(_NOBODY, password)  # as long as a wrong password takes
            return SignIn(organization.default(), None)
        return SignIn(named, authenticate(named, email, password, now))
    accounts = db.session.scalars(
        select(Organizer)
        .where(func.lower(Organizer.email) == normalize_email(email))
        .order_by(Organizer.organization_id)
    ).all()
    if len(accounts) < 2:
        org = organization_of(accounts[0]) if accounts else organization.default()
        return SignIn(org, authenticate(org, email, password, now))
    opened = [a for a in accounts if check_password_hash(a.password_hash, password) and a.active]
    if len(opened) != 1:
        return SignIn(organization_of(accounts[0]), None, ambiguous=len(opened) > 1)
    opened[0].last_login_at = now
    return SignIn(organization_of(opened[0]), opened[0])


def organization_of(organizer: Organizer) -> Organization:
    """The organization the organizer belongs to (and acts on alone)."""
    org = db.session.get(Organization, organizer.organization_id)
    assert org is not None  # a foreign key
    return org


def invite(org: Organization, email: str, role: str, by: Organizer | None, now: datetime) -> str:
    """Make a one-time invitation for `email` to join the organization as `role` (`by` is None
    from the command line); returns its secret token (only its digest is stored, so the link
    can be shown once)."""
    email = normalize_email(email)
    if role not in ROLES:
        raise OrganizerError(f"role must be one of {', '.join(ROLES)}")
    if "@" not in email:
        raise OrganizerError("that is not an email address")
    if find(org, email) is not None:
        raise OrganizerError(f"{email} already has an account")
    token = secrets.token_urlsafe(32)
    db.session.add(
        Invitation(
            organization_id=org.id,
            email=email,
            role=role,
            token_digest=_digest(token),
            invited_by_id=by.id if by else None,
            expires_at=now + INVITATION_LIFETIME,
        )
    )
    db.session.flush()
    return token


def open_invitation(token: str, now: datetime) -> Invitation | None:
    """The unused, unexpired invitation this token belongs to, if any."""
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_digest == _digest(token)))
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
        return None
    return invitation


def accept(invitation: Invitation, password: str, name: str, now: datetime) -> Organizer:
    """Create the invited organizer in the invitation's organization and spend the invitation
    (the caller commits)."""
    org = db.session.get(Organization, invitation.organization_id)
    assert org is not None
    organizer = create(org, invitation.email, password, invitation.role, name)
    invitation.used_at = now
    return organizer


def set_password(organizer: Organizer, password: str) -> None:
    """A new password; every session of theirs ends (the caller commits)."""
    _check_password(password)
    organizer.password_hash = generate_password_hash(password, method="scrypt")
    end_sessions(organizer)


def set_role(organizer: Organizer, role: str) -> None:
    """A new role; every session of theirs ends (the caller commits)."""
    if role not in ROLES:
        raise OrganizerError(f"role must be one of {', '.join(ROLES)}")
    organizer.role = role
    end_sessions(organizer)


def disable(organizer: Organizer) -> None:
    """No more signing in; every session of theirs ends (the caller commits)."""
    organizer.active = False
    end_sessions(organizer)


def end_sessions(organizer: Organizer) -> None:
    """End every session of this organizer, wherever they signed in."""
    organizer.session_version += 1


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise OrganizerError(f"the password must have at least {MIN_PASSWORD} characters")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
