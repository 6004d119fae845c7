"""The console under its Content-Security-Policy in a real Chromium: every page opens with
nothing refused (the fixture fails a test on any refusal), an inline script slipped into a page
does not run, and an admin sets up two-factor sign-in and signs in with a code."""

from __future__ import annotations

import time

import pyotp
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import csp_violations, sign_in
from tests.support import PASSWORD, organizer

PAGES = (
    "/console/", "/console/volunteers", "/console/network", "/console/inbox", "/console/prompts",
    "/console/prompts/new", "/console/rounds", "/console/mail", "/console/events", "/console/teams",
    "/console/learned", "/console/consent", "/console/exports", "/console/settings",
    "/console/organizers", "/console/audit", "/console/account", "/simulator", "/simulator/mail",
)  # fmt: skip
ADMIN = "admin@eastside.example.org"


def test_every_console_page_opens_with_nothing_refused_and_inline_script_never_runs(
    live_app: tuple[Flask, str], browser: WebDriver
) -> None:
    app, base = live_app
    with app.app_context():
        organizer("admin", ADMIN)
    sign_in(browser, base, ADMIN)
    for path in PAGES:
        browser.get(base + path)
        WebDriverWait(browser, 15).until(
            lambda d: d.execute_script("return document.readyState") == "complete"
        )
        assert "/console/login" not in browser.current_url, path
        assert csp_violations(browser) == [], path
    # The dashboard's bars are drawn from their values, with no inline style.
    browser.get(base + "/console/")
    assert browser.find_elements(By.CSS_SELECTOR, "progress.bar")

    # Were a page ever to carry an inline script (an injection), the browser would not run it.
    browser.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
        "document.body.append(s);"
    )
    assert browser.execute_script("return window.injected") is None
    assert any("script-src" in message for message in csp_violations(browser))


def test_an_admin_sets_up_two_factor_and_signs_in_with_a_code(
    live_app: tuple[Flask, str], browser: WebDriver
) -> None:
    app, base = live_app
    with app.app_context():
        organizer("admin", ADMIN)
    sign_in(browser, base, ADMIN)
    browser.find_element(By.LINK_TEXT, ADMIN).click()
    assert browser.find_element(By.CSS_SELECTOR, ".qr svg").size["width"] > 100  # a QR code to scan
    secret = browser.find_element(By.ID, "two-factor-secret").text
    browser.find_element(By.ID, "code").send_keys(pyotp.TOTP(secret).now(), Keys.ENTER)
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "recovery-codes"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#recovery-codes code")) == 10

    browser.find_element(By.XPATH, "//button[.='Sign out']").click()
    WebDriverWait(browser, 15).until(lambda d: "/console/login" in d.current_url)
    browser.find_element(By.ID, "email").send_keys(ADMIN)
    browser.find_element(By.ID, "password").send_keys(PASSWORD, Keys.ENTER)
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/console/login/code"))
    # The code the app shows next (a code is good once, and the one now was spent setting up).
    browser.find_element(By.ID, "code").send_keys(pyotp.TOTP(secret).at(time.time() + 30), Keys.ENTER)
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/console/"))
    assert browser.find_element(By.LINK_TEXT, "Dashboard")
