"""How long planning a prompt round for every volunteer takes, and how much memory it needs, on a
seeded PostgreSQL, as a ratio to a baseline run alongside.

    python -m bench.round_plan [--volunteers 160000] [--friends 3]

Starts a throwaway PostgreSQL (tests/doubles/servers.PostgresServer), migrates it, and seeds
`--volunteers` opted-in volunteers with `--friends` friends each in bulk SQL (INSERT ... SELECT
generate_series; a tenth opted out again, a tenth with an initiated text sent today, every
third friend with a prompt used already). Seeding is not measured.

Then it runs, each in a child process of its own so that the child's peak RSS is the figure:
the baseline, streaming the audience's person ids in the same keyset batches and nothing else;
and the plan of a round for `all` (gateway.community.rounds.preview). It prints wall time and
peak RSS of each and their ratios, and exits 1 if the plan takes over 60 s or 300 MB.
"""

from __future__ import annotations

import argparse
import json
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from typing import Any

from sqlalchemy import select, text

from tests.doubles.servers import PostgresServer

LIMIT_SECONDS = 60.0
LIMIT_MB = 300.0

SEED = [
    """INSERT INTO person (organization_id, name, language, timezone, volunteer_since, last_active_at,
                           created_at)
       SELECT :org, 'Volunteer ' || g, CASE WHEN g % 10 = 0 THEN 'es' ELSE 'en' END,
              (ARRAY['America/New_York', 'America/Chicago', 'America/Los_Angeles'])[1 + g % 3],
              now() - (g % 700) * interval '1 day', now() - (g % 90) * interval '1 day', now()
       FROM generate_series(1, :volunteers) AS g""",
    """INSERT INTO address (organization_id, person_id, channel, value, pending_erasure, created_at)
       SELECT :org, p.id, 'sms', '+1555' || lpad(p.id::text, 7, '0'), false, now()
       FROM person p WHERE p.organization_id = :org""",
    """INSERT INTO consent_event (organization_id, address_id, channel, kind, source, detail, at)
       SELECT :org, a.id, 'sms', 'opt_in', 'sms_keyword', '', now() - interval '30 days'
       FROM address a WHERE a.organization_id = :org""",
    """INSERT INTO consent_event (organization_id, address_id, channel, kind, source, detail, at)
       SELECT :org, a.id, 'sms', 'opt_out', 'sms_keyword', '', now() - interval '1 day'
       FROM address a WHERE a.organization_id = :org AND a.id % 10 = 3""",
    """INSERT INTO friend (organization_id, volunteer_id, name, relationship, interests, stage, added_at)
       SELECT :org, p.id, (ARRAY['Ruth', 'Carl', 'Maria', 'Dan', 'Ana'])[1 + (p.id + k) % 5],
              (ARRAY['family', 'neighbor', 'coworker', 'friend'])[1 + k % 4],
              CAST((ARRAY['["healthcare"]', '["schools", "rent"]', '[]'])[1 + (p.id * k) % 3] AS json),
              (ARRAY['listed', 'talked', 'open', 'committed', 'joined'])[1 + (p.id + 2 * k) % 5],
              now() - k * interval '3 days'
       FROM person p CROSS JOIN generate_series(1, :friends) AS k WHERE p.organization_id = :org""",
    """INSERT INTO prompt_use (friend_id, prompt_id, at)
       SELECT f.id, (SELECT min(id) FROM prompt WHERE organization_id = :org), now() - interval '8 days'
       FROM friend f WHERE f.organization_id = :org AND f.id % 3 = 0""",
    """INSERT INTO message (organization_id, direction, channel, address_id, body, num_media, status,
                            reason, needs_attention, attempts, created_at, updated_at)
       SELECT :org, 'outbound', 'sms', a.id, 'seeded', 0, 'sent', 'follow_up', false, 1,
              now() - interval '2 hours', now() - interval '2 hours'
       FROM address a WHERE a.organization_id = :org AND a.id % 10 = 7""",
    """INSERT INTO message_status_event (message_id, status, source, at)
       SELECT m.id, 'sent', 'outbox', now() - interval '2 hours'
       FROM message m WHERE m.organization_id = :org AND m.reason = 'follow_up'""",
]


