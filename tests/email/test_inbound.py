"""Members' email replies through SendGrid Inbound Parse: the reply lands on the member's
thread in the console inbox with only their own words (no quoted history, reply header or
signature), whatever mail program, language or charset wrote it; mail without a valid reply
token is kept as unmatched mail; nothing is stored without Inbound Parse's credentials, and the
same email is stored once."""

from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gateway import create_app
from gateway.community import inbox
from gateway.delivery import consent, mail_tokens
from gateway.email import visible
from gateway.extensions import db
from gateway.models import Address, AuditEntry, ConsentEvent, Person, Thread
from tests.conftest import INBOUND_EMAIL_DOMAIN, LOCAL
from tests.console.conftest import SignedIn
from tests.email.conftest import SAM, MailProgram, basic_auth, inbound_emails, payload, reply_address
from tests.flows.hang import GROWTH_LIMIT, growth
from tests.support import SettableClock, a_fault, database_fault_once, the_connection_is_lost

# Each recorded shape: what the member wrote, as the organizer must see it, and its subject.
REPLIES = {
    "gmail": ("Yes! I can make it Thursday, and I'll bring my neighbor Ana.", "Re: Forum Thursday"),
    "apple": ("Sounds great, I'll be there.", "Re: Forum Thursday"),
    "apple_html_only_below": ("Count me in — I’ll bring cookies for everyone.", "Re: Forum Thursday"),
    "outlook": ("I can help with the phone bank on Saturday morning.", "RE: Forum Thursday"),
    "spanish_latin1": ("¡Sí! Allí estaré el jueves con mi vecina.", "Re: Foro el jueves"),
    "german_cp1252_below": ("Gerne – ich komme und bringe Kuchen für alle mit.", "AW: Forum am Donnerstag"),
    "raw": (
        "Thursday works. Shall we get a café after?\n\n[attachment: library.jpg, 160 B]",
        "Re: Forum Thursday — café after?",
    ),
}
# What none of them may show: the organization's quoted email, reply headers, signatures.
HISTORY = (
    "7pm",
    "19 Uhr",
    "wrote:",
    "escribió",
    "schrieb",
    "From:",
    "Sent from my iPhone",
    "Best,",
    "Grüße",
    "Sam Rivera",
    INBOUND_EMAIL_DOMAIN,
)


def thread_page(browser: FlaskClient) -> str:
    """The only open thread of the inbox, as the organizer reads it (HTML entities decoded)."""
    links = re.findall(
        r'<a href="(/console/inbox/\d+)">', browser.get("/console/inbox").get_data(as_text=True)
    )
    assert len(links) == 1, links
    return unescape(browser.get(links[0]).get_data(as_text=True))


@pytest.mark.parametrize("shape", list(REPLIES))
def test_a_reply_lands_on_the_members_thread_with_only_their_own_words(
    member: Address, mail_program: MailProgram, signed_in: SignedIn, shape: str
) -> None:
    words, subject = REPLIES[shape]
    response = mail_program.reply(shape, reply_address(member), message_id="<CAF=reply-1@mail.example.org>")
    assert response.status_code == 200, response.get_data(as_text=True)

    [stored] = inbound_emails()
    assert (stored.body, stored.subject) == (words, subject)
    assert (stored.address_id, stored.header_id, stored.status) == (
        member.id,
        "<CAF=reply-1@mail.example.org>",
        "received",
    )
    page = thread_page(signed_in("organizer"))
    assert words in page and subject in page and "Sam" in page
    conversation = page[page.index('class="conversation"') : page.index("</ol>")]
    for quoted in HISTORY:
        assert quoted not in conversation, quoted
    thread = db.session.scalar(select(Thread))
    assert thread is not None and (thread.channel, thread.status) == ("email", "open")
    person = db.session.get(Person, member.person_id)
    assert person is not None and person.last_active_at is not None


