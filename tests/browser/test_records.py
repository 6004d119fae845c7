"""Settings and consent records in a real Chromium: an admin renames a ladder stage and sets a
HELP line, sees them where they matter, and looks the simulator's phone up to read its consent
history."""

from __future__ import annotations

from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import sign_in, text_and_wait_for_reply
from tests.support import Worker, organizer


def test_an_admin_changes_a_setting_and_looks_a_number_up(
    live_app: tuple[Flask, str], browser: WebDriver
) -> None:
    app, base = live_app
    worker = Worker(app)
    with app.app_context():
        organizer("admin", "admin@eastside.example.org")
    sign_in(browser, base, "admin@eastside.example.org")

    browser.find_element(By.LINK_TEXT, "Phone simulator").click()
    for text, reply in (
        ("hi", "Reply YES to join"),
        ("yes", "What's your first name?"),
        ("Sam", "Who is someone in your life"),
        ("my grandma Ruth", "What does Ruth care about?"),
    ):
        text_and_wait_for_reply(browser, worker, text, reply)

    browser.get(base + "/console/")
    browser.find_element(By.LINK_TEXT, "Settings").click()
    listed = browser.find_element(By.ID, "stage_listed")
    listed.clear()
    listed.send_keys("On our list")
    browser.find_element(By.ID, "help_text").send_keys("Office hours Mon-Fri 9-5.")
    browser.find_element(By.XPATH, "//button[.='Save settings']").click()
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".flash"))
    assert "Saved." in browser.find_element(By.CSS_SELECTOR, ".flash").text

    browser.find_element(By.LINK_TEXT, "Dashboard").click()
    ladder = browser.find_element(By.ID, "ladder-title").find_element(By.XPATH, "..").text
    assert "On our list 1" in ladder

    browser.find_element(By.LINK_TEXT, "Phone simulator").click()
    text_and_wait_for_reply(browser, worker, "HELP", "Office hours Mon-Fri 9-5.")

    browser.get(base + "/console/")
    browser.find_element(By.LINK_TEXT, "Consent").click()
    browser.find_element(By.ID, "address").send_keys("(555) 555-0100")
    browser.find_element(By.XPATH, "//button[.='Look up']").click()
    # The answer is a new page: wait for it, as a person does, however busy the machine is.
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "consent-result"))
    result = browser.find_element(By.ID, "consent-result").text
    assert "+15555550100" in result and "Opted in" in result and "They texted it" in result
    assert "yes" in browser.find_element(By.CSS_SELECTOR, ".consent-history q.evidence").text
