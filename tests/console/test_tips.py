"""The Tips tab of the prompt library: viewers read the tips by language with what each costs;
organizers add, edit, retire and restore them, volunteers who text TIPS get what they left;
bad input gets a helpful answer, another organization's tip is not found, and the audit log
names tips by key, never with their text."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.community import organization
from gateway.community import tips as library
from gateway.extensions import db
from gateway.models import AuditEntry, Tip
from tests.console.conftest import SignedIn
from tests.support import Phone, csrf_token

PAGE = "/console/prompts/tips"
UNCLE = {
    "key": "uncle-at-thanksgiving",
    "body": "At the holiday table, ask your uncle about his work before anything else, and really listen.",
    "language": "en",
}


def post(browser: FlaskClient, path: str, fields: dict, action: str = "save") -> tuple[int, str]:
    data = {**fields, "action": action, "csrf_token": csrf_token(browser, PAGE)}
    response = browser.post(path, data=data, follow_redirects=True)
    return response.status_code, response.get_data(as_text=True)


def tip_link(page: str, key: str) -> str:
    match = re.search(rf'<a href="(/console/prompts/tips/\d+)">{re.escape(key)}</a>', page)
    assert match, f"no link to {key}"
    return match.group(1)


def audited(browser: FlaskClient) -> list[tuple[str, dict]]:
    with browser.application.app_context():
        return [(e.action, e.detail) for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_a_viewer_reads_the_tips_by_language_with_their_cost_and_changes_nothing(signed_in: SignedIn) -> None:
    viewer = signed_in("viewer")
    page = viewer.get(PAGE).get_data(as_text=True)
    assert 'aria-current="page">Tips for hard conversations</a>' in page
    assert page.index("<h2>English</h2>") < page.index(">grandmother<") < page.index("<h2>Spanish</h2>")
    assert page.index("<h2>Spanish</h2>") < page.index(">grandmother-es<")
    assert "2 segments" in page and "Add tip" not in page
    ideas = viewer.get("/console/prompts").get_data(as_text=True)
    assert f'href="{PAGE}"' in ideas

    tip = viewer.get(tip_link(page, "grandmother")).get_data(as_text=True)
    assert "Reply TIPS for another." in tip and "readonly" in tip and "Retire" not in tip
    assert viewer.post(PAGE, data={**UNCLE, "csrf_token": csrf_token(viewer, PAGE)}).status_code == 403


def test_an_organizer_adds_a_tip_and_a_volunteer_who_texts_tips_gets_it(
    signed_in: SignedIn, phone: Phone
) -> None:
    organizer = signed_in("organizer")
    status, page = post(organizer, PAGE, UNCLE, action="preview")
    assert status == 200 and f"{UNCLE['body']} Reply TIPS for another." in page and "1 segment" in page
    with organizer.application.app_context():
        assert library.find(organization.default(), UNCLE["key"]) is None  # a preview stores nothing

    status, page = post(organizer, PAGE, UNCLE)
    assert status == 200 and "Added uncle-at-thanksgiving" in page
    assert audited(organizer)[-1] == ("tip_created", {"key": "uncle-at-thanksgiving"})
    with organizer.application.app_context():  # only this tip in English
        for tip in db.session.scalars(select(Tip).where(Tip.key != UNCLE["key"], Tip.language == "en")):
            tip.active = False
        db.session.commit()
    for text in ("hi", "yes", "Sam"):
        phone.send(text)
    assert phone.reply_to("TIPS") == f"{UNCLE['body']} Reply TIPS for another."


def test_an_organizer_edits_retires_and_restores_a_tip_audited_by_key(
    signed_in: SignedIn, phone: Phone
) -> None:
    organizer = signed_in("organizer")
    post(organizer, PAGE, UNCLE)
    link = tip_link(organizer.get(PAGE).get_data(as_text=True), UNCLE["key"])
    edited = "Ask your uncle how work is going; no politics until he brings it up."
    status, page = post(organizer, link, {"body": edited, "language": "en"})
    assert status == 200 and "Saved uncle-at-thanksgiving" in page and "last changed" in page
    with organizer.application.app_context():
        tip = library.find(organization.default(), UNCLE["key"])
        assert tip is not None and tip.body == edited and tip.updated_at is not None
        for other in db.session.scalars(select(Tip).where(Tip.key != UNCLE["key"], Tip.language == "en")):
            other.active = False
        db.session.commit()

    token = csrf_token(organizer, link)
    page = organizer.post(f"{link}/retire", data={"csrf_token": token}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Retired uncle-at-thanksgiving" in page and "Restore" in page
    library_page = organizer.get(PAGE).get_data(as_text=True)
    assert library_page.index(UNCLE["key"]) > library_page.index("<h2>Retired</h2>")
    for text in ("hi", "yes", "Sam"):
        phone.send(text)
    assert phone.reply_to("TIPS").startswith("No conversation tips here yet.")

    page = organizer.post(f"{link}/restore", data={"csrf_token": token}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Restored uncle-at-thanksgiving" in page
    assert phone.reply_to("TIPS") == f"{edited} Reply TIPS for another."

    entries = audited(organizer)
    assert [action for action, _ in entries if action.startswith("tip_")] == [
        "tip_created",
        "tip_edited",
        "tip_retired",
        "tip_restored",
    ]
    assert all(detail == {"key": UNCLE["key"]} for action, detail in entries if action.startswith("tip_"))
    assert not any("uncle how work" in str(detail) or "holiday table" in str(detail) for _, detail in entries)


def test_bad_input_gets_a_helpful_answer_and_stores_nothing(signed_in: SignedIn) -> None:
    organizer = signed_in("organizer")
    for fields, problem in (
        ({**UNCLE, "body": "   "}, "the tip is empty"),
        ({**UNCLE, "body": "Listen first. " * 25}, "takes 3 SMS segments; keep it to 2"),
        ({**UNCLE, "key": "bad key!"}, "use 1-64 letters, digits, - or _"),
        ({**UNCLE, "key": "grandmother"}, "there is already a tip with this key"),
        ({**UNCLE, "language": "fr"}, "language must be one of"),
        ({**UNCLE, "body": "\x00"}, "the tip is empty"),
    ):
        status, page = post(organizer, PAGE, fields)
        assert status == 400 and problem in page, (fields, page[:200])
    expired = organizer.post(PAGE, data={**UNCLE, "csrf_token": "stale"})
    assert expired.status_code == 400 and "CSRF token is invalid" in expired.get_data(as_text=True)
    link = tip_link(organizer.get(PAGE).get_data(as_text=True), "grandmother")
    status, page = post(organizer, link, {"body": "", "language": "en"})
    assert status == 400 and "the tip is empty" in page
    with organizer.application.app_context():
        assert library.find(organization.default(), UNCLE["key"]) is None
        assert library.find(organization.default(), "grandmother").body.startswith("The grandmother")
    assert not [action for action, _ in audited(organizer) if action.startswith("tip_")]


def test_another_organizations_tip_is_not_found(signed_in: SignedIn) -> None:
    organizer = signed_in("organizer")
    with organizer.application.app_context():
        westside = organization.create("westside", "Westside Tenants", "", "America/New_York")
        theirs = library.create(westside, {"key": "westside-only", "body": "Westside says: listen."})
        db.session.commit()
        path = f"{PAGE}/{theirs.id}"
    token = csrf_token(organizer, PAGE)
    assert organizer.get(path).status_code == 404
    for suffix, data in (("", {"body": "Mine now.", "language": "en"}), ("/retire", {}), ("/restore", {})):
        assert organizer.post(f"{path}{suffix}", data={**data, "csrf_token": token}).status_code == 404
    assert "westside-only" not in organizer.get(PAGE).get_data(as_text=True)
    with organizer.application.app_context():
        tip = db.session.get(Tip, theirs.id)
        assert (tip.body, tip.active) == ("Westside says: listen.", True)