def without_part(body: bytes, name: str) -> bytes:
    """A payload without one of its form fields, as from a mail program that sent no such part."""
    start = body.index(f'--xYzZY\r\nContent-Disposition: form-data; name="{name}"'.encode())
    end = body.index(b"--xYzZY", start + 7)
    return body[:start] + body[end:]


@pytest.mark.parametrize("shape", ["gmail", "apple", "outlook", "spanish_latin1"])
def test_the_html_part_alone_reads_the_same(member: Address, mail_program: MailProgram, shape: str) -> None:
    """HTML-only mail: Gmail's gmail_quote, Apple's blockquote type=cite and Outlook's
    divRplyFwdMsg are history, in whatever charset the part came."""
    body = without_part(
        payload(shape, TO=reply_address(member), FROM=SAM, MESSAGE_ID="<html-only@x>"), "text"
    )
    response = mail_program.post(body)
    assert response.status_code == 200
    [stored] = inbound_emails()
    assert stored.body == REPLIES[shape][0]


def test_an_attachment_is_named_with_its_size_and_never_stored(
    member: Address, mail_program: MailProgram, signed_in: SignedIn
) -> None:
    assert mail_program.reply("attachment", reply_address(member)).status_code == 200

    [stored] = inbound_emails()
    assert stored.body == (
        "Here is the flyer for Thursday, can you print it?\n\n[attachment: Forum flyer (final).pdf, 3 KB]"
    )
    assert "[attachment: Forum flyer (final).pdf, 3 KB]" in thread_page(signed_in("organizer"))


def _unmatched_page(browser: FlaskClient) -> str:
    return unescape(browser.get("/console/inbox?show=unmatched").get_data(as_text=True))


def forged(token_address: str) -> str:
    """The reply address with its signature altered by one character."""
    local, _, domain = token_address.partition("@")
    flipped = "0" if local[-1] != "0" else "1"
    return f"{local[:-1]}{flipped}@{domain}"


@pytest.mark.parametrize("which", ["forged", "unknown", "no token", "expired"])
def test_mail_without_a_valid_reply_token_is_kept_as_unmatched_mail(
    member: Address, mail_program: MailProgram, signed_in: SignedIn, clock: SettableClock, which: str
) -> None:
    to = {
        "forged": forged(reply_address(member)),
        "unknown": f"reply+zz-zz-0123456789abcdef0123@{INBOUND_EMAIL_DOMAIN}",
        "no token": f"hello@{INBOUND_EMAIL_DOMAIN}",
        "expired": reply_address(member),
    }[which]
    if which == "expired":
        clock.advance(timedelta(days=401))  # a reply token is honoured for 400 days
    assert mail_program.reply("gmail", to).status_code == 200

    [stored] = inbound_emails()
    assert stored.needs_attention and stored.reason == "unmatched"
    assert db.session.scalar(select(func.count()).select_from(Thread)) == 0
    organizer = signed_in("organizer")
    page = _unmatched_page(organizer)
    assert "s***@example.org" in page and SAM not in page  # the sender, masked
    assert "Re: Forum Thursday" in page and REPLIES["gmail"][0] in page

    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    done = organizer.post(f"/console/inbox/unmatched/{stored.id}/done", data={"csrf_token": token.group(1)})
    assert done.status_code == 303
    assert "No unmatched email waiting." in _unmatched_page(organizer)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "unmatched_mail_done"))
    assert entry is not None and SAM not in str(entry.detail) and "Thursday" not in str(entry.detail)


def test_someone_elses_address_replying_on_a_members_thread_is_unmatched(
    member: Address, mail_program: MailProgram
) -> None:
    other = Person(organization_id=member.organization_id, name="Alex")
    db.session.add(other)
    db.session.flush()
    db.session.add(
        Address(
            organization_id=member.organization_id,
            person_id=other.id,
            channel="email",
            value="alex@example.org",
        )
    )
    db.session.commit()

    assert mail_program.reply("gmail", reply_address(member), sender="alex@example.org").status_code == 200
    [stored] = inbound_emails()
    assert stored.reason == "unmatched" and stored.address.person_id == other.id
    assert db.session.scalar(select(func.count()).select_from(Thread)) == 0


