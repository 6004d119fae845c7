"""Whether a console export streams: a large export's time to first byte and the web worker's
peak memory, as ratios to an empty export in the same run.

    python -m bench.export_stream [--rows 1000000]

Starts a site on a throwaway PostgreSQL (see scripts/seeded_site.py: migrated by the release
line, one seeded volunteer, gunicorn with one worker), adds `--rows` addresses each with an
opt-in (bulk SQL, generate_series), signs in as the admin, and downloads over real HTTP the
consent export (the large one) and the reports export (the baseline: the header and a row or
two). For each it measures the time to the first byte and to the last, and the worker's
resident memory, sampled every 20 ms while the download runs. A streamed export starts about
as soon as the empty one and peaks at about the same memory however many rows it has; one
built in memory first shows both growing with the rows. Exits 1 if the first byte takes more
than a second or the peak memory more than twice the baseline's.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

from scripts.seeded_site import Site, seeded_site
from tests.doubles.servers import PostgresServer

FIRST_BYTE_LIMIT_S = 1.0
MEMORY_RATIO_LIMIT = 2.0


@dataclass
class Download:
    first_byte: float  # seconds
    total: float
    size: int  # bytes
    lines: int
    peak_rss: int  # kB, the web worker's


def worker_pids(site: Site) -> list[int]:
    """The gunicorn worker processes: in the web line's process group, children of its master."""
    group = site.deployment.processes["web"].process.pid
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp
            members.append((int(stat.parent.name), int(fields[1])))  # (pid, ppid)
    parents = {ppid for _, ppid in members}
    return [pid for pid, _ in members if pid not in parents]  # the leaves: the workers


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def download(session: requests.Session, url: str, pids: list[int]) -> Download:
    peak = rss_kb(pids)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_kb(pids))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    first_byte = None
    size = lines = 0
    with session.get(url, stream=True, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_content(chunk_size=65536):
            if first_byte is None:
                first_byte = time.perf_counter() - started
            size += len(chunk)
            lines += chunk.count(b"\n")
    total = time.perf_counter() - started
    done.set()
    sampler.join()
    return Download(first_byte or total, total, size, lines, peak)


def fill(database_url: str, rows: int) -> None:
    """`rows` addresses, each with an opt-in, in bulk."""
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        org = connection.execute("SELECT id FROM organization ORDER BY id LIMIT 1").fetchone()[0]
        connection.execute(
            "INSERT INTO address (organization_id, channel, value, pending_erasure, created_at) "
            "SELECT %s, 'sms', '+1202' || lpad(g::text, 7, '0'), false, now() "
            "FROM generate_series(1, %s) AS g",
            (org, rows),
        )
        connection.execute(
            "INSERT INTO consent_event (organization_id, address_id, channel, kind, source, detail, at) "
            "SELECT organization_id, id, 'sms', 'opt_in', 'sms_keyword', 'YES', now() FROM address "
            "WHERE value LIKE '+1202%%'"
        )
        connection.execute("ANALYZE")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with ExitStack() as stack:
        postgres = PostgresServer()
        stack.callback(postgres.stop)
        database_url = postgres.create_database()
        site = stack.enter_context(seeded_site(1, database_url, workers=1))
        session = site.signed_in()
        session.get(site.base_url + "/console/exports", timeout=30).raise_for_status()  # org made
        started = time.perf_counter()
        fill(database_url, args.rows)
        print(f"added {args.rows:,} addresses with an opt-in in {time.perf_counter() - started:.1f} s")
        pids = worker_pids(site)
        url = site.base_url + "/console/exports/download?kind="
        download(session, url + "reports", pids)  # warm-up
        baseline = download(session, url + "reports", pids)
        large = download(session, url + "consent", pids)

    print(f"\n{'export':<28} {'first byte':>11} {'total':>9} {'rows':>10} {'MB':>7} {'peak RSS MB':>12}")
    for name, d in (("reports (baseline, empty)", baseline), ("consent (large)", large)):
        print(
            f"{name:<28} {d.first_byte * 1000:9.1f}ms {d.total:8.2f}s {d.lines - 1:10,} "
            f"{d.size / 1e6:7.1f} {d.peak_rss / 1024:12.1f}"
        )
    first_byte_ratio = large.first_byte / baseline.first_byte
    memory_ratio = large.peak_rss / baseline.peak_rss
    print(
        f"\nfirst byte: {first_byte_ratio:.1f}x the empty export's, "
        f"{100 * large.first_byte / large.total:.2f}% of the large download's total time"
    )
    print(f"peak worker memory: {memory_ratio:.2f}x the empty export's")
    if (
        large.lines - 1 < args.rows
        or large.first_byte > FIRST_BYTE_LIMIT_S
        or memory_ratio > MEMORY_RATIO_LIMIT
    ):
        print("\nnot streamed as it should be")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