def app_for(database_url: str, instance: str):  # type: ignore[no-untyped-def]
    from gateway import create_app

    return create_app(
        {
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": instance,
            "SMS_TRANSPORT": "simulator",
            "EMAIL_TRANSPORT": "none",
            "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        }
    )


def seed(database_url: str, volunteers: int, friends: int) -> None:
    from gateway import migrate
    from gateway.community import organization
    from gateway.extensions import db

    app = app_for(database_url, tempfile.mkdtemp(prefix="kindred-bench-"))
    with app.app_context():
        migrate.upgrade("head")
        org = organization.default()
        db.session.commit()
        for statement in SEED:
            db.session.execute(text(statement), {"org": org.id, "volunteers": volunteers, "friends": friends})
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()


def child(mode: str, database_url: str) -> None:
    """Measure one run in this process and print it as JSON."""
    from gateway.community import organization, rounds
    from gateway.extensions import db
    from gateway.models import Person

    app = app_for(database_url, tempfile.mkdtemp(prefix="kindred-bench-"))
    with app.app_context():
        org = organization.default()
        started = time.perf_counter()
        if mode == "baseline":
            count, after = 0, 0
            while True:
                ids = db.session.scalars(
                    select(Person.id)
                    .where(
                        Person.organization_id == org.id,
                        Person.volunteer_since.is_not(None),
                        Person.id > after,
                    )
                    .order_by(Person.id)
                    .limit(rounds.BATCH)
                ).all()
                if not ids:
                    break
                count, after = count + len(ids), ids[-1]
            detail: dict[str, object] = {"streamed": count}
        else:
            result = rounds.preview(org, rounds.parse_audience(org, "all"))
            detail = {"will_get": result.count, "excluded": result.excluded, "deferred": result.deferred}
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, **detail}))


def measure(mode: str, database_url: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.round_plan", "--child", mode, "--database-url", database_url],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the {mode} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--volunteers", type=int, default=160_000)
    parser.add_argument("--friends", type=int, default=3, help="friends per volunteer")
    parser.add_argument("--child", choices=("baseline", "plan"), help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.database_url)
        return 0

    postgres = PostgresServer()
    try:
        database_url = postgres.create_database()
        started = time.perf_counter()
        seed(database_url, args.volunteers, args.friends)
        print(
            f"seeded {args.volunteers:,} volunteers, {args.friends} friends each, "
            f"in {time.perf_counter() - started:.0f} s"
        )
        baseline = measure("baseline", database_url)
        planned = measure("plan", database_url)
    finally:
        postgres.stop()

    print(
        f"\nplanning a round for all {args.volunteers:,} volunteers on PostgreSQL, "
        "each run in a child process of its own\n"
    )
    print(f"{'run':<40} {'wall s':>8} {'peak RSS MB':>12}")
    print(f"{'baseline: stream the audience ids':<40} {baseline['seconds']:8.2f} {baseline['peak_mb']:12.1f}")
    print(f"{'plan the round (rounds.preview)':<40} {planned['seconds']:8.2f} {planned['peak_mb']:12.1f}")
    print(
        f"{'ratio plan / baseline':<40} {planned['seconds'] / baseline['seconds']:7.1f}x "
        f"{planned['peak_mb'] / baseline['peak_mb']:11.2f}x"
    )
    print(
        f"\nplan: {planned['will_get']:,} will get a text, excluded {planned['excluded']}, "
        f"deferred {planned['deferred']:,}"
    )
    over = []
    if planned["seconds"] > LIMIT_SECONDS:
        over.append(f"over {LIMIT_SECONDS:.0f} s")
    if planned["peak_mb"] > LIMIT_MB:
        over.append(f"over {LIMIT_MB:.0f} MB")
    if over:
        print("missed: " + ", ".join(over))
        return 1
    print(f"within {LIMIT_SECONDS:.0f} s and {LIMIT_MB:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