@pytest.mark.parametrize(
    "headers",
    [{}, basic_auth("not-the-secret"), basic_auth(""), {"Authorization": "Bearer inbound-parse-secret"}],
    ids=["missing", "wrong password", "empty password", "not basic"],
)
def test_without_inbound_parse_credentials_nothing_is_stored(
    member: Address, mail_program: MailProgram, headers: dict[str, str]
) -> None:
    response = mail_program.reply("gmail", reply_address(member), headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert inbound_emails() == []


def test_with_email_off_the_endpoint_does_not_exist(app: Flask, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = {k: app.config[k] for k in ("SECRET_KEY", "REDIS_URL")}
    off = create_app(
        {
            **config,
            **LOCAL,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "INSTANCE_PATH": str(tmp_path),
        }
    )
    assert off.config["EMAIL_TRANSPORT"] == "none"
    response = off.test_client().post(
        "/webhooks/sendgrid/inbound",
        data=payload("gmail", TO="x", FROM=SAM, MESSAGE_ID="<a@b>"),
        content_type="multipart/form-data; boundary=xYzZY",
        headers=basic_auth(""),
    )
    assert response.status_code == 404
    assert inbound_emails() == []


def test_the_same_message_id_is_stored_once(member: Address, mail_program: MailProgram) -> None:
    for _ in range(2):  # SendGrid retries a POST it thinks failed
        response = mail_program.reply("gmail", reply_address(member), message_id="<retried@mail.example.org>")
        assert response.status_code == 200
    assert len(inbound_emails()) == 1


def test_the_same_message_id_posted_concurrently_is_stored_once(console: Flask, member: Address) -> None:
    to = reply_address(member)
    db.session.commit()
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def post() -> None:
        program = MailProgram(console.test_client(), SAM)
        barrier.wait()
        statuses.append(program.reply("gmail", to, message_id="<twice@mail.example.org>").status_code)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200]
    assert len(inbound_emails()) == 1


def routing_to_a_thread(statement: str, parameters: object) -> bool:
    return "FROM thread" in statement


def test_a_reply_whose_routing_loses_the_database_is_stored_on_sendgrids_retry_not_before(
    member: Address, mail_program: MailProgram
) -> None:
    """The database going away while an email is routed stores nothing and answers 503, so
    SendGrid tries again, and the retry lands on the member's thread: never stored but unrouted,
    on no thread and in no organizer's list, after a 2xx."""
    to = reply_address(member)
    with database_fault_once(routing_to_a_thread, the_connection_is_lost):
        response = mail_program.reply("gmail", to, message_id="<outage@mail.example.org>")
    assert response.status_code == 503
    assert inbound_emails() == []

    assert mail_program.reply("gmail", to, message_id="<outage@mail.example.org>").status_code == 200
    [stored] = inbound_emails()
    thread = db.session.scalar(select(Thread))
    assert thread is not None and thread.last_message_id == stored.id and not stored.reason


def test_a_reply_whose_routing_fails_is_stored_and_kept_for_an_organizer(
    member: Address, mail_program: MailProgram
) -> None:
    with database_fault_once(routing_to_a_thread, a_fault):
        response = mail_program.reply("gmail", reply_address(member), message_id="<bug@mail.example.org>")
    assert response.status_code == 200  # stored: SendGrid need not try again
    [stored] = inbound_emails()
    assert stored.needs_attention and stored.reason == inbox.UNMATCHED
    assert stored.body == REPLIES["gmail"][0]


def test_mail_without_a_message_id_is_keyed_by_its_content(
    member: Address, mail_program: MailProgram
) -> None:
    for _ in range(2):
        assert mail_program.reply("gmail", reply_address(member), message_id="").status_code == 200
    [stored] = inbound_emails()
    assert stored.header_id is None and stored.provider_id is not None


def test_a_body_over_the_limit_is_refused_and_nothing_is_stored(
    member: Address, mail_program: MailProgram
) -> None:
    big = payload("gmail", TO=reply_address(member), FROM=SAM, MESSAGE_ID="<big@x>").replace(
        b"Yes! I can make it", b"Yes! " + b"a" * (33 * 1024 * 1024)
    )
    response = mail_program.post(big)
    assert response.status_code == 413
    assert inbound_emails() == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"from=sam%40example.org", "application/x-www-form-urlencoded"),
        (
            b'--xYzZY\r\nContent-Disposition: form-data; name="from"\r\n\r\nsam@example.org',
            "multipart/form-data; boundary=xYzZY",
        ),
        (
            b'--xYzZY\r\nContent-Disposition: form-data; name="subject"\r\n\r\nhi\r\n--xYzZY--\r\n',
            "multipart/form-data; boundary=xYzZY",
        ),
    ],
    ids=["not multipart", "cut off", "no sender"],
)
def test_a_malformed_post_gets_a_clear_400(
    member: Address, mail_program: MailProgram, body: bytes, content_type: str
) -> None:
    response = mail_program.client.post(
        "/webhooks/sendgrid/inbound", data=body, content_type=content_type, headers=basic_auth()
    )
    assert response.status_code == 400
    assert response.get_json()["description"]
    assert inbound_emails() == []


