"""/join: anyone can ask for the organization's email. The page states what they agree to;
the one confirmation email it sends is the only email until they confirm. It answers the same
"check your inbox" whatever is known of the address, and is throttled per visitor (here) and
per address (gateway.community.members). A phone number is optional, and kept only as a note
for organizers: one typed on a web page proves nothing, so it is nobody's number in Kindred and
no consent to texts; texting the organization's number is how to get texts. Where email is
turned off (EMAIL_TRANSPORT=none) the page says sign-up is not available, with a 404."""

from __future__ import annotations

from flask import current_app, request, url_for
from flask.typing import ResponseReturnValue
from wtforms import BooleanField, EmailField, StringField, TelField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from flows.messages import say
from flows.parse import email_address
from gateway.access import limiter
from gateway.community import members, organization
from gateway.config import email_on
from gateway.delivery.addresses import AddressError, parse_phone
from gateway.extensions import db
from gateway.forms import PostedForm, no_nul
from gateway.public import bp, page, page_language

# Sign-ups from one visitor's address: enough for a family on one connection, too few to spray.
JOIN_LIMITS = "5 per hour;20 per day"
# Named with the sign-up, so what someone agreed to can be told apart after the page changes.
FORM_VERSION = "join-form-1"
TOO_LONG = "page.join.error.too_long"


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _an_email(form: PostedForm, field: EmailField) -> None:
    if email_address(field.data or "") != (field.data or "").lower():
        raise ValidationError("page.join.error.email")


def _a_phone(form: PostedForm, field: TelField) -> None:
    try:
        parse_phone(field.data or "", current_app.config["DEFAULT_REGION"])
    except AddressError as exc:
        raise ValidationError("page.join.error.phone") from exc


class JoinForm(PostedForm):
    """The sign-up form; its error messages are catalog keys, said in the page's language."""

    name = StringField(
        filters=[no_nul, _strip],
        validators=[DataRequired("page.join.error.name"), Length(max=80, message=TOO_LONG)],
    )
    email = EmailField(
        filters=[no_nul, _strip],
        validators=[
            DataRequired("page.join.error.email_missing"),
            Length(max=254, message=TOO_LONG),
            _an_email,
        ],
    )
    phone = TelField(
        filters=[no_nul, _strip], validators=[Optional(), Length(max=40, message=TOO_LONG), _a_phone]
    )
    agree = BooleanField(validators=[DataRequired("page.join.error.agree")])


@bp.route("/join", methods=["GET", "POST"])
@limiter.limit(JOIN_LIMITS, methods=["POST"])
def join() -> ResponseReturnValue:
    language = page_language()
    if not email_on(current_app.config):
        return page("public/problem.html", language, 404, problem="no_email")
    form = JoinForm()
    if form.validate_on_submit():
        org = organization.default()
        # The sentence as this page showed it, in its language, is what they agreed to.
        sentence = say(language, "page.join.consent", organization=org.name)
        members.sign_up_on_form(
            org,
            members.JoinRequest(
                name=form.name.data or "",
                email=(form.email.data or "").lower(),
                consent_text=f"{sentence} [{FORM_VERSION}, {language}]",
                phone_note=parse_phone(form.phone.data, current_app.config["DEFAULT_REGION"])
                if form.phone.data
                else None,
                language=language,
            ),
        )
        db.session.commit()
        return page("public/check_inbox.html", language)
    status = 400 if request.method == "POST" else 200
    other = "es" if language == "en" else "en"
    return page(
        "public/join.html",
        language,
        status,
        form=form,
        action=url_for("public.join", lang=language),
        other_language=url_for("public.join", lang=other),
    )
