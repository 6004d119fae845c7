"""/join: anyone can ask for the organization's email. The page states what they agree to;
the one confirmation email it sends is the only email until they confirm. It answers the same
"check your inbox" whatever is known of the address, and is throttled per visitor (here) and
per address (gateway.community.members)."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue
from wtforms import BooleanField, EmailField, StringField, TelField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from flows.parse import email_address
from gateway.access import limiter
from gateway.community import members, organization
from gateway.delivery.addresses import AddressError, parse_phone
from gateway.extensions import db
from gateway.forms import PostedForm, no_nul
from gateway.public import bp

# Sign-ups from one visitor's address: enough for a family on one connection, too few to spray.
JOIN_LIMITS = "5 per hour;20 per day"
# Named with the sign-up, so what someone agreed to can be told apart after the page changes.
FORM_VERSION = "join-form-1"
CONSENT_SENTENCE = (
    "I agree to get occasional email from {organization} about its organizing, events and ways "
    "to get involved. I can unsubscribe anytime."
)


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _an_email(form: PostedForm, field: EmailField) -> None:
    if email_address(field.data or "") != (field.data or "").lower():
        raise ValidationError("That doesn't look like an email address.")


def _a_phone(form: PostedForm, field: TelField) -> None:
    try:
        parse_phone(field.data or "", current_app.config["DEFAULT_REGION"])
    except AddressError as exc:
        raise ValidationError("That doesn't look like a phone number. You can leave it empty.") from exc


class JoinForm(PostedForm):
    name = StringField(
        "Your name",
        filters=[no_nul, _strip],
        validators=[DataRequired("Please tell us your name."), Length(max=80)],
    )
    email = EmailField(
        "Email",
        filters=[no_nul, _strip],
        validators=[DataRequired("Please give your email address."), Length(max=254), _an_email],
    )
    phone = TelField(
        "Phone (optional)", filters=[no_nul, _strip], validators=[Optional(), Length(max=40), _a_phone]
    )
    agree = BooleanField(validators=[DataRequired("Please tick the box to say you agree.")])


@bp.route("/join", methods=["GET", "POST"])
@limiter.limit(JOIN_LIMITS, methods=["POST"])
def join() -> ResponseReturnValue:
    org = organization.default()
    sentence = CONSENT_SENTENCE.format(organization=org.name)
    form = JoinForm()
    if form.validate_on_submit():
        phone = form.phone.data or ""
        members.sign_up_on_form(
            org,
            members.JoinRequest(
                name=form.name.data or "",
                email=(form.email.data or "").lower(),
                phone=parse_phone(phone, current_app.config["DEFAULT_REGION"]) if phone else "",
                consent_text=f"{sentence} [{FORM_VERSION}]",
            ),
        )
        db.session.commit()
        return render_template("public/check_inbox.html", org=org)
    db.session.commit()  # the organization, if this was its first request
    status = 400 if request.method == "POST" else 200
    return render_template("public/join.html", form=form, org=org, sentence=sentence), status