def test_a_reply_that_says_unsubscribe_opts_the_address_out(
    member: Address, mail_program: MailProgram
) -> None:
    assert mail_program.reply("unsubscribe", reply_address(member)).status_code == 200

    [stored] = inbound_emails()
    assert stored.body == "Unsubscribe."
    address = db.session.get(Address, member.id)
    assert address is not None and consent.status(address).name == "OPTED_OUT"
    assert db.session.scalar(select(func.count()).select_from(Thread)) == 0  # nothing to answer


def test_mail_to_the_unsubscribe_mailto_opts_the_address_out(
    member: Address, mail_program: MailProgram
) -> None:
    mailto = mail_tokens.unsubscribe_mailto(member.id)
    to = mailto.removeprefix("mailto:").partition("?")[0]
    assert mail_program.reply("gmail", to).status_code == 200

    [stored] = inbound_emails()
    assert not stored.needs_attention  # nothing for an organizer to read
    address = db.session.get(Address, member.id)
    assert address is not None and consent.status(address).name == "OPTED_OUT"
    source = db.session.scalar(select(ConsentEvent.source).order_by(ConsentEvent.id.desc()))
    assert source == "email_mailto"


def test_a_reply_with_thousands_of_quoted_blocks_keeps_the_members_words(
    member: Address, mail_program: MailProgram
) -> None:
    """Long runs of quotes and blank lines once took the signature patterns minutes."""
    html = "<div>Yes, count me in.</div>" + "<blockquote>earlier</blockquote><br><br>" * 5000
    body = payload("apple_html_only_below", TO=reply_address(member), FROM=SAM, MESSAGE_ID="<long@x>")
    start, end = body.index(b'name="html"\r\n\r\n') + 15, body.rindex(b"\r\n--xYzZY\r\n")
    long_reply = body[:start] + html.encode() + body[end:]
    response = mail_program.post(long_reply)
    assert response.status_code == 200
    [stored] = inbound_emails()
    assert stored.body == "Yes, count me in."


def test_an_out_of_office_reply_is_kept_on_record_but_opens_no_thread(
    member: Address, mail_program: MailProgram, signed_in: SignedIn
) -> None:
    assert mail_program.reply("out_of_office", reply_address(member)).status_code == 200

    [stored] = inbound_emails()
    assert stored.body.startswith("I am out of the office") and not stored.needs_attention
    assert db.session.scalar(select(func.count()).select_from(Thread)) == 0
    organizer = signed_in("organizer")
    assert "No unmatched email waiting." in _unmatched_page(organizer)


