"""`kindred worker`: an RQ worker, with its scheduler, for Kindred's queues."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import RedisError
from rq import Queue, Worker

from gateway import jobs
from gateway.delivery.transports import sms_transport
from gateway.extensions import QUEUES, db, worker_redis


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run an RQ worker, with its scheduler, for Kindred's queues."""
    jobs.sweep_outbox.enqueue(job_id="kindred-sweep-outbox-start")
    sms_transport(current_app._get_current_object())  # built once, before RQ forks for each job
    db.engine.dispose()
    connection = worker_redis()
    queues = [Queue(name, connection=connection) for name in QUEUES]
    KindredWorker(queues, connection=connection).work(with_scheduler=True, burst=burst)


class KindredWorker(Worker):
    """RQ's worker, which also makes sure the outbox sweep is scheduled whenever it does its
    own maintenance (at start and every ten minutes)."""

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        try:
            jobs.ensure_sweep_scheduled()
        except RedisError:
            self.log.warning("could not check the outbox sweep's schedule", exc_info=True)
