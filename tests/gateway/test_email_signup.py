"""Email double opt-in (invariant 2 on the email channel): a volunteer texts EMAIL addr, or
anyone fills in /join; one confirmation email goes out through the real sendgrid client to the
SendGrid double; only its link's button (a POST) records the email opt-in, with the evidence.
A link scanner's GET changes nothing; /join says the same whatever is known of an address, and
is throttled per visitor and per address. Asking never makes an address anyone's: only its
mailbox's confirmation does, so whoever types someone else's address (or number) gets nothing
of theirs."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from gateway.community import members, organization
from gateway.delivery import consent, mail_tokens
from gateway.extensions import db
from gateway.models import Address, ConsentEvent, EmailSignup, Message, Person
from tests.conftest import PUBLIC_BASE_URL
from tests.doubles.sendgrid_api import SendGridApiDouble
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import Phone, SettableClock, Worker, csrf_token

CONFIRM_LINK = re.compile(rf"{re.escape(PUBLIC_BASE_URL)}(/email/confirm/[a-z0-9-]+)")


def shown(response: TestResponse) -> str:
    """The text of a page as a person reads it (entities such as &#39; undone)."""
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture(autouse=True)
def daytime(clock: SettableClock) -> None:
    clock.set(datetime(2026, 11, 24, 17, 0, tzinfo=UTC))


@pytest.fixture
def volunteer(phone: Phone) -> Phone:
    for body in ("hi", "yes", "Sam"):
        phone.send(body)
    return phone


def confirm_path(mail_text: str) -> str:
    match = CONFIRM_LINK.search(mail_text)
    assert match, mail_text
    return match[1]


def email_events() -> list[ConsentEvent]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(ConsentEvent).where(ConsentEvent.channel == "email").order_by(ConsentEvent.id)
        )
    )


def join(client: FlaskClient, ip: str = "203.0.113.7", **fields: str) -> tuple[int, str]:
    """Fill in /join from `ip` as a visitor would; returns the status and the page."""
    form = {"name": "Ana Ruiz", "email": "ana@example.org", "agree": "y", **fields}
    form.setdefault("csrf_token", csrf_token(client, "/join"))
    response = client.post("/join", data=form, environ_base={"REMOTE_ADDR": ip})
    return response.status_code, shown(response)


# By text


def test_a_volunteer_texts_email_and_confirms_with_the_button(
    volunteer: Phone, client: FlaskClient, sendgrid_api: SendGridApiDouble
) -> None:
    assert (
        volunteer.reply_to("EMAIL Sam@Example.org")
        == "Thanks! We emailed s***@example.org a link to confirm."
    )

    [mail] = sendgrid_api.sent
    assert mail.to == "sam@example.org"
    assert mail.subject == "Please confirm your email for Eastside Neighbors"
    path = confirm_path(mail.text)
    assert f'href="{PUBLIC_BASE_URL}{path}"' in mail.html
    # The text that asked is the evidence; it is stored with the address masked.
    request = db.session.scalars(
        select(Message).where(Message.direction == "inbound").order_by(Message.id)
    ).all()[-1]
    assert "sam@example.org" not in request.body.lower()
    address = db.session.scalars(select(Address).where(Address.channel == "email")).one()
    assert address.value == "sam@example.org"
    assert address.person_id is None  # not theirs until its mailbox confirms
    assert "your email s***@example.org (not confirmed yet)" in volunteer.reply_to("MYDATA")

    # A link scanner (or the person) opens the link: a page with a button, and no opt-in yet.
    page = client.get(path)
    assert page.status_code == 200
    assert "Yes, confirm my email" in shown(page)
    assert email_events() == []

    token = csrf_token(client, path)
    confirmed = client.post(path, data={"csrf_token": token})
    assert confirmed.status_code == 200 and "You're confirmed" in shown(confirmed)
    [opt_in] = email_events()
    assert (opt_in.kind, opt_in.source, opt_in.evidence_message_id) == (
        "opt_in",
        "email_confirmed",
        request.id,
    )
    assert opt_in.address_id == address.id
    assert opt_in.detail.startswith("sign-up ") and opt_in.detail.endswith(" via sms")
    db.session.refresh(address)
    assert address.person is not None and address.person.name == "Sam"

    again = client.post(path, data={"csrf_token": token})
    assert again.status_code == 200 and "already confirmed" in shown(again)
    assert len(email_events()) == 1
    assert "already confirmed" in shown(client.get(path))

    assert "your email s***@example.org (confirmed)" in volunteer.reply_to("MYDATA")
    assert volunteer.reply_to("EMAIL sam@example.org").startswith("s***@example.org is already confirmed")
    assert len(sendgrid_api.sent) == 1


