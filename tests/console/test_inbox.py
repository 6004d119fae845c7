"""The inbox: what a volunteer wrote that the flows did not handle reaches an organizer, who
answers it by text (through the outbox, consent checked), assigns it and closes it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from gateway.community import inbox
from gateway.delivery import mail_tokens
from gateway.extensions import db
from gateway.models import Address, AuditEntry, Message, Organization, Person, Thread, utcnow
from tests.console.conftest import SignedIn
from tests.doubles.sendgrid_api import SendGridApiDouble
from tests.doubles.twilio_api import TwilioApiDouble
from tests.email.conftest import basic_auth, payload
from tests.support import Phone, SettableClock, Worker, csrf_token

QUESTION = "I can't make Tuesday, can someone call me?"


@pytest.fixture
def sam(phone: Phone) -> Phone:
    """A volunteer who joined, listed a friend, and got a conversation idea."""
    for text in ("hi", "yes", "Sam", "my grandma Ruth", "skip"):
        phone.send(text)
    return phone


def thread_links(browser: FlaskClient, show: str = "open") -> dict[str, str]:
    """The inbox's threads as a person sees them: name -> link."""
    page = browser.get(f"/console/inbox?show={show}").get_data(as_text=True)
    return {name: href for href, name in re.findall(r'<a href="(/console/inbox/\d+)">([^<]+)</a>', page)}


def form_fields(browser: FlaskClient, thread: str) -> dict[str, str]:
    """The hidden fields of the thread's forms, as the browser has them: the CSRF token, the
    latest message the organizer has seen and the channel the answer form says it goes by."""
    page = browser.get(f"{thread}?confirm=1").get_data(as_text=True)
    seen = re.search(r'name="seen" value="(\d*)"', page)
    assert seen is not None
    channel = re.search(r'name="channel" value="(\w*)"', page)
    fields = {"csrf_token": csrf_token(browser, thread), "seen": seen.group(1)}
    return fields | ({"channel": channel.group(1)} if channel else {})


def answer(browser: FlaskClient, thread: str, body: str, done: bool = True) -> tuple[int, str]:
    data = {"body": body, **form_fields(browser, thread)} | ({"done": "y"} if done else {})
    response = browser.post(f"{thread}/answer", data=data, follow_redirects=True)
    return response.status_code, response.get_data(as_text=True)


def test_an_organizer_answers_a_text_the_flows_kept_and_it_arrives(sam: Phone, signed_in: SignedIn) -> None:
    assert sam.reply_to(QUESTION).startswith("Thanks! I've passed that on to an organizer.")
    organizer = signed_in("organizer")

    links = thread_links(organizer)
    assert list(links) == ["Sam"]
    assert QUESTION.replace("'", "&#39;") in organizer.get("/console/inbox").get_data(as_text=True)
    thread = links["Sam"]
    page = organizer.get(thread).get_data(as_text=True)
    assert "my grandma Ruth" in page and "for an organizer" in page  # the conversation around it

    status, page = answer(organizer, thread, "Hi Sam, Dana here. I'll call you tonight at 7.")
    assert status == 200 and "Answer queued" in page
    sam.worker.run()
    assert sam.replies()[-1] == "Hi Sam, Dana here. I'll call you tonight at 7."
    assert "An organizer answered" in organizer.get(thread).get_data(as_text=True)
    # Answered and marked done: it leaves the open list for the done one.
    assert thread_links(organizer) == {}
    assert thread_links(organizer, "done") == {"Sam": thread}
    with organizer.application.app_context():
        sent = db.session.scalar(select(Message).where(Message.reason == "organizer_reply"))
        assert sent is not None and sent.in_reply_to_id is not None and sent.organizer_id is not None
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions[-2:] == ["reply_sent", "thread_done"]
        reply = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reply_sent"))
        assert reply is not None and "Dana" not in str(reply.detail)  # the audit keeps no message text


def test_a_new_text_opens_a_done_thread_again(sam: Phone, signed_in: SignedIn) -> None:
    sam.send(QUESTION)
    organizer = signed_in("organizer")
    thread = thread_links(organizer)["Sam"]
    answer(organizer, thread, "Sure, calling you tonight.")
    assert thread_links(organizer) == {}

    sam.send("thanks!! also what time is the forum")
    assert thread_links(organizer) == {"Sam": thread}


