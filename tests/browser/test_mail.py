"""Member email in a real Chromium, as the demo runs it: an organizer writes an email to the
members, previews it and types the count to send it; the member reads it in the simulator's
mailbox and answers; the organizer finds the answer in the console inbox, on the member's thread
without the quoted email, and answers it; the answer arrives in the member's mailbox."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from selenium.common.exceptions import JavascriptException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from gateway import clock
from tests.browser.conftest import sign_in
from tests.support import SettableClock, Worker, email_member

FLAKY_DOM = (StaleElementReferenceException, JavascriptException)


def mailbox_subjects(driver: WebDriver) -> list[str]:
    script = "return [...document.querySelectorAll('#list .subject')].map(e => e.innerText)"
    return driver.execute_script(script)


def open_mailbox(driver: WebDriver, email: str) -> None:
    """Follow the console's link to the mailbox simulator and show this address's mail."""
    driver.find_element(By.LINK_TEXT, "Mailbox simulator").click()
    WebDriverWait(driver, 15).until(lambda d: d.current_url.endswith("/simulator/mail"))
    address = driver.find_element(By.ID, "email")
    address.clear()
    address.send_keys(email + "\n")


def test_an_organizer_emails_a_member_who_answers_from_the_mailbox_and_gets_an_answer(
    live_app: tuple[Flask, str], browser: WebDriver
) -> None:
    app, base = live_app
    midday = SettableClock()  # a mailing waits for the member's daytime, like a text
    midday.set(datetime.now(ZoneInfo("America/New_York")).replace(hour=12))
    clock.init_app(app, midday)
    worker = Worker(app)
    with app.app_context():
        email_member("sam@example.org")  # confirmed their email address
        email_member("ruth@example.org", opted_in=False)  # never confirmed: left out

    # The organizer writes to everyone, sees who is left out and why, and confirms the count.
    sign_in(browser, base, "organizer@eastside.example.org")
    browser.find_element(By.LINK_TEXT, "Email").click()
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "subject"))
    browser.find_element(By.ID, "subject").send_keys("Forum Thursday")
    browser.find_element(By.ID, "body").send_keys("Hi! The forum is **Thursday at 6**. Will you come?")
    browser.find_element(By.XPATH, "//button[.='Preview']").click()
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "will-get"))
    assert browser.find_element(By.ID, "will-get").text == "1"
    assert "Thursday at 6" in browser.find_element(By.CSS_SELECTOR, "#mail-body strong").text
    left_out = browser.find_element(By.CSS_SELECTOR, "#exclusions tr[data-reason='no_opt_in']").text
    assert "Never confirmed their email address" in left_out and " 1 " in f" {left_out} "
    browser.find_element(By.ID, "count").send_keys("1")
    browser.find_element(By.XPATH, "//button[.='Send 1 emails']").click()
    WebDriverWait(browser, 15).until(
        lambda d: "/console/mail" in d.current_url and "Send 1" not in d.page_source
    )
    worker.run()

    # Sam reads it in the mailbox and answers it.
    open_mailbox(browser, "sam@example.org")
    polled = WebDriverWait(browser, 15, ignored_exceptions=FLAKY_DOM)
    polled.until(lambda d: mailbox_subjects(d) == ["Forum Thursday"])
    browser.find_element(By.CSS_SELECTOR, "#list button").click()
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "#reader iframe"))
    shown = browser.find_element(By.TAG_NAME, "body").text
    assert "Thursday at 6" in shown and "Unsubscribe" in shown and "100 Main St" in shown
    browser.switch_to.default_content()
    browser.find_element(By.ID, "reply-body").send_keys("Yes! Can I bring my neighbor Ruth?")
    browser.find_element(By.XPATH, "//button[.='Send reply']").click()
    polled.until(lambda d: d.find_elements(By.ID, "replied"))

    # The organizer finds it on Sam's thread, without the email it quotes, and answers.
    browser.get(base + "/console/inbox")
    browser.find_element(By.LINK_TEXT, "Sam").click()
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CLASS_NAME, "conversation"))
    conversation = browser.find_element(By.CLASS_NAME, "conversation").text
    assert "Yes! Can I bring my neighbor Ruth?" in conversation
    assert "> Hi! The forum" not in conversation
    browser.find_element(By.ID, "body").send_keys("Of course, see you both Thursday. Dana")
    browser.find_element(By.XPATH, "//button[.='Send answer by email']").click()
    polled.until(lambda d: "Answer queued" in d.find_element(By.TAG_NAME, "main").text)
    worker.run()

    # The answer arrives in Sam's mailbox, as a reply to Sam's email.
    open_mailbox(browser, "sam@example.org")
    polled.until(lambda d: mailbox_subjects(d)[:1] == ["Re: Forum Thursday"])
    browser.find_element(By.CSS_SELECTOR, "#list button").click()
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "#reader iframe"))
    assert "see you both Thursday" in browser.find_element(By.TAG_NAME, "body").text
