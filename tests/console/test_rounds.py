"""Prompt rounds: an organizer previews a round (who gets a text, who is excluded and why, when
the deferred ones go, three samples), confirms it by typing the count, and the real worker sends
each volunteer one idea about one of their own friends through the Twilio double. Pause holds,
resume sends, cancel withdraws; a STOP after the round was queued wins; the CLI mirrors it.

The console's preview and send go through the real worker: choosing an audience stores a preview
the worker plans (its page says it is counting until then), and a confirmed round starts
`starting` until the worker has checked the count again and queued the texts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gateway import jobs
from gateway.community import organization
from gateway.extensions import ROUNDS_QUEUE, db, queue, redis_client
from gateway.models import Address, AuditEntry, FlowSession, Message, Person, PromptRound, PromptUse
from tests.console.conftest import SignedIn
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import Phone, SettableClock, Worker, csrf_token

EASTERN = ZoneInfo("America/New_York")
MORNING = datetime(2026, 12, 1, 10, 0, tzinfo=EASTERN)  # inside the calling window


@pytest.fixture
def volunteers(
    client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker, clock: SettableClock
) -> dict[str, Phone]:
    """Volunteers who joined by text: Ana and Eve each listed a friend; Ben listed one and then
    texted STOP; Cy never listed anyone; Dee listed only Bob, who then joined with her code."""
    clock.set(MORNING)
    phones = {
        name: Phone(client, twilio_api, worker, number)
        for name, number in (
            ("Ana", "+15550000001"),
            ("Eve", "+15550000002"),
            ("Ben", "+15550000003"),
            ("Cy", "+15550000004"),
            ("Dee", "+15550000005"),
        )
    }
    for name, friend in (("Ana", "my grandma Ruth"), ("Eve", "my neighbor Carl"), ("Ben", "my coworker Dan")):
        for text in ("hi", "yes", name, friend, "skip"):
            phones[name].send(text)
    phones["Ben"].send("STOP")
    for text in ("hi", "yes", "Cy"):
        phones["Cy"].send(text)
    for text in ("hi", "yes", "Dee", "ADD Bob 555-201-7788, neighbor"):
        phones["Dee"].send(text)
    invitation = phones["Dee"].send("INVITE")[-1]
    code = re.search(r"Text JOIN ([A-Z0-9]{4}) to", invitation)
    assert code is not None
    bob = Phone(client, twilio_api, worker, "+15552017788")
    for text in (f"JOIN {code[1]}", "yes"):
        bob.send(text)
    return phones


def ask(browser: FlaskClient, **choice: str) -> tuple[int, str, str]:
    """Choose an audience on the rounds page; (status, where it leads, page)."""
    data = {"csrf_token": csrf_token(browser, "/console/rounds"), **(choice or {"kind": "all"})}
    response = browser.post("/console/rounds/preview", data=data)
    return response.status_code, response.headers.get("Location", ""), response.get_data(as_text=True)


def preview_page(browser: FlaskClient, worker: Worker, **choice: str) -> tuple[int, str]:
    """Choose an audience, let the worker count, and read the preview's page."""
    status, location, page = ask(browser, **choice)
    if status != 303:
        return status, page
    worker.run(ROUNDS_QUEUE)
    response = browser.get(location)
    return response.status_code, response.get_data(as_text=True)


def will_get(page: str) -> int:
    match = re.search(r'id="will-get">(\d+)<', page)
    assert match, page
    return int(match[1])


def exclusions(page: str) -> dict[str, int]:
    return {
        key: int(count)
        for key, count in re.findall(r'data-reason="(\w+)"><td>[^<]+</td><td>(\d+)</td>', page)
    }


def confirm(browser: FlaskClient, page: str, count: int | str) -> tuple[int, str, str]:
    """Type `count` into the preview's confirm form and send it; (status, location, page)."""
    preview = re.search(r'name="preview" type="hidden" value="([^"]+)"', page)
    assert preview, page
    data = {"csrf_token": csrf_token(browser, "/console/rounds"), "preview": preview[1], "count": str(count)}
    response = browser.post("/console/rounds", data=data)
    return response.status_code, response.headers.get("Location", ""), response.get_data(as_text=True)