def test_no_address_or_words_of_a_reply_reach_the_log(
    member: Address, mail_program: MailProgram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for to in (reply_address(member), f"hello@{INBOUND_EMAIL_DOMAIN}"):
        assert mail_program.reply("gmail", to).status_code == 200
    assert len(inbound_emails()) == 2
    assert SAM not in caplog.text and "neighbor Ana" not in caplog.text


def with_text(body: bytes, text: str) -> bytes:
    """A payload whose text part says `text` instead."""
    start = body.index(b'name="text"\r\n\r\n') + len(b'name="text"\r\n\r\n')
    end = body.index(b"\r\n--xYzZY", start)
    return body[:start] + text.replace("\n", "\r\n").encode() + body[end:]


def test_a_paragraph_longer_than_any_reply_header_is_kept_whole_above_outlooks_history(
    member: Address, mail_program: MailProgram
) -> None:
    paragraph = "I can help with the phone bank on Saturday, and with the flyers after. " * 40
    body = payload("outlook", TO=reply_address(member), FROM=SAM, MESSAGE_ID="<long-line@x>")
    text = body[body.index(b'name="text"\r\n\r\n') :].decode().split("\r\n", 2)[2]
    history = text[text.index("\r\n\r\nBest,") : text.index("\r\n--xYzZY")].replace("\r\n", "\n")
    response = mail_program.post(with_text(body, paragraph + history))
    assert response.status_code == 200
    [stored] = inbound_emails()
    assert len(paragraph) > visible.LINE_MAX and stored.body == paragraph.strip()


def test_a_letter_longer_than_the_history_parser_reads_is_kept_whole(
    member: Address, mail_program: MailProgram
) -> None:
    letter = "\n\n".join(f"Paragraph {n}: what I heard at the door this week." for n in range(600))
    body = payload("outlook", TO=reply_address(member), FROM=SAM, MESSAGE_ID="<letter@x>")
    response = mail_program.post(with_text(body, letter))
    assert response.status_code == 200
    [stored] = inbound_emails()
    assert len(letter) > visible.PARSE_MAX and stored.body == letter


@pytest.mark.parametrize(("piece", "html"), [("On ", False), ("Am ", False), ("le ", False), ("<p>", True)])
def test_a_replys_reading_grows_with_its_length_not_faster(piece: str, html: bool) -> None:
    """ "On On On ..." once took the history parser seconds for a few thousand characters and
    minutes for 40,000, holding a web thread while SendGrid waited."""

    def read(text: str) -> str:
        return visible.visible_text("", text) if html else visible.visible_text(text)

    assert growth(read, piece, length=40_000) < GROWTH_LIMIT


def test_every_long_line_is_put_back_where_it_was_above_outlooks_history(
    member: Address, mail_program: MailProgram
) -> None:
    first, last = "A" * (visible.LINE_MAX + 1), "B" * (visible.LINE_MAX + 1)
    words = "\n".join(["Hi all", first, *(f"line {n}" for n in range(2, 10)), last])
    body = payload("outlook", TO=reply_address(member), FROM=SAM, MESSAGE_ID="<lines@x>")
    history = (
        "\n\n"
        + "_" * 32
        + "\nFrom: Dana <dana@example.org>\nSent: Tuesday\nTo: Sam\nSubject: Forum\n\nCan you come?"
    )
    response = mail_program.post(with_text(body, words + history))
    assert response.status_code == 200
    [stored] = inbound_emails()
    assert stored.body == words


def test_a_signature_below_a_long_paragraph_is_left_out_as_below_a_short_one(
    member: Address, mail_program: MailProgram
) -> None:
    paragraph = "I can help with the phone bank on Saturday, and with the flyers after. " * 15
    body = payload("outlook", TO=reply_address(member), FROM=SAM, MESSAGE_ID="<signed@x>")
    response = mail_program.post(with_text(body, paragraph + "\n\nSent from my iPhone"))
    assert response.status_code == 200
    [stored] = inbound_emails()
    assert len(paragraph) > visible.LINE_MAX and stored.body == paragraph.strip()