def test_the_confirm_button_needs_its_form_token(
    volunteer: Phone, client: FlaskClient, sendgrid_api: SendGridApiDouble
) -> None:
    volunteer.send("EMAIL sam@example.org")
    path = confirm_path(sendgrid_api.sent[0].text)
    refused = client.post(path)
    assert refused.status_code == 400
    assert "Please try again" in shown(refused)
    assert email_events() == []


def test_an_address_of_someone_elses_stays_theirs_and_the_reply_says_the_same(
    app: Flask, volunteer: Phone, sendgrid_api: SendGridApiDouble
) -> None:
    org = organization.default()
    owner = Person(organization_id=org.id, name="Ana")
    db.session.add(owner)
    db.session.flush()
    db.session.add(
        Address(organization_id=org.id, person_id=owner.id, channel="email", value="ana@example.org")
    )
    db.session.commit()

    assert (
        volunteer.reply_to("EMAIL ana@example.org")
        == "Thanks! We emailed a***@example.org a link to confirm."
    )
    address = db.session.scalars(select(Address).where(Address.channel == "email")).one()
    assert address.person_id == owner.id
    # Their own request, waiting, as for any address: nothing of the owner's standing shows.
    assert "your email a***@example.org (not confirmed yet)" in volunteer.reply_to("MYDATA")
    # The owner gets the one confirmation, and only their click could opt them in.
    assert [m.to for m in sendgrid_api.sent] == ["ana@example.org"]


def test_a_malformed_address_gets_a_helpful_reply_and_nothing_is_sent(
    volunteer: Phone, sendgrid_api: SendGridApiDouble
) -> None:
    assert volunteer.reply_to("EMAIL sam@example").startswith("That doesn't look like an email address.")
    assert volunteer.reply_to("EMAIL").startswith("To get occasional email from Eastside Neighbors")
    assert sendgrid_api.sent == []
    assert db.session.scalars(select(EmailSignup)).all() == []


def test_a_spanish_speaker_gets_the_confirmation_in_spanish(
    phone: Phone, sendgrid_api: SendGridApiDouble
) -> None:
    for body in ("hola", "sí", "Ana"):
        phone.send(body)
    assert (
        phone.reply_to("CORREO ana@ejemplo.org")
        == "¡Gracias! Enviamos a a***@ejemplo.org un enlace para confirmar."
    )
    [mail] = sendgrid_api.sent
    assert mail.subject == "Confirma tu correo para Eastside Neighbors"
    assert "Sí, confirmo mi correo" in mail.html


def test_a_confirmation_link_expires_after_a_week_and_a_forged_one_never_works(
    volunteer: Phone, client: FlaskClient, sendgrid_api: SendGridApiDouble, clock: SettableClock
) -> None:
    volunteer.send("EMAIL sam@example.org")
    path = confirm_path(sendgrid_api.sent[0].text)
    token = path.rsplit("/", 1)[1]
    forged = path[: -len(token)] + token[:-1] + ("0" if token[-1] != "0" else "1")
    for bad in (
        forged,
        "/email/confirm/nonsense",
        f"/email/confirm/{mail_tokens.make(mail_tokens.UNSUBSCRIBE, 1)}",
    ):
        page = client.get(bad)
        assert page.status_code == 404
        assert "Sign up again" in shown(page)
    clock.advance(timedelta(days=8))
    assert client.get(path).status_code == 404
    assert client.post(path, data={"csrf_token": csrf_token(client, "/join")}).status_code == 404
    assert email_events() == []