def send_round(browser: FlaskClient, worker: Worker) -> str:
    """Preview a round for everyone and confirm it; the worker checks it and queues its texts
    (and sends none yet)."""
    _, page = preview_page(browser, worker)
    status, location, _ = confirm(browser, page, will_get(page))
    assert status == 303, location
    worker.run(ROUNDS_QUEUE)
    return location


def change(browser: FlaskClient, round_page: str, action: str) -> int:
    data = {"csrf_token": csrf_token(browser, round_page), "action": action}
    return browser.post(f"{round_page}/status", data=data).status_code


def progress(browser: FlaskClient, round_page: str) -> dict[str, int]:
    page = browser.get(f"{round_page}/progress").get_data(as_text=True)
    return {key: int(value) for key, value in re.findall(r'id="(\w+)">(\d+)</dd>', page)}


def ideas(phone: Phone) -> int:
    """How many ideas the phone has received (onboarding ends with one)."""
    return sum(reply.startswith("Idea for") for reply in phone.replies())


def round_texts() -> list[Message]:
    return list(
        db.session.scalars(select(Message).where(Message.reason == "prompt_round").order_by(Message.id))
    )


def test_the_preview_counts_who_gets_a_text_and_who_is_excluded_and_why(
    volunteers: dict[str, Phone], signed_in: SignedIn, worker: Worker, app: Flask
) -> None:
    # Someone imported as a volunteer, with a number but no opt-in on record.
    org = organization.default()
    imported = Person(organization_id=org.id, name="Flo", volunteer_since=MORNING)
    db.session.add(imported)
    db.session.flush()
    db.session.add(
        Address(organization_id=org.id, person_id=imported.id, channel="sms", value="+15550000009")
    )
    db.session.commit()

    status, page = preview_page(signed_in("organizer"), worker)
    assert status == 200
    assert will_get(page) == 2  # Ana and Eve
    assert exclusions(page) == {"opted_out": 1, "no_opt_in": 1, "no_friend": 3}  # Ben; Flo; Cy, Dee, Bob
    assert "Opted out" in page and "No friend left to suggest" in page
    samples = re.findall(r'<div class="bubble">([^<]+)</div>', page)
    assert len(samples) == 2
    assert samples[0].startswith("Idea for Ruth:") and samples[1].startswith("Idea for Carl:")
    assert "To Ana, about Ruth" in page
    assert "+1555" not in page  # never a phone number
    assert "wait for the volunteer" not in page  # nobody deferred in the morning
    with app.app_context():
        assert round_texts() == []  # a preview writes nothing


def test_quiet_hours_defer_and_the_preview_says_when(
    volunteers: dict[str, Phone], signed_in: SignedIn, worker: Worker, clock: SettableClock
) -> None:
    clock.set(datetime(2026, 12, 1, 22, 30, tzinfo=EASTERN))
    _, page = preview_page(signed_in("organizer"), worker)
    assert will_get(page) == 2
    assert re.search(r"2 of these texts wait for the volunteer.s calling hours", page)
    assert "Wed Dec 2, 09:00 (America/New_York)" in page


def test_a_text_held_for_the_morning_is_expected_back_only_from_the_morning(
    volunteers: dict[str, Phone], signed_in: SignedIn, clock: SettableClock, app: Flask, worker: Worker
) -> None:
    """Until the idea is sent, a report that names nobody is not read as about its friend."""
    clock.set(datetime(2026, 12, 1, 22, 30, tzinfo=EASTERN))

    def states() -> list[dict]:
        with app.app_context():
            return [s.state for s in db.session.scalars(select(FlowSession).order_by(FlowSession.person_id))]

    volunteers["Ana"].send("FRIENDS")  # her conversation is idle, expecting nothing
    before = states()
    assert {"step": "idle", "data": {}} in before
    send_round(signed_in("organizer"), worker)
    with app.app_context():
        assert [m.status for m in round_texts()] == ["queued", "queued"]
    # Ana's conversation expects a report about Ruth from 9:00, when her idea goes.
    ana = next(s["data"] for s in states() if s["data"].get("prompted_friend") == "Ruth" and s not in before)
    assert datetime.fromisoformat(ana["prompted_from"]) == datetime(2026, 12, 2, 9, 0, tzinfo=EASTERN)


