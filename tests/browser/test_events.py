"""Events and teams in a real Chromium: an organizer lists an event and sees it in the list,
makes a volunteer the lead of their team, and approves the event that lead proposes by text
in the simulator."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.conftest import sign_in, text_and_wait_for_reply, wait_for_text
from tests.support import Worker


def test_an_organizer_lists_an_event_and_approves_a_leads_proposal(
    live_app: tuple[Flask, str], browser: WebDriver
) -> None:
    app, base = live_app
    worker = Worker(app)
    sign_in(browser, base, "organizer@eastside.example.org", start="/console/events")

    # A new event, on the organization's clock.
    day = date.today() + timedelta(days=30)
    browser.find_element(By.ID, "title").send_keys("Community Forum")
    starts_at = browser.find_element(By.ID, "starts_at")
    browser.execute_script("arguments[0].value = arguments[1]", starts_at, f"{day:%Y-%m-%d}T18:30")
    browser.find_element(By.ID, "location").send_keys("Eastside Library")
    browser.find_element(By.ID, "capacity").send_keys("40")
    browser.find_element(By.XPATH, "//button[.='List event']").click()
    wait_for_text(browser, "Event listed: Community Forum.")
    assert "0 of 40 places" in browser.find_element(By.TAG_NAME, "main").text
    browser.find_element(By.LINK_TEXT, "Events").click()
    upcoming = browser.find_element(By.XPATH, "//h2[.='Coming up']/following::table[1]").text
    assert "Community Forum" in upcoming and f"{day:%b %d %Y}, 06:30 PM" in upcoming

    # Sam starts a team by text and is made its lead.
    browser.find_element(By.LINK_TEXT, "Phone simulator").click()
    for text, reply in (
        ("hi", "Reply YES to join"),
        ("yes", "What's your first name?"),
        ("Sam", "Who is someone in your life"),
        ("TEAM NEW Block Walkers", "join code"),
    ):
        text_and_wait_for_reply(browser, worker, text, reply)
    browser.get(base + "/console/teams")
    browser.find_element(By.LINK_TEXT, "Block Walkers").click()
    browser.find_element(By.XPATH, "//button[.='Make Sam a lead']").click()
    wait_for_text(browser, "Made a lead.")

    # Sam proposes a team event; the organizer approves it.
    browser.find_element(By.LINK_TEXT, "Phone simulator").click()
    text_and_wait_for_reply(browser, worker, "EVENT NEW Potluck, Sat 3pm, Sam's house", "I sent Potluck")
    browser.get(base + "/console/events")
    proposals = browser.find_element(
        By.XPATH, "//h2[starts-with(., 'Proposed by team leads')]/following::table[1]"
    )
    assert "Potluck" in proposals.text and "Block Walkers" in proposals.text and "Sam" in proposals.text
    browser.find_element(By.XPATH, "//button[.='Approve Potluck']").click()
    wait_for_text(browser, "Approved: Potluck is listed to Block Walkers.")
    assert "No proposals waiting." in browser.find_element(By.TAG_NAME, "main").text
    upcoming = browser.find_element(By.XPATH, "//h2[.='Coming up']/following::table[1]").text
    assert "Potluck" in upcoming and "Block Walkers" in upcoming