def test_delete_erases_a_confirmed_address_of_theirs(
    volunteer: Phone, client: FlaskClient, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    volunteer.send("EMAIL sam@example.org")
    path = confirm_path(sendgrid_api.sent[0].text)
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    for text in ("DELETE", "yes"):
        volunteer.send(text)
    assert volunteer.replies()[-1].startswith("Eastside Neighbors: Done. Your data is erased")

    address = db.session.scalars(select(Address).where(Address.channel == "email")).one()
    assert address.value.startswith("hmac:") and not address.pending_erasure
    assert consent.status(address).value == "opted_out"
    # Signing up again on the form is answered the same, and sends nothing to an erased address.
    status, page = join(client, email="sam@example.org")
    assert status == 200 and "Check your inbox" in page
    worker.run()
    assert len(sendgrid_api.sent) == 1


def test_delete_withdraws_an_unconfirmed_sign_up_and_leaves_the_address_alone(
    volunteer: Phone, client: FlaskClient, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    """A volunteer who typed someone else's address and then erased their data takes nothing of
    that person's with them: the address is not erased or opted out, and its owner can still
    sign up."""
    # Answered at once, before the worker sends anything.
    for text in ("EMAIL victim@example.org", "DELETE", "yes"):
        assert volunteer.post(text).status_code == 200
    worker.run()
    assert volunteer.replies()[-1].startswith("Eastside Neighbors: Done. Your data is erased")

    assert sendgrid_api.sent == []  # the queued confirmation was withdrawn
    confirmation = db.session.scalars(select(Message).where(Message.channel == "email")).one()
    assert (confirmation.status, confirmation.error_code) == ("suppressed", "erased")
    assert db.session.scalars(select(EmailSignup)).all() == []
    address = db.session.scalars(select(Address).where(Address.channel == "email")).one()
    assert (address.value, address.person_id, address.pending_erasure) == ("victim@example.org", None, False)
    assert email_events() == []

    # The address's owner signs up on the form, confirms, and it is theirs.
    join(client, name="Vic", email="victim@example.org")
    worker.run()
    [mail] = sendgrid_api.sent
    path = confirm_path(mail.text)
    assert "You're confirmed" in shown(client.post(path, data={"csrf_token": csrf_token(client, path)}))
    db.session.refresh(address)
    assert address.person is not None and address.person.name == "Vic"
    assert consent.status(address).value == "opted_in"


def test_an_address_a_volunteer_texted_is_its_owners_once_they_confirm_and_outlives_the_volunteers_delete(
    volunteer: Phone,
    client: FlaskClient,
    worker: Worker,
    sendgrid_api: SendGridApiDouble,
    clock: SettableClock,
) -> None:
    """A volunteer texts EMAIL with someone else's address. Its owner ignores that email, later
    joins on the form and confirms: the address and their replies are theirs, not the
    volunteer's; a click on the volunteer's old link changes no owner; and when the volunteer
    erases their data the owner keeps getting email."""
    volunteer.send("EMAIL victim@example.org")
    clock.advance(timedelta(minutes=30))
    join(client, name="Vic", email="victim@example.org")
    worker.run()
    texted, joined = sendgrid_api.sent
    assert texted.to == joined.to == "victim@example.org"
    path = confirm_path(joined.text)
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    address = db.session.scalars(select(Address).where(Address.channel == "email")).one()
    assert address.person is not None and address.person.name == "Vic"
    vic = address.person_id

    old = confirm_path(texted.text)
    client.post(old, data={"csrf_token": csrf_token(client, old)})
    db.session.refresh(address)
    assert address.person_id == vic

    for text in ("DELETE", "yes"):
        volunteer.send(text)
    assert volunteer.replies()[-1].startswith("Eastside Neighbors: Done. Your data is erased")
    db.session.rollback()
    address = db.session.scalars(select(Address).where(Address.channel == "email")).one()
    assert (address.value, address.person_id) == ("victim@example.org", vic)
    assert consent.status(address).value == "opted_in"
    assert [e.kind for e in email_events()] == ["opt_in", "opt_in"]


# On the /join page


def test_join_end_to_end(
    app: Flask, client: FlaskClient, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    page = client.get("/join")
    assert page.status_code == 200
    text = shown(page)
    assert "I agree to get occasional email from Eastside Neighbors" in text
    assert "I can unsubscribe anytime." in text

    # A phone number is optional and is for calling: the page says it signs nobody up for texts,
    # and texting us is how to get texts.
    assert 'type="tel"' in text and "Giving it does not sign you up for texts." in text
    org = organization.default()
    assert (
        org.phone
        and f"Want our texts too? Text HI to {organization.display_number(org.phone)} from your phone."
        in text
    )

    status, answer = join(client, name="Ana Ruiz", email="Ana@Example.org")
    assert status == 200 and "Check your inbox" in answer
    worker.run()
    [mail] = sendgrid_api.sent
    assert mail.to == "ana@example.org"

    address = db.session.scalars(select(Address).where(Address.channel == "email")).one()
    assert address.person_id is None  # not Ana's until she confirms
    signup = db.session.scalars(select(EmailSignup)).one()
    assert signup.source == "join" and signup.evidence_message_id is None
    assert "I agree to get occasional email from Eastside Neighbors" in signup.detail
    assert "[join-form-1, en]" in signup.detail
    # Nothing is recorded until the email is confirmed.
    assert db.session.scalars(select(ConsentEvent)).all() == []

    path = confirm_path(mail.text)
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    [opt_in] = email_events()
    assert (opt_in.address_id, opt_in.kind, opt_in.detail) == (
        address.id,
        "opt_in",
        f"sign-up {signup.id} via join",
    )
    db.session.refresh(address)
    assert address.person is not None and address.person.name == "Ana Ruiz"
    assert db.session.scalars(select(Address).where(Address.channel == "sms")).all() == []


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"email": "ana@example"}, "doesn't look like an email address"),
        ({"email": ""}, "Please give your email address."),
        ({"name": "  "}, "Please tell us your name."),
        ({"agree": ""}, "Please tick the box to say you agree."),
        ({"name": "\x00", "email": "ana\x00@example.org"}, "Please tell us your name."),
        ({"name": "A" * 81}, "That is too long."),
    ],
)
def test_join_refuses_bad_input_with_the_form_and_a_message(
    client: FlaskClient, worker: Worker, sendgrid_api: SendGridApiDouble, fields: dict[str, str], says: str
) -> None:
    status, page = join(client, **fields)
    assert status == 400
    assert says in page and "Sign me up" in page
    worker.run()
    assert sendgrid_api.sent == []
    assert db.session.scalars(select(Address)).all() == []


