"""A prompt round in a real Chromium: a volunteer joins on the simulator's phone, an organizer
asks for a preview of a round for everyone, watches the page counting turn into the preview by
itself once the worker has planned it, types the count to send it, and watches the round page's
progress update by itself as the worker checks the round and sends the idea."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from gateway import clock
from tests.browser.conftest import sign_in, text_and_wait_for_reply
from tests.support import SettableClock, Worker


def test_an_organizer_previews_a_round_types_the_count_and_watches_it_go(
    live_app: tuple[Flask, str], browser: WebDriver
) -> None:
    app, base = live_app
    midday = SettableClock()  # inside the calling window whenever the test runs
    midday.set(datetime.now(ZoneInfo("America/New_York")).replace(hour=12))
    clock.init_app(app, midday)
    worker = Worker(app)
    sign_in(browser, base, "organizer@eastside.example.org", start="/simulator")
    for text, reply in (
        ("hi", "Reply YES to join"),
        ("yes", "What's your first name?"),
        ("Sam", "Who is someone in your life"),
        ("my grandma Ruth", "What does Ruth care about?"),
        ("medicare, her church", "Idea for Ruth"),
    ):
        text_and_wait_for_reply(browser, worker, text, reply)

    browser.get(base + "/console/")
    browser.find_element(By.LINK_TEXT, "Rounds").click()
    browser.find_element(By.XPATH, "//button[.='Preview']").click()
    WebDriverWait(browser, 15).until(lambda d: "/console/rounds/preview/" in d.current_url)
    assert "Counting who would get a text" in browser.find_element(By.ID, "preview-state").text
    worker.run()  # the page asks again by itself: it shows the preview once the worker has counted
    polled = WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,))
    polled.until(lambda d: d.find_elements(By.ID, "will-get"))
    count = browser.find_element(By.ID, "will-get").text
    assert count == "1"
    sample = browser.find_element(By.ID, "samples").text
    assert "To Sam, about Ruth" in sample and "Idea for Ruth" in sample

    browser.find_element(By.ID, "count").send_keys(count)
    browser.find_element(By.XPATH, f"//button[.='Send {count} texts']").click()
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "round-status"))
    assert "Round started: checking the count again and queuing 1 texts." in browser.page_source
    assert browser.find_element(By.ID, "round-status").text == "starting"

    worker.run()  # the page polls: it shows the round checked, the text sent and the round done
    polled.until(lambda d: d.find_element(By.ID, "sent").text == "1")
    polled.until(lambda d: d.find_element(By.ID, "round-status").text == "done")
