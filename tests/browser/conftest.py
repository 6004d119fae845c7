"""Fixtures for tests in a real Chromium: the app served on 127.0.0.1 by a thread, and a
headless Chromium from Debian's packages that reaches nothing outside this machine. Any test
during which a page broke its Content-Security-Policy (a script or style the policy refused)
fails."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from selenium import webdriver
from selenium.common.exceptions import JavascriptException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from gateway import create_app
from gateway.extensions import db
from tests.conftest import INBOUND_EMAIL_DOMAIN, ORGANIZATION_POSTAL_ADDRESS, app_config
from tests.doubles.servers import RedisServer
from tests.support import PASSWORD, Worker, organizer

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def live_app(sqlite_template: Path, redis_server: RedisServer, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """The app with the simulators (phone and mailbox), served on 127.0.0.1 by a thread that stops with the test."""
    database = tmp_path / "kindred.sqlite3"
    shutil.copy(sqlite_template, database)
    config = {
        **app_config(f"sqlite:///{database}", redis_server.url, "", tmp_path),
        "SMS_TRANSPORT": "simulator",
        "EMAIL_TRANSPORT": "simulator",
        "INBOUND_EMAIL_DOMAIN": INBOUND_EMAIL_DOMAIN,
        "ORGANIZATION_POSTAL_ADDRESS": ORGANIZATION_POSTAL_ADDRESS,
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


def csp_violations(driver: WebDriver) -> list[str]:
    """What the pages opened so far refused under their Content-Security-Policy, from the
    browser's console log (read once: the log empties as it is read)."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Content-Security-Policy" in entry["message"]
    ]


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    """Headless Chromium from Debian's packages, with nothing that reaches the network; the test
    fails if any page it opened broke its Content-Security-Policy."""
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
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
        refused = csp_violations(driver)
        if refused:
            pytest.fail("the Content-Security-Policy refused: " + "\n".join(refused))
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for_text(driver: WebDriver, contains: str, selector: str = "main") -> None:
    """Wait until the page's element `selector` says `contains`. Read in one script each time,
    holding no element across reads: the page may be replaced mid-read (a form's answer
    loading), which a held element reports as stale or, in Chromium, as a node that "does not
    belong to the document"."""
    read = "const found = document.querySelector(arguments[0]); return found ? found.innerText : ''"
    WebDriverWait(driver, 15, ignored_exceptions=[JavascriptException]).until(
        lambda d: contains in d.execute_script(read, selector)
    )


def sign_in(driver: WebDriver, base: str, email: str, start: str = "/console/") -> None:
    """Open a console page, get sent to the login, and sign in there, as a person would."""
    driver.get(base + start)
    assert "/console/login" in driver.current_url  # every console page is behind the login
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD, Keys.ENTER)
    WebDriverWait(driver, 15).until(lambda d: d.current_url.endswith(start))


def text_and_wait_for_reply(driver: WebDriver, worker: Worker, body: str, reply_contains: str) -> None:
    """Type a text, see it on the page, let the worker deliver the answer, and see that."""

    def bubbles(selector: str = ".msg") -> list[str]:
        # One script call reads them all at once: the page redraws the thread as it polls.
        script = "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText)"
        return driver.execute_script(script, selector)

    # Count only once the page has drawn the thread it fetched (its hint is gone then): counted
    # before, a thread with texts in it would seem to grow by all of them at once.
    WebDriverWait(driver, 15).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#thread .hint"))
    sent = len(bubbles(".msg.inbound"))
    driver.find_element(By.ID, "body").send_keys(body, Keys.ENTER)
    # The page shows the text once the app has stored it; the reply only once it is delivered.
    WebDriverWait(driver, 15).until(lambda _: len(bubbles(".msg.inbound")) == sent + 1)
    assert bubbles()[-1] == body
    worker.run()
    WebDriverWait(driver, 15).until(lambda _: reply_contains in bubbles()[-1])