def test_join_without_its_form_token_is_refused(client: FlaskClient) -> None:
    status, page = join(client, csrf_token="")
    assert status == 400 and "Please try again" in page
    assert db.session.scalars(select(Address)).all() == []


def test_join_says_the_same_for_a_known_address_and_never_moves_it_or_renames_its_owner(
    app: Flask,
    client: FlaskClient,
    worker: Worker,
    volunteer: Phone,
    sendgrid_api: SendGridApiDouble,
    clock: SettableClock,
) -> None:
    volunteer.send("EMAIL sam@example.org")
    path = confirm_path(sendgrid_api.sent[0].text)
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    sendgrid_api.sent.clear()
    known_person = db.session.scalars(select(Address).where(Address.channel == "email")).one().person_id
    clock.advance(timedelta(minutes=1))

    _, for_unknown = join(client, name="Zed", email="zed@example.org")
    _, for_known = join(client, name="Mallory", email="sam@example.org", phone=volunteer.number)
    assert for_known == for_unknown
    worker.run()

    sam = db.session.scalars(select(Address).where(Address.value == "sam@example.org")).one()
    assert sam.person_id == known_person and sam.person.name == "Sam"
    phones = db.session.scalars(select(Address).where(Address.channel == "sms")).all()
    assert [(p.value, p.person_id) for p in phones] == [(volunteer.number, known_person)]
    # Sam's address had a confirmation a minute ago: no second one yet. Zed's got one.
    assert [m.to for m in sendgrid_api.sent] == ["zed@example.org"]
    assert "your first name (Sam)" in volunteer.reply_to("MYDATA")


def test_a_strangers_phone_typed_on_the_form_gives_its_owner_nothing_of_the_forms(
    app: Flask,
    client: FlaskClient,
    worker: Worker,
    twilio_api: TwilioApiDouble,
    sendgrid_api: SendGridApiDouble,
) -> None:
    """Mallory signs up with her email and a stranger's number. The stranger, texting later, is
    a newcomer: not greeted by Mallory's name, and sharing none of her email, data or thread."""
    stranger = Phone(client, twilio_api, worker, "+15558670000")
    status, _ = join(client, name="Mallory", email="mallory@evil.example", phone=stranger.number)
    assert status == 200
    worker.run()
    path = confirm_path(sendgrid_api.sent[0].text)
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert db.session.scalars(select(Address).where(Address.channel == "sms")).all() == []

    greeting = stranger.reply_to("hi")
    assert "Mallory" not in greeting and "Welcome back" not in greeting
    welcome = stranger.reply_to("yes")
    assert welcome == "Welcome! What's your first name?"
    assert "m***@evil.example" not in stranger.reply_to("MYDATA")
    phone = db.session.scalars(select(Address).where(Address.channel == "sms")).one()
    mallory = db.session.scalars(select(Address).where(Address.channel == "email")).one()
    assert phone.person_id != mallory.person_id
    assert db.session.scalars(select(ConsentEvent).where(ConsentEvent.address_id == phone.id)).all() != []
    assert mallory.person is not None and mallory.person.name == "Mallory"
    # The number stays what it was on the form: a note for an organizer who wants to call Mallory.
    assert members.phone_notes(mallory.person) == [stranger.number]


