"""Power shared: a volunteer texts IDEA and a conversation idea that worked for them; it lands,
contacts masked, in the review queue on /console/prompts, and an organizer adopts it into the
library (credited to the volunteer, who is told once, on the reply to their next text) or
dismisses it. Ideas are part of MYDATA and erased on DELETE."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import AuditEntry, Idea, Message, Person, Prompt
from tests.console.conftest import SignedIn
from tests.support import Phone, csrf_token

ADOPTED = "P.S. The organizers added your idea to the ideas volunteers get. Thank you!"


@pytest.fixture
def sam(phone: Phone) -> Phone:
    """A volunteer who joined and listed a friend."""
    for text in ("hi", "yes", "Sam", "my grandma Ruth", "skip"):
        phone.send(text)
    return phone


def review_links(browser: FlaskClient) -> dict[str, str]:
    """The queue on the prompts page: who sent each idea -> its review link."""
    page = browser.get("/console/prompts").get_data(as_text=True)
    queue = page[page.index('id="ideas"') : page.index("<h2>In use</h2>")]
    rows = re.findall(
        r'<a href="/console/volunteers/\d+">([^<]+)</a>.*?<a href="(/console/prompts/ideas/\d+)">',
        queue,
        re.S,
    )
    return {name: link for name, link in rows}


def adopt(browser: FlaskClient, link: str, **fields: str) -> tuple[int, str]:
    data = {"language": "en", "action": "adopt", **fields, "csrf_token": csrf_token(browser, link)}
    response = browser.post(f"{link}/adopt", data=data, follow_redirects=True)
    return response.status_code, response.get_data(as_text=True)


def ideas(browser: FlaskClient) -> list[Idea]:
    with browser.application.app_context():
        return list(db.session.scalars(select(Idea).order_by(Idea.id)))


def test_an_idea_texted_in_is_adopted_credited_and_the_volunteer_told_once(
    sam: Phone, signed_in: SignedIn
) -> None:
    reply = sam.reply_to("IDEA ask about their kids' school first, then call me at 415-555-0123")
    assert reply.startswith("Thank you! Your idea is with the organizers.")
    organizer = signed_in("organizer")
    (stored,) = ideas(organizer)
    assert stored.body == "ask about their kids' school first, then call me at [contact]"
    assert stored.status == "pending" and stored.language == "en"
    with organizer.application.app_context():
        inbound = db.session.get(Message, stored.message_id)
        assert inbound is not None and inbound.direction == "inbound"
        sam_id = db.session.scalar(select(Person.id).where(Person.name == "Sam"))

    links = review_links(organizer)
    assert list(links) == ["Sam"]
    page = organizer.get(links["Sam"]).get_data(as_text=True)
    assert "ask about their kids&#39; school first" in page and "415-555" not in page

    # Aimed at friends Ruth's like (family, not yet talked to), it is the idea that fits her best.
    status, page = adopt(
        organizer, links["Sam"], key="school-first", body="ask {friend} about their kids' school first",
        relationships="family", stages="listed",
    )  # fmt: skip
    assert status == 200 and "Adopted as school-first" in page
    library = organizer.get("/console/prompts").get_data(as_text=True)
    assert re.search(rf'idea from <a href="/console/volunteers/{sam_id}">Sam</a>', library)
    assert review_links(organizer) == {}
    with organizer.application.app_context():
        prompt = db.session.scalar(select(Prompt).where(Prompt.key == "school-first"))
        assert prompt.credited_person_id == sam_id and prompt.relationships == ["family"]
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "idea_adopted"))
        assert entry.detail == {"idea": stored.id, "key": "school-first"}

    assert sam.reply_to("HELP").count("idea") == 0  # not on a HELP answer
    assert ideas(organizer)[0].told_at is None
    friends = sam.reply_to("FRIENDS")
    assert friends.startswith("Your people: Ruth") and friends.endswith(ADOPTED)
    assert ideas(organizer)[0].told_at is not None
    assert ADOPTED not in sam.reply_to("FRIENDS")  # told once
    assert sam.reply_to("PROMPT").startswith("Idea for Ruth: ask Ruth about their kids' school first.")


def test_a_dismissed_idea_leaves_the_queue_and_the_volunteer_hears_nothing(
    sam: Phone, signed_in: SignedIn
) -> None:
    sam.send("IDEA bring a casserole")
    organizer = signed_in("organizer")
    link = review_links(organizer)["Sam"]
    response = organizer.post(
        f"{link}/dismiss", data={"csrf_token": csrf_token(organizer, link)}, follow_redirects=True
    )
    assert "Dismissed" in response.get_data(as_text=True)
    assert review_links(organizer) == {} and ideas(organizer)[0].status == "dismissed"
    assert "idea" not in sam.reply_to("FRIENDS").split("Reply PROMPT")[0]
    # Reviewed once: a second organizer's late adoption is refused, not applied twice.
    status, page = adopt(organizer, link, key="casserole", body="bring {friend} a casserole")
    assert status == 409 and "already dismissed" in page
    with organizer.application.app_context():
        assert db.session.scalar(select(Prompt).where(Prompt.key == "casserole")) is None
        actions = db.session.scalars(select(AuditEntry.action)).all()
        assert "idea_dismissed" in actions


def test_idea_alone_explains_how_and_stores_nothing(sam: Phone, signed_in: SignedIn) -> None:
    assert sam.reply_to("IDEA").startswith("Had a conversation idea that worked? Text IDEA and the idea")
    assert ideas(signed_in("viewer")) == []


def test_an_idea_from_someone_who_opted_out_is_not_taken(sam: Phone, signed_in: SignedIn) -> None:
    sam.send("STOP")
    assert sam.send("IDEA call them on Sunday") == []
    assert ideas(signed_in("viewer")) == []


def test_a_bad_placeholder_in_an_adoption_is_named_and_the_idea_waits(
    sam: Phone, signed_in: SignedIn
) -> None:
    sam.send("IDEA ask about church")
    organizer = signed_in("organizer")
    link = review_links(organizer)["Sam"]
    status, page = adopt(organizer, link, key="church", body="ask {frend} about church")
    assert status == 400 and "{frend} is not a placeholder; use {friend}" in page
    assert ideas(organizer)[0].status == "pending" and list(review_links(organizer)) == ["Sam"]


def test_an_abusive_idea_is_behind_a_warning(sam: Phone, signed_in: SignedIn) -> None:
    sam.send("IDEA tell those b1tches off")
    viewer = signed_in("viewer")
    listing = viewer.get("/console/prompts").get_data(as_text=True)
    assert "b1tches" not in listing and "May contain slurs or abuse" in listing
    link = review_links(viewer)["Sam"]
    warning = viewer.get(link).get_data(as_text=True)
    assert "b1tches" not in warning and "Show the idea" in warning
    opened = viewer.get(f"{link}?confirm=1").get_data(as_text=True)
    assert "b1tches" in opened and "Adopt into the library" not in opened  # a viewer only reads


def test_ideas_are_in_mydata_and_erased_on_delete(sam: Phone, signed_in: SignedIn) -> None:
    sam.send("IDEA ask about their garden")
    sam.send("IDEA walk over together")
    organizer = signed_in("organizer")
    adopt(organizer, review_links(organizer)["Sam"], key="garden", body="ask {friend} about their garden")
    assert "2 ideas you shared" in sam.reply_to("MYDATA")
    sam.send("DELETE")
    sam.send("yes")
    assert ideas(organizer) == []
    with organizer.application.app_context():
        assert db.session.scalar(select(Prompt).where(Prompt.key == "garden")).credited_person_id is None


def test_forgetting_a_friend_removes_their_name_from_the_volunteers_ideas(
    sam: Phone, signed_in: SignedIn
) -> None:
    sam.send("IDEA ask Ruth about her garden first")
    sam.send("FORGET Ruth")
    assert [idea.body for idea in ideas(signed_in("viewer"))] == ["ask [forgotten] about her garden first"]
