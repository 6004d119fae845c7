"""The /simulator page in a real Chromium: a person types texts as a volunteer and reads the
replies, which the real worker sends through the simulator transport."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import sign_in, text_and_wait_for_reply
from tests.support import Worker


def sign_in_as_organizer(driver: WebDriver, base: str) -> None:
    """Sign in through the console's login page, as an organizer would."""
    sign_in(driver, base, "organizer@eastside.example.org", start="/simulator")


def test_a_volunteer_can_join_and_add_a_friend_from_the_simulator(
    live_app: tuple[Flask, str], browser: WebDriver, tmp_path: Path
) -> None:
    app, base = live_app
    sign_in_as_organizer(browser, base)
    assert "Eastside Neighbors" in browser.title
    worker = Worker(app)
    text_and_wait_for_reply(browser, worker, "hi", "Reply YES to join")
    text_and_wait_for_reply(browser, worker, "yes", "What's your first name?")
    text_and_wait_for_reply(browser, worker, "Sam", "Who is someone in your life")
    text_and_wait_for_reply(browser, worker, "my grandma Ruth", "What does Ruth care about?")
    outbound = browser.execute_script(
        "return [...document.querySelectorAll('.msg.outbound')].map(e => e.innerText)"
    )
    assert len(outbound) == 4 and all(text.endswith("delivered") for text in outbound)
    browser.save_screenshot(str(tmp_path / "simulator.png"))


def test_a_text_the_app_refuses_shows_why_and_stays_in_the_box(
    live_app: tuple[Flask, str], browser: WebDriver
) -> None:
    _, base = live_app
    sign_in_as_organizer(browser, base)
    number = browser.find_element(By.ID, "phone")
    number.clear()
    number.send_keys("not a phone")
    browser.find_element(By.ID, "body").send_keys("hi", Keys.ENTER)

    alert = WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "error").text)
    assert alert == "Not sent: phone must be a phone number, like +15555550123"
    assert browser.find_element(By.ID, "body").get_attribute("value") == "hi"
    assert browser.find_elements(By.CSS_SELECTOR, ".msg.inbound") == []
