"""How fast the console's pages answer on a seeded demo, as a ratio to /healthz in the same run.

    python -m bench.console_pages [--volunteers 2000] [--requests 60] [--database sqlite|postgres]

Seeds a fresh site with `kindred seed-demo` (see scripts/seeded_site.py), serves it with the
Procfile's web line, signs in as an admin, and asks each page `--requests` times in a row
(a round's preview is asked for through the form and counted by `kindred worker --burst`
first: what is timed is its result page)
after a warm-up, over real HTTP. It prints p50, p95 and max for each page and its p95 as a
multiple of /healthz's p95 (the baseline: the same server, network and session, no page
work). The target is every page under 300 ms at p95 with 2,000 volunteers; the script exits
1 if a page misses it, so it can gate a change.
"""

from __future__ import annotations

import argparse
import html
import re
import statistics
import sys
import time
from contextlib import ExitStack

import requests

from scripts.seeded_site import Site, seeded_site
from tests.doubles.servers import PostgresServer

TARGET_MS = 300.0


def timings(session: requests.Session, url: str, count: int) -> list[float]:
    for _ in range(3):  # warm-up: templates compiled, connections pooled
        session.get(url, timeout=30).raise_for_status()
    taken = []
    for _ in range(count):
        started = time.perf_counter()
        response = session.get(url, timeout=30)
        taken.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return taken


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def first(pattern: str, page: str, what: str) -> str:
    match = re.search(pattern, page)
    if not match:
        raise SystemExit(f"the seeded site has no {what}")
    return match.group(1)


def round_preview(site: Site, session: requests.Session) -> str:
    """Ask for a preview of a round for everyone through the rounds page's form, let a worker
    count it, and return its page's path (the result, no longer counting)."""
    base = site.base_url
    rounds_page = session.get(base + "/console/rounds", timeout=30).text
    token = first(r'name="csrf_token"[^>]*value="([^"]+)"', rounds_page, "form to plan a round")
    asked = session.post(
        base + "/console/rounds/preview",
        data={"csrf_token": token, "kind": "all"},
        timeout=30,
        allow_redirects=False,
    )
    if asked.status_code != 303:
        raise SystemExit(f"asking for a round preview answered {asked.status_code}")
    path = asked.headers["Location"].removeprefix(base)
    site.deployment.kindred("worker", "--burst")  # counts the preview, then stops
    if 'id="will-get"' not in session.get(base + path, timeout=30).text:
        raise SystemExit("the worker did not count the round preview")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--volunteers", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="a SQLite file, or a throwaway PostgreSQL",
    )
    args = parser.parse_args()

    with ExitStack() as stack:
        database_url = None
        if args.database == "postgres":
            postgres = PostgresServer()
            stack.callback(postgres.stop)
            database_url = postgres.create_database()
        site = stack.enter_context(seeded_site(args.volunteers, database_url))
        print(site.seeded)
        session = site.signed_in()
        base = site.base_url
        volunteers = session.get(base + "/console/volunteers", timeout=30).text
        inbox = session.get(base + "/console/inbox?show=all", timeout=30).text
        network = session.get(base + "/console/network", timeout=30).text
        library = session.get(base + "/console/prompts", timeout=30).text
        events = session.get(base + "/console/events", timeout=30).text
        teams = session.get(base + "/console/teams", timeout=30).text
        learned = html.unescape(session.get(base + "/console/learned", timeout=120).text)
        exported = session.get(base + "/console/exports/download?kind=volunteers", timeout=120).text
        preview = round_preview(site, session)
        pages = {
            "dashboard": "/console/",
            "volunteers": "/console/volunteers",
            "volunteers, filtered": "/console/volunteers?active=week&stage=open",
            "volunteer": first(r'href="(/console/volunteers/\d+)"', volunteers, "volunteer"),
            "network": "/console/network",
            "network, one team": first(
                r'href="(/console/network\?team=\d+)"', network, "team in the network"
            ),
            "inbox": "/console/inbox",
            "inbox thread": first(r'href="(/console/inbox/\d+)"', inbox, "inbox thread") + "?confirm=1",
            "audit log": "/console/audit",
            "prompts": "/console/prompts",
            "prompt": first(r'href="(/console/prompts/\d+)"', library, "prompt"),
            "events": "/console/events",
            "event": first(r'href="(/console/events/\d+)"', events, "event"),
            "teams": "/console/teams",
            "team": first(r'href="(/console/teams/\d+)"', teams, "team"),
            "what we learned": "/console/learned",
            "learned, by month": "/console/learned?period=month",
            "learned, a phrase": first(r'href="(/console/learned\?[^"]*phrase=[^"#]+)', learned, "phrase"),
            "consent lookup": "/console/consent?address="
            + first(r"\n(\+\d+),[^\n]*,active,", exported, "opted-in volunteer"),
            "exports": "/console/exports",
            "settings": "/console/settings",
            "rounds": "/console/rounds",
            "round preview, everyone": preview,
            "email": "/console/mail",
        }
        baseline = timings(session, base + "/healthz", args.requests)
        rows = [("/healthz (baseline)", baseline)]
        rows += [(name, timings(session, base + path, args.requests)) for name, path in pages.items()]

    base_p95 = p95(baseline)
    print(
        f"\n{args.volunteers} volunteers on {args.database}, "
        f"{args.requests} requests per page, one after another\n"
    )
    print(f"{'page':<24} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p95 / healthz':>14}")
    missed = []
    for name, taken in rows:
        ratio = p95(taken) / base_p95
        print(
            f"{name:<24} {statistics.median(taken):8.1f} {p95(taken):8.1f} {max(taken):8.1f} {ratio:13.1f}x"
        )
        if p95(taken) > TARGET_MS:
            missed.append(name)
    if missed:
        print(f"\nover {TARGET_MS:.0f} ms at p95: {', '.join(missed)}")
        return 1
    print(f"\nevery page under {TARGET_MS:.0f} ms at p95")
    return 0


if __name__ == "__main__":
    sys.exit(main())
