"""The prompt library page: organizers create, edit, retire and restore prompts with targeting,
see a live preview with its SMS cost, and get bad placeholders named; viewers only read."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import AuditEntry, Prompt
from tests.console.conftest import SignedIn
from tests.support import Phone, csrf_token

RENT_WALK = {
    "key": "rent-walk",
    "body": "walk the block with {friend} and ask what rent did to {interest}",
    "language": "en",
    "stages": ["listed", "talked"],
    "relationships": ["neighbor"],
    "interests": "housing, rent",
}


def save(browser: FlaskClient, path: str, fields: dict, action: str = "save") -> tuple[int, str]:
    data = {**fields, "action": action, "csrf_token": csrf_token(browser, "/console/prompts/new")}
    response = browser.post(path, data=data, follow_redirects=True)
    return response.status_code, response.get_data(as_text=True)


def preview(browser: FlaskClient, body: str, **fields: str) -> tuple[int, str]:
    data = {
        "body": body,
        "language": "en",
        **fields,
        "csrf_token": csrf_token(browser, "/console/prompts/new"),
    }
    response = browser.post("/console/prompts/preview", data=data)
    return response.status_code, response.get_data(as_text=True)


def prompt_link(page: str, key: str) -> str:
    match = re.search(rf'<a href="(/console/prompts/\d+)">{re.escape(key)}</a>', page)
    assert match, f"no link to {key}"
    return match.group(1)


def audited(browser: FlaskClient) -> list[tuple[str, dict]]:
    with browser.application.app_context():
        return [(e.action, e.detail) for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_an_organizer_creates_a_targeted_prompt_and_a_volunteer_it_fits_gets_it(
    signed_in: SignedIn, phone: Phone
) -> None:
    organizer = signed_in("organizer")
    status, page = save(organizer, "/console/prompts", RENT_WALK)
    assert status == 200 and "Added rent-walk" in page
    assert "Idea for Maria: walk the block with Maria and ask what rent did to housing." in page
    with organizer.application.app_context():
        prompt = db.session.scalar(select(Prompt).where(Prompt.key == "rent-walk"))
        assert prompt is not None
        assert (prompt.stages, prompt.relationships, prompt.interests) == (
            ["listed", "talked"],
            ["neighbor"],
            ["housing", "rent"],
        )
    assert ("prompt_created", {"key": "rent-walk"}) in audited(organizer)

    for text in ("hi", "yes", "Sam"):
        phone.send(text)
    idea = phone.reply_to("ADD Carlos, neighbor, cares about rent")
    assert "walk the block with Carlos and ask what rent did to" in idea
    library = organizer.get("/console/prompts").get_data(as_text=True)
    assert prompt_link(library, "rent-walk")


def test_editing_changes_the_prompt_and_when_it_changed(signed_in: SignedIn) -> None:
    organizer = signed_in("organizer")
    save(organizer, "/console/prompts", RENT_WALK)
    link = prompt_link(organizer.get("/console/prompts").get_data(as_text=True), "rent-walk")
    status, page = save(
        organizer, link, {**RENT_WALK, "body": "ask {friend} over coffee about rent", "stages": []}
    )
    assert status == 200 and "Saved rent-walk" in page and "last changed" in page
    with organizer.application.app_context():
        prompt = db.session.scalar(select(Prompt).where(Prompt.key == "rent-walk"))
        assert prompt.body == "ask {friend} over coffee about rent" and prompt.stages == []
        assert prompt.updated_at is not None
    assert audited(organizer)[-1] == ("prompt_edited", {"key": "rent-walk"})


def test_a_retired_prompt_stops_reaching_volunteers_until_restored(signed_in: SignedIn, phone: Phone) -> None:
    organizer = signed_in("organizer")
    save(organizer, "/console/prompts", {**RENT_WALK, "stages": [], "interests": "", "relationships": []})
    with organizer.application.app_context():  # only this prompt in English
        for prompt in db.session.scalars(select(Prompt).where(Prompt.key != "rent-walk")):
            prompt.active = False
        db.session.commit()
    link = prompt_link(organizer.get("/console/prompts").get_data(as_text=True), "rent-walk")
    token = csrf_token(organizer, link)

    page = organizer.post(f"{link}/retire", data={"csrf_token": token}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Retired rent-walk" in page and "Restore" in page
    library = organizer.get("/console/prompts").get_data(as_text=True)
    assert library.index("rent-walk") > library.index("<h2>Retired</h2>")
    for text in ("hi", "yes", "Sam"):
        phone.send(text)
    phone.send("ADD Carlos, neighbor")
    # Nothing in the library fits: no idea made up to fill the gap, but what would help.
    assert phone.reply_to("SKIP").startswith("I'm out of new ideas for Carlos")

    page = organizer.post(f"{link}/restore", data={"csrf_token": token}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Restored rent-walk" in page
    phone.send("ADD Ana, neighbor")
    assert phone.reply_to("SKIP").startswith("Idea for Ana: walk the block with Ana")
    assert [a for a, _ in audited(organizer)][-2:] == ["prompt_retired", "prompt_restored"]


def test_a_bad_placeholder_is_named_and_nothing_is_stored(signed_in: SignedIn) -> None:
    organizer = signed_in("organizer")
    status, page = save(organizer, "/console/prompts", {**RENT_WALK, "body": "ask {frend} about {interst}"})
    assert status == 400
    assert (
        "{frend} and {interst} are not placeholders; use {friend}, {interest}, {relationship}, {volunteer} or {event}"
        in page
    )
    assert "ask {frend} about {interst}" in page  # what they typed stays in the box
    status, fragment = preview(organizer, "say hi to {frend}")
    assert status == 200 and "{frend} is not a placeholder; use {friend}" in fragment
    with organizer.application.app_context():
        assert db.session.scalar(select(Prompt).where(Prompt.key == "rent-walk")) is None


def test_the_preview_counts_segments_and_warns_past_two(signed_in: SignedIn) -> None:
    organizer = signed_in("organizer")
    status, fragment = preview(organizer, "ask {friend} about {interest}", interests="schools")
    assert status == 200 and "Idea for Maria: ask Maria about schools." in fragment
    assert "1 segment, GSM-7" in fragment and "more than two segments" not in fragment

    _, fragment = preview(organizer, "ask {friend} about their week 🙂")
    assert "UCS-2" in fragment

    long = "ask {friend} " + "about the long walk home from the bus stop on a cold evening, " * 6
    _, fragment = preview(organizer, long)
    assert "3 segments, GSM-7" in fragment and "This is more than two segments: it costs 3 texts" in fragment


def test_the_preview_button_works_without_javascript_and_saves_nothing(signed_in: SignedIn) -> None:
    organizer = signed_in("organizer")
    status, page = save(organizer, "/console/prompts", {**RENT_WALK, "body": "hi {friend}"}, action="preview")
    assert status == 200 and "Idea for Maria: hi Maria." in page and 'value="rent-walk"' in page
    with organizer.application.app_context():
        assert db.session.scalar(select(Prompt).where(Prompt.key == "rent-walk")) is None


def test_a_viewer_reads_the_library_but_changes_nothing(signed_in: SignedIn) -> None:
    organizer = signed_in("organizer")
    save(organizer, "/console/prompts", RENT_WALK)
    viewer = signed_in("viewer")
    library = viewer.get("/console/prompts").get_data(as_text=True)
    link = prompt_link(library, "rent-walk")
    assert "New prompt" not in library
    page = viewer.get(link).get_data(as_text=True)
    assert "walk the block with {friend}" in page and "Retire" not in page and "Save" not in page
    token = csrf_token(viewer, "/console/prompts")
    for path in ("/console/prompts", link, f"{link}/retire", "/console/prompts/preview"):
        assert viewer.post(path, data={**RENT_WALK, "csrf_token": token}).status_code == 403
    assert viewer.get("/console/prompts/new").status_code == 403
