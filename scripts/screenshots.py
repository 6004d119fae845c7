"""Make the README's screenshots of the console from a freshly seeded demo.

    python -m scripts.screenshots [--volunteers 2000] [--out docs/screenshots]

Seeds a site as the benchmark does (scripts/seeded_site.py), signs in as an admin in
headless Chromium (Debian's `chromium` and `chromedriver`), and saves the dashboard, a
volunteer's page, the network, the inbox and an inbox thread, the prompt library and an idea to
review, a round's preview, an email's preview, the events, teams, what we learned, the settings
and the public sign-up page as PNG files. The seed is
fixed, so the pictures change only when the pages do.
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from bench.console_pages import round_preview
from scripts.seeded_site import seeded_site

WIDTH = 1280
FORUM_EMAIL = (
    "Hi everyone,\n\nOur **community forum** is Thursday at 6:30 at the Eastside Library. "
    "Bring someone you have been talking with: a neighbor, a coworker, family.\n\n"
    "- Childcare on site\n- Spanish interpretation\n\n"
    "Just reply to this email if you have a question.\n\nDana"
)
MAX_HEIGHT = 2400


def chromium(profile: str) -> WebDriver:
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", f"--window-size={WIDTH},900", "--hide-scrollbars",
        "--force-device-scale-factor=1",
    ):  # fmt: skip
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def shoot(driver: WebDriver, url: str | None, path: Path) -> None:
    """The whole page at `url` (None: the page shown now, a form's answer say), up to MAX_HEIGHT
    pixels tall, as a PNG."""
    driver.set_window_size(WIDTH, 900)
    if url is not None:
        driver.get(url)
    height = min(MAX_HEIGHT, driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(WIDTH, height)
    driver.save_screenshot(str(path))
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--volunteers", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    profile = tempfile.mkdtemp(prefix="kindred-screenshots-")
    try:
        with seeded_site(args.volunteers) as site:
            print(site.seeded)
            driver = chromium(profile)
            try:
                base = site.base_url
                driver.get(base + "/console/login")
                driver.find_element(By.ID, "email").send_keys(site.email)
                driver.find_element(By.ID, "password").send_keys(site.password, Keys.ENTER)
                WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith("/console/"))

                shoot(driver, base + "/console/", args.out / "dashboard.png")
                # A volunteer with friends and conversations to show: the most active on page one.
                driver.get(base + "/console/volunteers?active=week&stage=open")
                volunteer = driver.find_element(By.CSS_SELECTOR, "table.volunteers a").get_attribute("href")
                shoot(driver, base + "/console/volunteers", args.out / "volunteers.png")
                shoot(driver, volunteer, args.out / "volunteer.png")
                shoot(driver, base + "/console/network", args.out / "network.png")
                shoot(driver, base + "/console/inbox", args.out / "inbox.png")
                page = driver.page_source
                # A thread without a warning: the picture is for the README.
                threads = re.findall(r'<tr>\s*<td><a href="(/console/inbox/\d+)"', page)
                if threads:
                    shoot(driver, base + threads[0] + "?confirm=1", args.out / "thread.png")
                shoot(driver, base + "/console/prompts", args.out / "prompts.png")
                idea = re.search(r'href="(/console/prompts/ideas/\d+)"', driver.page_source)
                if idea:
                    shoot(driver, base + idea.group(1), args.out / "idea.png")
                # A round's preview, asked for through the form and counted by a worker.
                shoot(driver, base + round_preview(site, site.signed_in()), args.out / "round_preview.png")
                shoot(driver, base + "/console/events", args.out / "events.png")
                shoot(driver, base + "/console/teams", args.out / "teams.png")
                shoot(driver, base + "/console/learned", args.out / "learned.png")
                shoot(driver, base + "/console/settings", args.out / "settings.png")
                # An email to everyone, previewed through the form as an organizer writes it.
                driver.get(base + "/console/mail")
                driver.find_element(By.ID, "subject").send_keys("Forum Thursday: bring someone you know")
                driver.find_element(By.ID, "body").send_keys(FORUM_EMAIL)
                driver.find_element(By.XPATH, "//button[.='Preview']").click()
                WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "will-get"))
                shoot(driver, None, args.out / "mail_preview.png")
                shoot(driver, base + "/join", args.out / "join.png")
            finally:
                driver.quit()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
