"""`kindred worker`: an RQ worker, with its scheduler, for Kindred's queues."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from gateway import jobs
from gateway.extensions import QUEUES, db, queue, redis_client


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run an RQ worker, with its scheduler, for Kindred's queues."""
    from rq import Worker

    jobs.sweep_outbox.enqueue(job_id="kindred-sweep-outbox-start")
    db.engine.dispose()
    Worker([queue(name) for name in QUEUES], connection=redis_client()).work(with_scheduler=True, burst=burst)
