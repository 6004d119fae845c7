"""`kindred prompts`: organizers edit the library from the command line; bad prompts are
refused with a reason before a volunteer could ever see them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from gateway.community import organization
from gateway.extensions import db
from gateway.models import AuditEntry, Idea, Prompt
from tests.support import Phone


def kindred(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def refused(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code != 0
    return result.output


def test_an_added_prompt_is_previewed_and_reaches_volunteers(app: Flask, phone: Phone) -> None:
    output = kindred(
        app,
        "prompts",
        "add",
        "rent-walk",
        "walk the block with {friend} and ask what rent did to {interest}",
        "--interest",
        "housing",
        "--relationship",
        "neighbor",
        "--stage",
        "listed",
    )
    assert "1 added, 0 updated" in output
    assert "Idea for Maria: walk the block with Maria" in output and "(1 segment, GSM-7)" in output
    for text in ("hi", "yes", "Sam"):
        phone.send(text)
    idea = phone.reply_to("ADD Carlos, neighbor, cares about rent")
    assert "Idea for Carlos: walk the block with Carlos and ask what rent did to housing." in idea


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("bad key!", "ask {friend}"), "use 1-64 letters"),
        (
            ("k", "ask {freind} about it"),
            "{freind} is not a placeholder; use {friend}, {interest}, {relationship}, {volunteer} or {event}",
        ),
        (("k", "ask {friend"), "unbalanced braces"),
        (("k", "ask {friend} " + "and listen " * 60), "the body is 672 characters; keep it under 600"),
        (("k", "ask {friend}", "--stage", "warm"), "unknown stages ['warm']"),
        (("k", "ask {friend}", "--relationship", "boss"), "unknown relationships ['boss']"),
        (("k", "ask {friend}", "--language", "fr"), "language must be one of"),
    ],
)
def test_a_bad_prompt_is_refused_with_the_reason(app: Flask, args: tuple[str, ...], reason: str) -> None:
    before = db.session.query(Prompt).count()
    assert reason in refused(app, "prompts", "add", *args)
    assert db.session.query(Prompt).count() == before


def test_export_then_import_round_trips_and_import_is_all_or_nothing(app: Flask, tmp_path: Path) -> None:
    organization.default()
    db.session.commit()
    exported = json.loads(kindred(app, "prompts", "export"))
    assert {p["key"] for p in exported} >= {"listen-first", "healthcare-family"}

    exported[0]["body"] = "ask {friend} what a good week looks like for them."
    file = tmp_path / "prompts.json"
    file.write_text(json.dumps(exported))
    assert f"0 added, {len(exported)} updated" in kindred(app, "prompts", "import", str(file))
    changed = db.session.scalar(select(Prompt).where(Prompt.key == exported[0]["key"]))
    assert changed.body == "ask {friend} what a good week looks like for them."

    file.write_text(
        json.dumps([{"key": "new-one", "body": "hi {friend}"}, {"key": "broken", "body": "{oops}"}])
    )
    assert "{oops} is not a placeholder" in refused(app, "prompts", "import", str(file))
    assert db.session.scalar(select(Prompt).where(Prompt.key == "new-one")) is None
    file.write_text("{not json")
    assert "not JSON" in refused(app, "prompts", "import", str(file))


def test_a_disabled_prompt_is_no_longer_suggested(app: Flask, phone: Phone) -> None:
    kindred(app, "prompts", "disable", "neighbor")
    assert "(disabled)" in kindred(app, "prompts", "list")
    for text in ("hi", "yes", "Sam"):
        phone.send(text)
    idea = phone.reply_to("ADD Carlos, neighbor, cares about nothing much")
    assert "outside, ask what they'd change about the block" not in idea


def test_enable_brings_a_disabled_prompt_back_and_both_are_audited(app: Flask, phone: Phone) -> None:
    kindred(app, "prompts", "disable", "neighbor")
    assert "enabled neighbor" in kindred(app, "prompts", "enable", "neighbor")
    assert "neighbor [en] relationships=neighbor" in kindred(app, "prompts", "list")
    actions = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.detail, e.actor.endswith("(command line)")) for e in actions[-2:]] == [
        ("prompt_retired", {"key": "neighbor"}, True),
        ("prompt_restored", {"key": "neighbor"}, True),
    ]
    assert "no prompt 'nope'" in refused(app, "prompts", "enable", "nope")


def test_ideas_texted_in_are_listed_adopted_and_dismissed_from_the_command_line(
    app: Flask, phone: Phone
) -> None:
    for text in ("hi", "yes", "Sam", "my grandma Ruth", "skip", "IDEA bring soup", "IDEA ask about church"):
        phone.send(text)
    soup, church = db.session.scalars(select(Idea).order_by(Idea.id)).all()
    listed = kindred(app, "prompts", "ideas")
    assert f"{soup.id} [en] from Sam" in listed and "    ask about church" in listed

    assert "{frnd} is not a placeholder" in refused(
        app, "prompts", "adopt", str(soup.id), "--key", "soup", "--body", "bring {frnd} soup"
    )
    output = kindred(
        app,
        "prompts",
        "adopt",
        str(soup.id),
        "--key",
        "soup",
        "--body",
        "bring {friend} soup",
        "--stage",
        "listed",
    )
    assert f"adopted idea {soup.id} as soup" in output and "Idea for Maria: bring Maria soup." in output
    assert "soup [en] (idea from Sam) stages=listed" in kindred(app, "prompts", "list")
    assert f"dismissed idea {church.id}" in kindred(app, "prompts", "dismiss", str(church.id))
    assert "already dismissed" in refused(app, "prompts", "adopt", str(church.id), "--key", "church")
    assert kindred(app, "prompts", "ideas").strip() == "no ideas waiting for review"
    assert "P.S. The organizers added your idea" in phone.reply_to("FRIENDS")
    audit = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.detail) for e in audit[-2:]] == [
        ("idea_adopted", {"idea": soup.id, "key": "soup"}),
        ("idea_dismissed", {"idea": church.id}),
    ]
