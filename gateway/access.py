"""Who may use the console and the simulator: organizer sessions (Flask-Login), CSRF on every
form (Flask-WTF), login throttling (Flask-Limiter, on Redis), the role check, and two-factor
sign-in where the organization requires it.

Access is decided on the server for every request, before the view runs, and fails closed:
each view declares the least role that may use it (`needs`), a view that declares none is
refused to everyone, and only the views named public (signing in, accepting an invitation)
are open to anonymous visitors.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import Flask, Request, abort, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select

from gateway.community import organizers
from gateway.extensions import db
from gateway.models import Organization, Organizer

login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)

# The providers' webhooks (Twilio's, SendGrid's): each request is signed or authenticated on
# its own, and nobody signs in there.
PROVIDER_WEBHOOKS = "/webhooks/"


class _Sessions(SecureCookieSessionInterface):
    """The console's signed-cookie session, not opened for a provider's webhook, where it
    served nothing and cost each text processor time (with the limiter's search below, 0.07
    ms of a webhook's 0.8 ms before its database work)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(PROVIDER_WEBHOOKS):
            return None  # Flask gives the request a null session: read as empty, never saved
        return super().open_session(app, request)


@limiter.request_filter
def _provider_webhook() -> bool:
    """A provider's webhook has none of the login throttle's limits (texts that flood in are
    held back by `gateway.sms.flood`): not looked for at each text. A limit added under
    PROVIDER_WEBHOOKS must narrow this filter, or it is never applied."""
    return request.path.startswith(PROVIDER_WEBHOOKS)


SESSION_LIFETIME = timedelta(hours=12)
# Views anyone may open: signing in (password, then code), accepting an invitation, and the
# console's static files.
PUBLIC = frozenset({"console.login", "console.login_code", "console.accept_invitation", "console.static"})
# What an admin who must set up two-factor sign-in may still do: that, and sign out.
TWO_FACTOR_SETUP = frozenset({"console.account", "console.enable_two_factor", "console.logout"})

View = TypeVar("View", bound=Callable[..., Any])


def needs(role: str, post: str | None = None) -> Callable[[View], View]:
    """Declare the least role that may use a view (and, if different, may POST to it)."""
    if role not in organizers.ROLES or (post is not None and post not in organizers.ROLES):
        raise ValueError(f"unknown role in needs({role!r}, post={post!r})")

    def declare(view: View) -> View:
        view.kindred_roles = {"GET": role, "POST": post or role}  # type: ignore[attr-defined]
        return view

    return declare


def required_role(endpoint: str, method: str) -> str | None:
    """The least role that may call this endpoint with this method; None: nobody may."""
    view = current_app.view_functions.get(endpoint)
    roles = getattr(view, "kindred_roles", None) or {}
    return roles.get("GET" if method == "HEAD" else method)


def check_access() -> ResponseReturnValue | None:
    """Refuse the request unless the signed-in organizer's role allows it (see module)."""
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC:
        return None
    if not current_user.is_authenticated:
        if request.method == "GET":
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
        abort(401, description="sign in first")
    needed = required_role(endpoint, request.method)
    if needed is None or not organizers.may(current_user.role, needed):
        abort(403, description="your role does not allow this")
    if endpoint not in TWO_FACTOR_SETUP and organizers.must_set_up_two_factor(current_user.organizer):
        if request.method == "GET":
            return redirect(url_for("console.account"))
        abort(403, description="set up two-factor sign-in first: your organization requires it of admins")
    return None


class SignedIn(UserMixin):
    """The organizer a request is signed in as, as Flask-Login sees them."""

    def __init__(self, organizer: Organizer, organization: Organization | None = None) -> None:
        self.organizer = organizer
        # Held for the request, so the session finds it again without asking the database.
        self.organization = organization
        self.role = organizer.role
        self.email = organizer.email

    def get_id(self) -> str:
        return session_id(self.organizer)


@login_manager.user_loader
def load_organizer(session_id: str) -> SignedIn | None:
    """The organizer a session belongs to, while that session is still theirs: the id carries
    the organizer's session version, which a new password, a role change or removal bumps."""
    organizer_id, _, version = session_id.partition(":")
    if not (organizer_id.isdigit() and version.isdigit()):
        return None
    # With its organization, in the same query: whether it requires two-factor sign-in is asked
    # on every request (check_access).
    row = db.session.execute(
        select(Organizer, Organization)
        .join(Organization, Organization.id == Organizer.organization_id)
        .where(Organizer.id == int(organizer_id))
    ).first()
    organizer, organization = row if row else (None, None)
    if organizer is None or not organizer.active or organizer.session_version != int(version):
        return None
    signed_in_at = session.get("signed_in_at", 0)
    if (
        not isinstance(signed_in_at, int | float)
        or time.time() - signed_in_at > SESSION_LIFETIME.total_seconds()
    ):
        return None  # however often it was used since: twelve hours from signing in, no more
    return SignedIn(organizer, organization)


def current_organization() -> Organization:
    """The signed-in organizer's organization: a console page acts on it and on nothing else,
    so another organization's records are as missing as records that never were."""
    return current_user.organization or organizers.organization_of(current_user.organizer)


def session_id(organizer: Organizer) -> str:
    """What a session stores to name its organizer (see load_organizer)."""
    return f"{organizer.id}:{organizer.session_version}"


def start_session(organizer: Organizer) -> None:
    """Sign `organizer` in on a fresh session: nothing of the one before it is kept."""
    session.clear()
    # Nor the CSRF token this request already made from it: a page rendered after signing in
    # must carry a token of the new session.
    g.pop(current_app.config["WTF_CSRF_FIELD_NAME"], None)
    session.permanent = True
    session["signed_in_at"] = time.time()
    login_user(SignedIn(organizer), fresh=True)


def init_app(app: Flask) -> None:
    """Sessions, CSRF on every form (webhooks exempt themselves: they are signed), login
    throttling."""
    app.config.update(
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        SESSION_REFRESH_EACH_REQUEST=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config["PUBLIC_BASE_URL"].startswith("https://"),
        # Nobody is remembered past a session (no "remember me"); should that cookie ever be
        # set, it is as guarded as the session's.
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=app.config["PUBLIC_BASE_URL"].startswith("https://"),
        # Flask-WTF's extra check on https (a Referer from this site) cannot hold: no page sends
        # a Referer (gateway.security_headers). The token and SameSite cookies stop forged posts.
        WTF_CSRF_SSL_STRICT=False,
        WTF_CSRF_TIME_LIMIT=int(SESSION_LIFETIME.total_seconds()),
        RATELIMIT_STORAGE_URI=_limiter_storage(app.config["REDIS_URL"]),
        RATELIMIT_STORAGE_OPTIONS={"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_HEADERS_ENABLED=True,
    )
    app.session_interface = _Sessions()
    login_manager.init_app(app)
    login_manager.login_view = "console.login"
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    limiter.init_app(app)


def _limiter_storage(redis_url: str) -> str:
    return (
        "redis+unix://" + redis_url.removeprefix("unix://") if redis_url.startswith("unix://") else redis_url
    )