def test_a_round_sends_one_idea_per_volunteer_about_their_own_friend(
    volunteers: dict[str, Phone], signed_in: SignedIn, worker: Worker, app: Flask
) -> None:
    organizer = signed_in("organizer")
    _, page = preview_page(organizer, worker)
    ana, eve = volunteers["Ana"], volunteers["Eve"]
    before = {name: len(phone.replies()) for name, phone in volunteers.items()}

    # A wrong count sends nothing at all.
    status, _, wrong = confirm(organizer, page, 3)
    assert status == 409 and "the preview counted 2, not 3" in wrong
    with app.app_context():
        assert round_texts() == [] and db.session.scalar(select(func.count()).select_from(PromptRound)) == 0

    status, location, _ = confirm(organizer, page, 2)
    assert status == 303
    assert '<span id="round-status">starting</span>' in organizer.get(location).get_data(as_text=True)
    worker.run()  # checks the count, queues the texts and sends them
    assert ana.replies()[before["Ana"] :] == [ana.replies()[-1]]
    assert ana.replies()[-1].startswith("Idea for Ruth:")
    assert eve.replies()[before["Eve"] :] == [eve.replies()[-1]]
    assert eve.replies()[-1].startswith("Idea for Carl:")
    for name in ("Ben", "Cy", "Dee"):
        assert len(volunteers[name].replies()) == before[name]
    assert progress(organizer, location) == {
        "sent": 2,
        "queued": 0,
        "deferred": 0,
        "suppressed": 0,
        "failed": 0,
    }
    assert '<span id="round-status">done</span>' in organizer.get(location).get_data(as_text=True)

    with app.app_context():
        texts = round_texts()
        assert [m.status for m in texts] == ["sent", "sent"]
        assert len({m.round_id for m in texts}) == 1
        assert (
            db.session.scalar(
                select(func.count()).select_from(PromptUse).where(PromptUse.message_id == texts[0].id)
            )
            <= 1
        )
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "round_started"))
        assert entry is not None and entry.detail["count"] == 2 and entry.detail["audience"] == "all"
        assert "Ruth" not in str(entry.detail) and "+1555" not in str(entry.detail)

    # Her reply to the idea is a report about Ruth, as a reply to PROMPT's idea is.
    assert ana.reply_to("talked sunday, she's open to coming").startswith("Thank you! Logged: Ruth")

    # Ana and Eve had today's initiated text: a second round now finds them over the daily cap.
    _, again = preview_page(organizer, worker)
    assert will_get(again) == 0 and exclusions(again)["over_cap"] == 2


def test_a_stop_after_the_round_was_queued_is_never_texted(
    volunteers: dict[str, Phone], signed_in: SignedIn, worker: Worker, app: Flask
) -> None:
    ana = volunteers["Ana"]
    had, had_eve = ideas(ana), ideas(volunteers["Eve"])
    location = send_round(signed_in("organizer"), worker)
    assert ana.post("STOP").status_code == 200  # before the worker gets to the round
    worker.run()
    assert ideas(ana) == had
    assert ideas(volunteers["Eve"]) == had_eve + 1
    with app.app_context():
        assert [(m.status, m.error_code) for m in round_texts()] == [
            ("suppressed", "opted_out"),
            ("sent", None),
        ]
    assert progress(signed_in("viewer"), location)["suppressed"] == 1


