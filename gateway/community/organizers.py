"""The organizers who use the console: accounts, roles, passwords, two-factor sign-in and
one-time invitations.

Passwords are hashed with scrypt (werkzeug's); one shorter than MIN_PASSWORD, or on the list of
common passwords (gateway/data/common-passwords.txt), is refused. Two-factor sign-in is TOTP
(RFC 6238, the codes authenticator apps show), with ten one-time recovery codes kept as
digests. Roles are ordered: a viewer reads, an organizer also acts (answers texts, runs
rounds), an admin also manages organizers and settings.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources

import pyotp
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from gateway.community import organization
from gateway.extensions import db
from gateway.models import Invitation, Organization, Organizer

log = logging.getLogger(__name__)

ROLES = ("viewer", "organizer", "admin")  # each may do what the ones before it may
MIN_PASSWORD = 12
INVITATION_LIFETIME = timedelta(days=3)
TOTP_DIGITS = 6
RECOVERY_CODES = 10
# Lowercase letters and digits without the ones easily misread (0/o, 1/l/i): about 50 bits a code.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
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
    check_password_strength(password)
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


def audit_homes(email: str) -> list[Organization]:
    """Where a sign-in event about `email` (a failure, a lockout) goes on record: every
    organization with an account of that email, else the instance's first. No organization's
    audit log shows what was typed at another's accounts."""
    ids = db.session.scalars(
        select(Organizer.organization_id)
        .where(func.lower(Organizer.email) == normalize_email(email))
        .distinct()
        .order_by(Organizer.organization_id)
    ).all()
    homes = [org for org in (db.session.get(Organization, i) for i in ids) if org is not None]
    return homes or [organization.default()]


def sign_in(slug: str, email: str, password: str, now: datetime) -> SignIn:
    """Sign in to the organization named by `slug` or, with none named, to the one whose
    account with this email the password opens (an email is unique within an organization
    only, so two organizations may each have an organizer with it)."""
    if slug.strip():
        named = organization.by_slug(slug)
        if named is None:
            check_password_hash(_NOBODY, password)  # as long as a wrong password takes
            return SignIn(audit_homes(email)[0], None)
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
    check_password_strength(password)
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


def check_password_strength(password: str) -> None:
    """Refuse a password that is too short or one of the common ones (OrganizerError says which)."""
    if len(password) < MIN_PASSWORD:
        raise OrganizerError(f"the password must have at least {MIN_PASSWORD} characters")
    if password.strip().lower() in _common_passwords():
        raise OrganizerError("that password is one of the most common ones: choose another")


def check_password(organizer: Organizer, password: str) -> bool:
    """Whether `password` is this organizer's."""
    return check_password_hash(organizer.password_hash, password)


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("gateway").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(text.split())


def new_two_factor_secret() -> str:
    """A fresh key for an authenticator app (base32, 160 bits)."""
    return pyotp.random_base32(32)


def two_factor_uri(secret: str, organizer: Organizer) -> str:
    """The otpauth:// URI an authenticator app reads (from the QR code, or typed)."""
    issuer = f"Kindred {organization_of(organizer).name}"
    return pyotp.TOTP(secret).provisioning_uri(name=organizer.email, issuer_name=issuer)


def enable_two_factor(organizer: Organizer, secret: str, code: str, now: datetime) -> list[str] | None:
    """Turn two-factor sign-in on with `secret` if `code` is its current code; returns the new
    recovery codes (shown once; only their digests are kept), or None if the code is wrong.
    Every other session of theirs ends (the caller commits and signs them in afresh)."""
    step = _code_step(secret, code, now, after=None)
    if step is None:
        return None
    organizer.totp_secret = secret
    organizer.totp_last_step = step
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    organizer.recovery_codes = [_digest(_plain(code)) for code in codes]
    end_sessions(organizer)
    return codes


def organization_of(organizer: Organizer) -> Organization:
    """The organization this organizer belongs to."""
    return db.session.get_one(Organization, organizer.organization_id)


def two_factor_required(organizer: Organizer) -> bool:
    """Whether this organizer must sign in with a second factor: an admin, where the
    organization requires it of admins."""
    return organizer.role == "admin" and organization_of(organizer).require_admin_two_factor


def must_set_up_two_factor(organizer: Organizer) -> bool:
    """Whether this organizer may use the console only to set up two-factor sign-in, first."""
    return organizer.totp_secret is None and two_factor_required(organizer)


def disable_two_factor(organizer: Organizer) -> None:
    """Turn two-factor sign-in off: the key and recovery codes are forgotten, and every session
    of theirs ends (the caller commits, and signs them in afresh if it is them asking)."""
    organizer.totp_secret = None
    organizer.totp_last_step = None
    organizer.recovery_codes = []
    end_sessions(organizer)


def use_second_factor(organizer: Organizer, code: str, now: datetime) -> str | None:
    """Spend `code` as this organizer's second factor: "totp" for a current authenticator code
    not used before, "recovery_code" for one of their unused recovery codes (now used up), None
    for anything else. The row is locked first, so one code cannot pass twice at once (the
    caller commits)."""
    db.session.scalar(
        select(Organizer)
        .where(Organizer.id == organizer.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if organizer.totp_secret is None:
        return None
    step = _code_step(organizer.totp_secret, code, now, after=organizer.totp_last_step)
    if step is not None:
        organizer.totp_last_step = step
        return "totp"
    digest = _digest(_plain(code))
    if digest in organizer.recovery_codes:
        organizer.recovery_codes = [kept for kept in organizer.recovery_codes if kept != digest]
        return "recovery_code"
    return None


def _code_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """The time step whose code `code` is, within one step of `now` (a phone's clock drifts, and
    a code typed just as it changes still counts), if that step is later than `after`."""
    code = "".join(code.split())
    if not (len(code) == TOTP_DIGITS and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS)
    current = totp.timecode(now)
    try:
        for step in (current - 1, current, current + 1):
            if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
                return step
    except (binascii.Error, ValueError):  # a key that could not be decrypted matches no code
        log.error("two-factor: organizer's authenticator key is unreadable (SECRET_KEY changed?)")
    return None


def _recovery_code() -> str:
    letters = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{letters[:5]}-{letters[5:]}"


def _plain(code: str) -> str:
    """A recovery code as compared: case, spaces and dashes as typed do not matter."""
    return "".join(code.split()).replace("-", "").lower()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
