"""The prompt library in a real Chromium: an organizer types a new prompt, watches the preview
follow what they type (its SMS segments too), and saves it."""

from __future__ import annotations

from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import Prompt
from tests.browser.conftest import sign_in, wait_for_text


def preview_says(browser: WebDriver, text: str) -> None:
    wait_for_text(browser, text, "#preview")


def test_an_organizer_types_a_prompt_sees_the_preview_follow_and_saves_it(
    live_app: tuple[Flask, str], browser: WebDriver
) -> None:
    app, base = live_app
    sign_in(browser, base, "organizer@eastside.example.org", start="/console/prompts")
    browser.find_element(By.LINK_TEXT, "New prompt").click()
    assert "Type an idea to see it" in browser.find_element(By.ID, "preview").text

    browser.find_element(By.ID, "key").send_keys("porch-talk")
    body = browser.find_element(By.ID, "body")
    body.send_keys("sit on the porch with {friend} and ask about {interest}")
    browser.find_element(By.ID, "interests").send_keys("housing")
    preview_says(browser, "Idea for Maria: sit on the porch with Maria and ask about housing.")
    assert "1 segment, GSM-7" in browser.find_element(By.ID, "preview").text

    body.send_keys(" {frend}")
    preview_says(browser, "{frend} is not a placeholder; use {friend}")
    for _ in " {frend}":
        body.send_keys("\b")
    body.send_keys(", " + "and what the street was like when they were young " * 8)
    preview_says(browser, "This is more than two segments")
    for _ in "and what the street was like when they were young " * 8:
        body.send_keys("\b")
    preview_says(browser, "1 segment, GSM-7")

    browser.find_element(By.XPATH, "//label[normalize-space()='neighbor']/input").click()
    browser.find_element(By.XPATH, "//button[.='Add prompt']").click()
    wait_for_text(browser, "Added porch-talk")
    with app.app_context():
        prompt = db.session.scalar(select(Prompt).where(Prompt.key == "porch-talk"))
        assert prompt is not None
        assert prompt.body == "sit on the porch with {friend} and ask about {interest},"
        assert (prompt.interests, prompt.relationships) == (["housing"], ["neighbor"])