def test_an_opted_out_volunteer_gets_no_answer_and_the_draft_is_kept(sam: Phone, signed_in: SignedIn) -> None:
    sam.send(QUESTION)
    organizer = signed_in("organizer")
    thread = thread_links(organizer)["Sam"]
    sam.send("STOP")
    before = len(sam.replies())

    status, page = answer(organizer, thread, "Hi Sam, still there?")
    sam.worker.run()

    assert status == 409
    assert "opted out" in page and "Hi Sam, still there?" in page  # what they typed is not lost
    assert len(sam.replies()) == before


def test_a_stop_that_lands_after_the_answer_is_queued_still_wins(sam: Phone, signed_in: SignedIn) -> None:
    sam.send(QUESTION)
    organizer = signed_in("organizer")
    thread = thread_links(organizer)["Sam"]

    sam.post("Hi Sam, still there?")  # a text in flight
    status, _ = answer(organizer, thread, "Calling you at 7!")
    assert status == 200
    assert sam.post("STOP").status_code == 200  # arrives before the worker sends the answer
    sam.worker.run()

    assert "Calling you at 7!" not in sam.replies()
    assert "opted out" in sam.replies()[-1].lower() or "unsubscribed" in sam.replies()[-1].lower()
    with organizer.application.app_context():
        answer_row = db.session.scalar(select(Message).where(Message.reason == "organizer_reply"))
        assert answer_row is not None and answer_row.status == "suppressed"


def test_a_resubmitted_answer_is_sent_once(sam: Phone, signed_in: SignedIn) -> None:
    sam.send(QUESTION)
    organizer = signed_in("organizer")
    thread = thread_links(organizer)["Sam"]

    first, _ = answer(organizer, thread, "On my way", done=False)
    second, page = answer(organizer, thread, "On my way", done=False)
    sam.worker.run()

    assert (first, second) == (200, 409)
    assert "not sent twice" in page
    assert sam.replies().count("On my way") == 1


def test_empty_and_overlong_answers_are_refused_with_a_reason(sam: Phone, signed_in: SignedIn) -> None:
    sam.send(QUESTION)
    organizer = signed_in("organizer")
    thread = thread_links(organizer)["Sam"]

    for body in ("   ", "x" * 1601):
        status, page = answer(organizer, thread, body)
        assert status == 400 and "at most 1600 characters" in page
    sam.worker.run()
    assert not any(reply.startswith("x") for reply in sam.replies())


def test_assigning_puts_a_thread_in_mine(sam: Phone, console: Flask, signed_in: SignedIn) -> None:
    sam.send(QUESTION)
    organizer = signed_in("organizer")
    thread = thread_links(organizer)["Sam"]
    page = organizer.get(thread).get_data(as_text=True)
    me = re.search(r'<option value="(\d+)">organizer-[a-j]+@', page)
    assert me is not None
    assert thread_links(organizer, "mine") == {}

    response = organizer.post(
        f"{thread}/assign", data={"to": me.group(1), "csrf_token": csrf_token(organizer, thread)}
    )
    assert response.status_code == 303
    assert thread_links(organizer, "mine") == {"Sam": thread}
    assert "Assigned to" in organizer.get(thread).get_data(as_text=True)

    signed_in("viewer")  # an account that may read threads but not take them
    with console.app_context():
        viewer_id = db.session.scalar(
            select(AuditEntry.organizer_id).where(AuditEntry.actor.like("viewer-%"))
        )
    refused = organizer.post(
        f"{thread}/assign", data={"to": str(viewer_id), "csrf_token": csrf_token(organizer, thread)}
    )
    assert refused.status_code == 400 and "active organizers and admins only" in refused.get_data(
        as_text=True
    )
    nonsense = organizer.post(
        f"{thread}/assign", data={"to": "9999", "csrf_token": csrf_token(organizer, thread)}
    )
    assert nonsense.status_code == 400


def test_a_viewer_reads_threads_but_cannot_answer(sam: Phone, signed_in: SignedIn) -> None:
    sam.send(QUESTION)
    viewer = signed_in("viewer")
    thread = thread_links(viewer)["Sam"]
    page = viewer.get(thread).get_data(as_text=True)
    assert "my grandma Ruth" in page and "Send answer" not in page

    refused = viewer.post(f"{thread}/answer", data={"body": "hi", "csrf_token": csrf_token(viewer, thread)})
    sam.worker.run()
    assert refused.status_code == 403
    assert "hi" not in sam.replies()


