"""`kindred worker`: the senders (answering inbound texts and sending the outbox), and an RQ
worker with its scheduler for Kindred's other jobs, in one process."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker

from gateway import jobs
from gateway.delivery import sender
from gateway.extensions import QUEUES, worker_redis


@click.command("worker")
@click.option(
    "--burst", is_flag=True, help="Run the queued jobs, answer the texts waiting, send what is due, stop."
)
@with_appcontext
def worker(burst: bool) -> None:
    """Answer inbound texts, send the outbox (SEND_CONCURRENCY in flight) and run Kindred's
    queued jobs."""
    app = current_app._get_current_object()
    connection = worker_redis()
    queues = [Queue(name, connection=connection) for name in QUEUES]
    if burst:
        KindredWorker(queues, connection=connection).work(burst=True)
        jobs.drain()
        return
    jobs.sweep_outbox.enqueue(job_id="kindred-sweep-outbox-start")
    senders = sender.Sender(
        app, app.config["SEND_CONCURRENCY"], sender.wake_redis(app.config["REDIS_URL"]), jobs.ANSWERING
    )
    senders.start()
    try:
        KindredWorker(queues, connection=connection).work(with_scheduler=True)
    finally:
        senders.stop()


class KindredWorker(SimpleWorker):
    """RQ's worker, running each job in this process (a forked work-horse would inherit the
    sending threads' locks mid-use), which also makes sure the outbox sweep is scheduled
    whenever it does its own maintenance (at start and every ten minutes)."""

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        try:
            jobs.ensure_sweep_scheduled()
        except RedisError:
            self.log.warning("could not check the outbox sweep's schedule", exc_info=True)