def test_pause_holds_the_texts_and_resume_sends_them(
    volunteers: dict[str, Phone], signed_in: SignedIn, worker: Worker, app: Flask
) -> None:
    organizer = signed_in("organizer")
    had = ideas(volunteers["Ana"])
    location = send_round(organizer, worker)
    assert change(organizer, location, "pause") == 303
    worker.run()
    assert ideas(volunteers["Ana"]) == had
    assert progress(organizer, location)["queued"] == 2
    with app.app_context():
        assert [m.status for m in round_texts()] == ["queued", "queued"]
    # A second round now would only stack another idea behind the waiting ones: nobody gets it.
    _, again = preview_page(organizer, worker)
    assert will_get(again) == 0
    assert exclusions(again) == {"opted_out": 1, "waiting": 2, "no_friend": 3}

    assert change(organizer, location, "resume") == 303
    worker.run()
    assert ideas(volunteers["Ana"]) == had + 1
    assert progress(organizer, location)["sent"] == 2
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("round_%"))).all()
        assert actions == ["round_started", "round_paused", "round_resumed"]


def test_cancel_withdraws_every_text_not_yet_sent(
    volunteers: dict[str, Phone], signed_in: SignedIn, worker: Worker, app: Flask
) -> None:
    organizer = signed_in("organizer")
    had = ideas(volunteers["Ana"])
    location = send_round(organizer, worker)
    assert change(organizer, location, "cancel") == 303
    worker.run()
    assert ideas(volunteers["Ana"]) == had
    assert progress(organizer, location)["suppressed"] == 2
    page = organizer.get(location).get_data(as_text=True)
    assert "an organizer cancelled the prompt round" in page and "Resume" not in page
    assert change(organizer, location, "resume") == 409  # a cancelled round stays cancelled
    with app.app_context():
        assert [(m.status, m.error_code) for m in round_texts()] == [("suppressed", "round_cancelled")] * 2


def test_the_confirm_form_sent_twice_starts_one_round(
    volunteers: dict[str, Phone], signed_in: SignedIn, worker: Worker, app: Flask
) -> None:
    organizer = signed_in("organizer")
    _, page = preview_page(organizer, worker)
    first = confirm(organizer, page, 2)
    second = confirm(organizer, page, 2)
    assert first[0] == second[0] == 303 and first[1] == second[1]
    worker.run(ROUNDS_QUEUE)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PromptRound)) == 1
        assert len(round_texts()) == 2


def test_the_preview_page_says_it_is_counting_until_the_worker_has_planned_it(
    volunteers: dict[str, Phone], signed_in: SignedIn, worker: Worker, clock: SettableClock
) -> None:
    organizer = signed_in("organizer")
    status, location, _ = ask(organizer)
    assert status == 303 and "/console/rounds/preview/" in location
    waiting = organizer.get(location)
    page = waiting.get_data(as_text=True)
    assert waiting.status_code == 200 and "Counting who would get a text" in page
    assert 'id="will-get"' not in page and "Send" not in page
    assert '<meta http-equiv="refresh"' in page and 'hx-trigger="every' in page  # it asks again by itself
    polled = organizer.get(location, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Counting who would get a text" in polled and "<html" not in polled

    clock.advance(timedelta(minutes=2))  # a worker would have started by now
    late = organizer.get(location).get_data(as_text=True)
    assert "The worker may be down: is <code>kindred worker</code> running?" in late

    worker.run(ROUNDS_QUEUE)
    assert organizer.get(location, headers={"HX-Request": "true"}).headers.get("HX-Refresh") == "true"
    done = organizer.get(location).get_data(as_text=True)
    assert will_get(done) == 2 and "Counting" not in done and "http-equiv" not in done


def test_an_unknown_or_expired_preview_is_not_found(
    volunteers: dict[str, Phone], signed_in: SignedIn, worker: Worker, app: Flask
) -> None:
    organizer = signed_in("organizer")
    unknown = organizer.get("/console/rounds/preview/no-such-preview")
    assert unknown.status_code == 404 and "Not found" in unknown.get_data(as_text=True)

    _, page = preview_page(organizer, worker)
    preview_id = re.search(r'name="preview" type="hidden" value="([^"]+)"', page)
    assert preview_id
    key = f"kindred:round-preview:{preview_id[1]}"
    with app.app_context():
        assert 0 < redis_client().ttl(key) <= 3600  # kept for an hour
        redis_client().expire(key, 0)  # and then the hour is up
    gone = organizer.get(f"/console/rounds/preview/{preview_id[1]}")
    assert gone.status_code == 404 and "Not found" in gone.get_data(as_text=True)
    status, _, refused = confirm(organizer, page, 2)  # its confirm form, still open, sends nothing
    assert status == 400 and "That preview is not valid any more; nothing was sent" in refused
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PromptRound)) == 0