def test_one_confirmation_per_address_per_ten_minutes_and_three_a_day(
    app: Flask, client: FlaskClient, worker: Worker, sendgrid_api: SendGridApiDouble, clock: SettableClock
) -> None:
    # From a different place each time: the per-visitor limit is not what is tested here.
    ips = (f"198.51.100.{n}" for n in range(1, 100))
    pages = set()
    for _ in range(2):
        pages.add(join(client, next(ips)))
        clock.advance(timedelta(minutes=5))
    worker.run()
    assert len(sendgrid_api.sent) == 1
    for _ in range(3):
        clock.advance(timedelta(minutes=11))
        pages.add(join(client, next(ips)))
    worker.run()
    assert len(sendgrid_api.sent) == 3  # the day's three
    assert len(pages) == 1  # and every answer the same page
    clock.advance(timedelta(days=1))
    join(client, next(ips))
    worker.run()
    assert len(sendgrid_api.sent) == 4
    # A person is made only for a sign-up that sent its confirmation.
    assert len(db.session.scalars(select(Person)).all()) == 4


def test_join_is_throttled_per_visitor(
    client: FlaskClient, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    for n in range(5):
        status, _ = join(client, email=f"person{n}@example.org")
        assert status == 200
    status, page = join(client, email="person5@example.org")
    assert status == 429
    assert "Please try again later" in page
    worker.run()
    assert len(sendgrid_api.sent) == 5
    assert client.get("/join").status_code == 200  # reading the page is never throttled


def test_a_confirmation_after_an_unsubscribe_opts_in_again(
    app: Flask, client: FlaskClient, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    join(client)
    worker.run()
    path = confirm_path(sendgrid_api.sent[0].text)
    address = db.session.scalars(select(Address).where(Address.channel == "email")).one()
    members.unsubscribe(address, "email_link")
    db.session.commit()

    client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert [(e.kind, e.source) for e in email_events()] == [
        ("opt_out", "email_link"),
        ("opt_in", "email_confirmed"),
    ]


def test_join_in_spanish(
    app: Flask, client: FlaskClient, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    page = shown(client.get("/join?lang=es"))
    assert "Acepto recibir correos de vez en cuando de Eastside Neighbors" in page
    assert 'action="/join?lang=es"' in page
    token = csrf_token(client, "/join?lang=es")
    refused = client.post("/join?lang=es", data={"csrf_token": token, "email": "rosa@", "agree": "y"})
    assert refused.status_code == 400
    assert "Eso no parece una dirección de correo." in shown(refused)

    sent = client.post(
        "/join?lang=es",
        data={"csrf_token": token, "name": "Rosa", "email": "rosa@ejemplo.org", "agree": "y"},
    )
    assert "Revisa tu correo" in shown(sent)
    worker.run()
    [mail] = sendgrid_api.sent
    assert mail.subject == "Confirma tu correo para Eastside Neighbors"
    signup = db.session.scalars(select(EmailSignup)).one()
    assert signup.detail.startswith("Acepto recibir correos") and signup.detail.endswith("[join-form-1, es]")
    # The link's page is in the language of the person it was sent to.
    path = confirm_path(mail.text)
    assert "Sí, confirmo mi correo" in shown(client.get(path))
    assert "Yes, confirm my email" in shown(client.get(f"{path}?lang=en"))


def test_join_follows_the_browsers_language(client: FlaskClient) -> None:
    page = client.get("/join", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert "Recibe correos de Eastside Neighbors" in shown(page)
    assert "Get email from Eastside Neighbors" in shown(client.get("/join"))


def test_where_email_is_off_join_says_sign_up_is_not_available_and_email_by_text_says_so_too(
    app: Flask, client: FlaskClient, worker: Worker, volunteer: Phone, sendgrid_api: SendGridApiDouble
) -> None:
    token = csrf_token(client, "/join")
    app.config["EMAIL_TRANSPORT"] = "none"
    page = client.get("/join")
    assert page.status_code == 404
    assert "Email sign-up is not available here" in shown(page)
    assert "Sign me up" not in shown(page)
    form = {"csrf_token": token, "name": "Ana", "email": "ana@example.org", "agree": "y"}
    sent = client.post("/join", data=form)
    assert sent.status_code == 404 and "Check your inbox" not in shown(sent)
    assert "no envía correos" in shown(client.get("/join?lang=es"))

    reply = volunteer.reply_to("EMAIL sam@example.org")
    assert reply == (
        "Sorry, Eastside Neighbors doesn't send email here, so there's nothing to sign up for. "
        "You'll keep getting our texts."
    )
    worker.run()
    assert sendgrid_api.sent == []
    assert db.session.scalars(select(EmailSignup)).all() == []
    assert db.session.scalars(select(Address).where(Address.channel == "email")).all() == []
