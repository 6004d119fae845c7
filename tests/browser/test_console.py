"""The console in a real Chromium: an organizer signs in, reads the dashboard, opens a
volunteer, and answers a text from the inbox, which arrives on the volunteer's phone in the
simulator; a viewer reads but is refused an action."""

from __future__ import annotations

from flask import Flask
from selenium.common.exceptions import JavascriptException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import sign_in, text_and_wait_for_reply, wait_for_text
from tests.support import Worker, organizer


def click(driver: WebDriver, text: str) -> None:
    """Follow the link with this text, as a person would."""
    driver.find_element(By.LINK_TEXT, text).click()


def test_an_organizer_answers_a_volunteer_from_the_inbox(
    live_app: tuple[Flask, str], browser: WebDriver
) -> None:
    app, base = live_app
    worker = Worker(app)
    sign_in(browser, base, "organizer@eastside.example.org")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Eastside Neighbors"

    # A volunteer texts in, on the simulator's phone.
    click(browser, "Phone simulator")
    for text, reply in (
        ("hi", "Reply YES to join"),
        ("yes", "What's your first name?"),
        ("Sam", "Who is someone in your life"),
        ("my grandma Ruth", "What does Ruth care about?"),
        ("medicare, her church", "Idea for Ruth"),
        ("talked sunday, she's worried about prices but open to coming", "Logged"),
        ("Can someone call me about the forum?", "passed that on to an organizer"),
    ):
        text_and_wait_for_reply(browser, worker, text, reply)

    # The dashboard counts the conversation and what was learned.
    browser.get(base + "/console/")
    cards = {
        card.find_element(By.CLASS_NAME, "label").text: card.find_element(By.CLASS_NAME, "figure").text
        for card in browser.find_elements(By.CLASS_NAME, "card")
    }
    assert cards["conversations reported this week"] == "1"
    assert (
        "worried about prices"
        in browser.find_element(By.ID, "learned-title").find_element(By.XPATH, "..").text
    )
    assert browser.find_elements(By.CSS_SELECTOR, "figure.chart svg rect.o-open")  # this week's bar

    # Sam's page: Ruth, where she stands, and what was learned.
    click(browser, "Volunteers")
    click(browser, "Sam")
    friends = browser.find_element(By.XPATH, "//h2[starts-with(., 'Friends')]/following::table[1]").text
    assert "Ruth" in friends and "family" in friends and "open" in friends

    # The inbox: Sam's question, answered.
    click(browser, "Inbox")
    click(browser, "Sam")
    assert "Can someone call me about the forum?" in browser.find_element(By.CLASS_NAME, "conversation").text
    browser.find_element(By.ID, "body").send_keys("Hi Sam, this is Dana. I'll call you at 6.")
    browser.find_element(By.XPATH, "//button[.='Send answer']").click()
    wait_for_text(browser, "Answer queued")  # the page is replaced as it loads
    worker.run()

    # It arrives on Sam's phone.
    click(browser, "Phone simulator")
    WebDriverWait(
        browser, 15, ignored_exceptions=[StaleElementReferenceException, JavascriptException]
    ).until(
        lambda d: (
            "I'll call you at 6."
            in d.execute_script(
                "return [...document.querySelectorAll('.msg.outbound')].map(e => e.innerText).join('\\n')"
            )
        )
    )


def test_a_viewer_reads_but_is_refused_an_action(live_app: tuple[Flask, str], browser: WebDriver) -> None:
    app, base = live_app
    with app.app_context():
        organizer("viewer")
    sign_in(browser, base, "viewer@eastside.example.org")

    nav = browser.find_element(By.CSS_SELECTOR, "header nav").text
    assert "Inbox" in nav and "Phone simulator" not in nav and "Organizers" not in nav
    browser.get(base + "/console/organizers")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Not for your role"
    # A form a viewer is not shown, posted anyway from the page: refused by the server.
    status = browser.execute_script(
        """
        const token = document.querySelector('input[name=csrf_token]').value;
        const form = new FormData(); form.append('csrf_token', token); form.append('email', 'x@example.org');
        form.append('role', 'admin');
        return fetch('/console/organizers', {method: 'POST', body: form}).then(r => r.status);
        """
    )
    assert status == 403