def test_abuse_is_hidden_behind_a_warning_until_opened(sam: Phone, signed_in: SignedIn) -> None:
    sam.send("you are all a bunch of b1tches")
    organizer = signed_in("organizer")

    listing = organizer.get("/console/inbox").get_data(as_text=True)
    assert "b1tches" not in listing and "May contain slurs or abuse" in listing
    thread = thread_links(organizer)["Sam"]
    warning = organizer.get(thread).get_data(as_text=True)
    assert "b1tches" not in warning and "Show the messages" in warning
    opened = organizer.get(f"{thread}?confirm=1").get_data(as_text=True)
    assert "b1tches" in opened and "possible abuse" in opened


def test_threads_that_do_not_exist_or_belong_to_another_organization_are_404(
    sam: Phone, console: Flask, signed_in: SignedIn
) -> None:
    with console.app_context():
        other = Organization(slug="westside", name="Westside")
        db.session.add(other)
        db.session.flush()
        person = Person(organization_id=other.id, name="Someone else's")
        db.session.add(person)
        db.session.flush()
        theirs = Thread(organization_id=other.id, person_id=person.id)
        db.session.add(theirs)
        db.session.commit()
        their_thread = f"/console/inbox/{theirs.id}"
    organizer = signed_in("organizer")
    token = csrf_token(organizer, "/console/inbox")
    for thread in ("/console/inbox/999999", their_thread, "/console/inbox/99999999999999999999"):
        assert organizer.get(thread).status_code == 404, thread
        for action in ("answer", "assign", "status"):
            response = organizer.post(f"{thread}/{action}", data={"body": "x", "csrf_token": token})
            assert response.status_code == 404, (thread, action)
    assert "Someone else" not in organizer.get("/console/inbox?show=all").get_data(as_text=True)


def test_odd_page_numbers_and_ids_are_never_an_error(sam: Phone, signed_in: SignedIn) -> None:
    sam.send(QUESTION)
    organizer = signed_in("organizer")
    for query in ("show=nonsense&page=abc", "page=\u00b2", "page=99999999999999999999", "page=-1", "page=0"):
        assert organizer.get(f"/console/inbox?{query}").status_code == 200, query
    thread = thread_links(organizer)["Sam"]
    for chosen in ("\u00b2", "99999999999999999999999", "-3", "abc"):
        response = organizer.post(f"{thread}/assign", data={"to": chosen, **form_fields(organizer, thread)})
        assert response.status_code == 400, chosen