def test_a_count_that_changed_before_the_worker_checked_sends_nothing_and_says_so(
    volunteers: dict[str, Phone], signed_in: SignedIn, worker: Worker, app: Flask
) -> None:
    organizer = signed_in("organizer")
    had = ideas(volunteers["Ana"])
    _, page = preview_page(organizer, worker)
    status, location, _ = confirm(organizer, page, 2)
    assert status == 303
    assert volunteers["Eve"].post("STOP").status_code == 200  # before the worker checks the round
    worker.run()
    round_page = organizer.get(location).get_data(as_text=True)
    assert '<span id="round-status">changed</span>' in round_page
    assert "Nothing was sent: the count changed from 2 to 1" in round_page
    assert "Cancel the rest" not in round_page
    assert ideas(volunteers["Ana"]) == had
    with app.app_context():
        assert round_texts() == []
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("round_%")).order_by(AuditEntry.id)
        ).all()
        assert [e.action for e in entries] == ["round_started", "round_not_sent"]
        assert entries[1].detail["confirmed"] == 2 and entries[1].detail["count"] == 1
    worker.run(ROUNDS_QUEUE)  # nothing is left to run: the round stays as it ended
    assert '<span id="round-status">changed</span>' in organizer.get(location).get_data(as_text=True)


def test_a_round_cancelled_before_the_worker_checked_it_sends_nothing(
    volunteers: dict[str, Phone], signed_in: SignedIn, worker: Worker, app: Flask
) -> None:
    organizer = signed_in("organizer")
    had = ideas(volunteers["Ana"])
    _, page = preview_page(organizer, worker)
    _, location, _ = confirm(organizer, page, 2)
    waiting = organizer.get(location).get_data(as_text=True)
    assert "Checking that the count is still 2" in waiting and "Pause" not in waiting
    assert change(organizer, location, "cancel") == 303
    worker.run()
    assert ideas(volunteers["Ana"]) == had
    assert '<span id="round-status">cancelled</span>' in organizer.get(location).get_data(as_text=True)
    with app.app_context():
        assert round_texts() == []


def test_a_started_round_whose_job_was_lost_is_queued_again_by_the_sweep(
    volunteers: dict[str, Phone], signed_in: SignedIn, worker: Worker, app: Flask, clock: SettableClock
) -> None:
    organizer = signed_in("organizer")
    had = ideas(volunteers["Ana"])
    _, page = preview_page(organizer, worker)
    _, location, _ = confirm(organizer, page, 2)
    with app.app_context():
        queue(ROUNDS_QUEUE).empty()  # Redis lost the round's job
    worker.run()
    assert '<span id="round-status">starting</span>' in organizer.get(location).get_data(as_text=True)
    clock.advance(timedelta(minutes=2))
    with app.app_context():
        assert jobs.sweep_outbox()["rounds_started"] == 1
    worker.run()
    assert ideas(volunteers["Ana"]) == had + 1
    assert '<span id="round-status">done</span>' in organizer.get(location).get_data(as_text=True)
    with app.app_context():
        assert jobs.sweep_outbox()["rounds_started"] == 0


@pytest.mark.parametrize(
    ("choice", "problem"),
    [
        ({"kind": "team", "team": "NOPE"}, "no team has the join code"),
        ({"kind": "stage", "stage": "famous"}, "unknown stage"),
        ({"kind": "inactive", "weeks": "0"}, "whole number from 1 to 104"),
        ({"kind": "inactive", "weeks": "2.5"}, "whole number from 1 to 104"),
        ({"kind": "everyone"}, "choose an audience"),
    ],
)
def test_an_audience_that_names_nothing_known_is_a_clear_error(
    signed_in: SignedIn, worker: Worker, choice: dict[str, str], problem: str
) -> None:
    status, page = preview_page(signed_in("organizer"), worker, **choice)
    assert status == 400 and problem in page


