"""The /simulator page in a real Chromium: a person types texts as a volunteer and reads the
replies, which the real worker sends through the simulator transport."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from gateway import create_app
from gateway.extensions import db
from tests.conftest import app_config
from tests.doubles.servers import RedisServer
from tests.support import PASSWORD, Worker, organizer

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def live_app(sqlite_template: Path, redis_server: RedisServer, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """The app with the simulator, served on 127.0.0.1 by a thread that stops with the test."""
    database = tmp_path / "kindred.sqlite3"
    shutil.copy(sqlite_template, database)
    config = {
        **app_config(f"sqlite:///{database}", redis_server.url, "", tmp_path),
        "SMS_TRANSPORT": "simulator",
        "PUBLIC_BASE_URL": "http://127.0.0.1",  # served over plain http here: no Secure cookies
    }
    app = create_app(config)
    with app.app_context():
        from gateway.extensions import redis_client

        redis_client().flushdb()
        organizer("organizer")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    """Headless Chromium from Debian's packages, with nothing that reaches the network."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("Chromium and chromedriver are needed: apt-get install chromium chromium-driver")
    profile = tempfile.mkdtemp(prefix="kindred-chromium-")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-quic", f"--user-data-dir={profile}", "--window-size=480,900",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def sign_in_as_organizer(driver: WebDriver, base: str) -> None:
    """Sign in through the console's login page, as an organizer would."""
    driver.get(base + "/simulator")
    assert "/console/login" in driver.current_url  # the simulator is behind the login
    driver.find_element(By.ID, "email").send_keys("organizer@eastside.example.org")
    driver.find_element(By.ID, "password").send_keys(PASSWORD, Keys.ENTER)
    WebDriverWait(driver, 15).until(lambda d: d.current_url.endswith("/simulator"))


def text_and_wait_for_reply(driver: WebDriver, worker: Worker, body: str, reply_contains: str) -> None:
    """Type a text, see it on the page, let the worker deliver the answer, and see that."""

    def bubbles(selector: str = ".msg") -> list[str]:
        # One script call reads them all at once: the page redraws the thread as it polls.
        script = "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText)"
        return driver.execute_script(script, selector)

    sent = len(bubbles(".msg.inbound"))
    driver.find_element(By.ID, "body").send_keys(body, Keys.ENTER)
    # The page shows the text once the app has stored it; the reply only once it is delivered.
    WebDriverWait(driver, 15).until(lambda _: len(bubbles(".msg.inbound")) == sent + 1)
    assert bubbles()[-1] == body
    worker.run()
    WebDriverWait(driver, 15).until(lambda _: reply_contains in bubbles()[-1])


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