def test_a_text_that_arrives_while_reading_keeps_the_thread_open(sam: Phone, signed_in: SignedIn) -> None:
    sam.send(QUESTION)
    organizer = signed_in("organizer")
    thread = thread_links(organizer)["Sam"]
    on_screen = form_fields(organizer, thread)  # the organizer reads, then types an answer
    sam.send("actually tomorrow works better, I'm at work till 6")

    response = organizer.post(
        f"{thread}/answer",
        data={"body": "Sure, tomorrow then.", "done": "y", **on_screen},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    sam.worker.run()

    assert response.status_code == 200 and "Answer queued" in page
    assert "A new message arrived while you were reading" in page
    assert sam.replies()[-1] == "Sure, tomorrow then."
    assert thread_links(organizer) == {"Sam": thread}  # still open, the new text unread
    closing = organizer.post(f"{thread}/status", data={"status": "done", **on_screen})
    assert closing.status_code == 409 and thread_links(organizer) == {"Sam": thread}


def test_an_answer_a_day_late_is_not_a_reply(
    phone: Phone, sam: Phone, console: Flask, signed_in: SignedIn, clock: SettableClock
) -> None:
    """A day after someone wrote, an answer is a message the organization starts: it needs
    their opt-in and waits for their calling hours."""
    sam.send(QUESTION)
    with console.app_context():  # Sam wrote two days ago
        db.session.execute(
            update(Message)
            .where(Message.direction == "inbound")
            .values(created_at=utcnow() - timedelta(days=2))
        )
        db.session.commit()
    clock.set(datetime(2026, 11, 23, 3, 0, tzinfo=ZoneInfo("America/New_York")))  # 3 a.m. for Sam
    organizer = signed_in("organizer")
    thread = thread_links(organizer)["Sam"]
    assert "goes out in their calling hours" in organizer.get(thread).get_data(as_text=True)

    status, page = answer(organizer, thread, "Sorry for the slow answer, Sam!")
    sam.worker.run()

    assert status == 200 and "goes out in their calling hours" in page
    assert "Sorry for the slow answer, Sam!" not in sam.replies()  # not at 3 a.m.
    with console.app_context():
        waiting = db.session.scalar(select(Message).where(Message.reason == "organizer_reply"))
        assert waiting is not None and waiting.status == "queued"
        assert waiting.next_attempt_at is not None
        assert waiting.next_attempt_at.astimezone(ZoneInfo("America/New_York")).hour == 9


def test_an_answer_a_day_late_to_someone_who_never_opted_in_is_refused(
    console: Flask, client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker, signed_in: SignedIn
) -> None:
    stranger = Phone(client, twilio_api, worker, "+12125550199")
    stranger.send("who is this")  # never replied YES
    with console.app_context():
        text = db.session.scalar(select(Message).where(Message.direction == "inbound"))
        assert text is not None
        inbox.keep(text, text.address.person)  # kept for an organizer, as a text the flows could not read
        db.session.commit()
    organizer = signed_in("organizer")
    thread = thread_links(organizer)["Someone without a name yet"]

    fresh, _ = answer(
        organizer, thread, "Hi! This is Eastside Neighbors.", done=False
    )  # minutes later: a reply
    with console.app_context():
        db.session.execute(update(Message).values(created_at=utcnow() - timedelta(days=2)))
        db.session.commit()
    late, page = answer(organizer, thread, "Still there?")
    stranger.worker.run()

    assert fresh == 200
    assert late == 409 and "never opted in" in page and "Still there?" in page
    assert (
        "Hi! This is Eastside Neighbors." in stranger.replies() and "Still there?" not in stranger.replies()
    )


def test_a_viewer_sees_the_number_masked_in_a_thread(sam: Phone, signed_in: SignedIn) -> None:
    sam.send(QUESTION)
    viewer = signed_in("viewer")
    page = viewer.get(thread_links(viewer)["Sam"]).get_data(as_text=True)
    assert sam.number not in page and "+1******5309" in page


def test_erasing_their_data_removes_their_thread(sam: Phone, signed_in: SignedIn) -> None:
    sam.send(QUESTION)
    organizer = signed_in("organizer")
    assert list(thread_links(organizer)) == ["Sam"]
    sam.send("DELETE")
    sam.send("YES")
    with organizer.application.app_context():
        assert db.session.scalars(select(Thread)).all() == []
    assert thread_links(organizer, "all") == {}


def test_an_answer_is_not_sent_by_another_channel_than_the_form_showed(
    sam: Phone, signed_in: SignedIn, sendgrid_api: SendGridApiDouble
) -> None:
    """One thread per person: while an organizer writes a text answer, the volunteer emails."""
    sam.send(QUESTION)
    organizer = signed_in("organizer")
    thread = thread_links(organizer)["Sam"]
    fields = form_fields(organizer, thread)
    assert fields["channel"] == "sms"
    with organizer.application.app_context():
        texted = db.session.scalar(select(Address).where(Address.value == sam.number))
        assert texted is not None and texted.person_id is not None
        db.session.add(
            Address(
                organization_id=texted.organization_id,
                person_id=texted.person_id,
                channel="email",
                value="sam@example.org",
            )
        )
        db.session.commit()
        to = mail_tokens.reply_address(texted.person_id)
    mail = payload("gmail", TO=to, FROM="sam@example.org", MESSAGE_ID="<switch@mail.example.org>")
    posted = organizer.application.test_client().post(
        "/webhooks/sendgrid/inbound", data=mail, content_type="multipart/form-data; boundary=xYzZY",
        headers=basic_auth(),
    )  # fmt: skip
    assert posted.status_code == 200
    before = len(sam.replies())

    response = organizer.post(
        f"{thread}/answer", data={"body": "Calling you tonight.", "done": "y", **fields}
    )
    sam.worker.run()

    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 409
    assert "A new message came by email" in page and "Calling you tonight." in page  # the draft is kept
    assert len(sam.replies()) == before and sendgrid_api.sent == []
    assert form_fields(organizer, thread)["channel"] == "email"  # the form now says how it goes