def test_audiences_narrow_the_round(
    volunteers: dict[str, Phone], signed_in: SignedIn, worker: Worker, clock: SettableClock
) -> None:
    organizer = signed_in("organizer")
    _, listed = preview_page(organizer, worker, kind="stage", stage="listed")
    assert will_get(listed) == 2 and exclusions(listed) == {"opted_out": 1}  # Ben's Dan is listed too
    _, open_ = preview_page(organizer, worker, kind="stage", stage="open")
    assert will_get(open_) == 0 and exclusions(open_) == {}
    clock.set(MORNING + timedelta(weeks=4, hours=1))
    volunteers["Ana"].send("hello")  # Ana is active again
    _, quiet = preview_page(organizer, worker, kind="inactive", weeks="4")
    assert will_get(quiet) == 1  # Eve


def test_a_viewer_sees_rounds_but_cannot_preview_or_send(
    volunteers: dict[str, Phone], signed_in: SignedIn, worker: Worker
) -> None:
    organizer = signed_in("organizer")
    _, previewed, _ = ask(organizer)
    worker.run(ROUNDS_QUEUE)
    location = send_round(organizer, worker)
    viewer = signed_in("viewer")
    page = viewer.get("/console/rounds").get_data(as_text=True)
    assert "Plan a round" not in page and location.removeprefix("http://localhost") in page
    token = csrf_token(viewer, "/console/rounds")
    assert (
        viewer.post("/console/rounds/preview", data={"kind": "all", "csrf_token": token}).status_code == 403
    )
    assert viewer.get(previewed).status_code == 403  # nor read an organizer's preview
    preview_id = previewed.rsplit("/", 1)[-1]
    data = {"count": "2", "preview": preview_id, "csrf_token": token}
    assert viewer.post("/console/rounds", data=data).status_code == 403
    assert change(viewer, location, "cancel") == 403
    assert "Cancel the rest" not in viewer.get(location).get_data(as_text=True)


def test_the_command_line_previews_and_sends_only_the_confirmed_count(
    volunteers: dict[str, Phone], app: Flask, worker: Worker
) -> None:
    runner = app.test_cli_runner()
    preview = runner.invoke(args=["rounds", "preview", "--audience", "all"])
    assert preview.exit_code == 0, preview.output
    assert preview.output.splitlines() == ["2 will get a text", "opted_out 1", "no_friend 3"]

    wrong = runner.invoke(args=["rounds", "send", "--audience", "all", "--confirm", "5"])
    assert wrong.exit_code != 0 and "nothing was sent" in wrong.output
    assert round_texts() == []

    bad = runner.invoke(args=["rounds", "preview", "--audience", "inactive:200"])
    assert bad.exit_code != 0 and "whole number from 1 to 104" in bad.output
    nul = runner.invoke(args=["rounds", "preview", "--audience", "team:\x00"])
    assert nul.exit_code != 0 and "no team has the join code" in nul.output
    huge = runner.invoke(args=["rounds", "pause", "99999999999"])
    assert huge.exit_code == 2 and "99999999999" in huge.output and huge.exception is not None

    sent = runner.invoke(args=["rounds", "send", "--audience", "all", "--confirm", "2"])
    assert sent.exit_code == 0 and "2 queued for all" in sent.output
    listing = runner.invoke(args=["rounds", "list"])
    round_id = listing.output.split("\t")[0]
    assert "\tall\tsending\t" in listing.output
    had = ideas(volunteers["Ana"])
    paused = runner.invoke(args=["rounds", "pause", round_id])
    assert paused.exit_code == 0 and "paused" in paused.output
    worker.run()
    assert ideas(volunteers["Ana"]) == had
    assert runner.invoke(args=["rounds", "resume", round_id]).exit_code == 0
    worker.run()
    assert ideas(volunteers["Ana"]) == had + 1 and volunteers["Ana"].replies()[-1].startswith("Idea for Ruth")
    assert "\tdone\t" in runner.invoke(args=["rounds", "list"]).output
    actors = db.session.scalars(select(AuditEntry.actor).where(AuditEntry.action.like("round_%"))).all()
    assert len(actors) == 3 and all("(command line)" in actor for actor in actors)
