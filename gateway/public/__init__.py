"""The public pages anyone may open, with no login: signing up for email (/join), confirming a
sign-up, and unsubscribing (the links in every email). Their answers are pages a person reads,
errors included, in English or Spanish (the words are the message catalog's `page.*` keys)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from flows.messages import CATALOG, DEFAULT_LANGUAGE, LANGUAGES, say
from gateway.community import organization
from gateway.extensions import db

bp = Blueprint(
    "public", __name__, template_folder="templates", static_folder="static", static_url_path="/public/static"
)


def page_language(person_language: str | None = None) -> str:
    """The language of a page: `?lang=es` or `?lang=en` if given, else the person's own (on a
    link sent to them), else the one the browser prefers."""
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        return asked
    if person_language in LANGUAGES:
        return person_language
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)


def page(template: str, language: str, status: int = 200, **values: Any) -> ResponseReturnValue:
    """A public page in `language`: its template says each text with ``t("page.key", ...)``."""

    def t(key: str, **filled: Any) -> str:
        # A form error from WTForms itself is no catalog key: it is shown as it comes.
        return say(language, key, **filled) if key in CATALOG else key

    org = organization.default()
    db.session.commit()  # the organization, if this is the deployment's first request
    return render_template(template, t=t, lang=language, org=org, **values), status


@bp.errorhandler(CSRFError)
def form_expired(error: CSRFError) -> ResponseReturnValue:
    """A form posted without its token (a page left open for hours, or cookies blocked)."""
    return page("public/problem.html", page_language(), 400, problem="expired")


@bp.errorhandler(429)
def too_many(error: HTTPException) -> ResponseReturnValue:
    """Too many sign-ups from one place: a page that says to come back later."""
    return page("public/problem.html", page_language(), 429, problem="too_many")


def init_app(app: Flask) -> None:
    """Register the public pages."""
    app.register_blueprint(bp)


from gateway.public import email_links, join  # noqa: E402, F401 (their routes join the blueprint)
