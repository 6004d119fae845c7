"""The worker's senders: threads that answer inbound texts and send the outbox's due messages,
many in flight at once.

A dispatcher thread claims due messages (`outbox.claim_due`: each marked `sending` and committed
before anything else happens to it) for the sending threads that are free, never more, and
hands one to each. A sending thread runs the rest of the outbox path for it, the same code a
single send runs: the sender's rate, the round and consent read again right before the provider
call, the call, the record. Each thread has its own app context, so its own database session,
and its own provider client, so its own pool of HTTP connections.

Threads rather than asyncio: the twilio and sendgrid clients and the database session are
synchronous, and a thread waiting for the provider's answer gives up the interpreter, so one
process keeps SEND_CONCURRENCY sends in flight through the outbox code as it is.

The same threads answer the inbound texts the webhook stored (given as `Answering`, from
gateway.sms): the dispatcher hands out the oldest waiting text of each sender, first, never two
of one sender's at once, and at most a quarter of the threads to answering, so sends go on.

When nothing is due the dispatcher waits for a wake-up (pushed on a Redis list once a
transaction that queued a message commits) or POLL_SECONDS, whichever comes first. Redis only
makes a send sooner: a message whose time comes (a retry, a deferral), or one whose wake-up was
lost, is claimed within a poll.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from queue import SimpleQueue
from typing import NamedTuple

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError

from gateway.delivery import outbox
from gateway.extensions import db

log = logging.getLogger(__name__)

WAKE_KEY = "kindred:outbox:wake"
POLL_SECONDS = 1.0
# While some sending threads are busy, the dispatcher lets this long pass before it claims for
# the ones that came free, so that one claim serves several of them rather than one each.
GATHER_SECONDS = 0.02
# How many due messages `drain` claims at a time.
DRAIN_BATCH = 50


def wake_redis(url: str) -> Redis:
    """A connection for the dispatcher's wait for wake-ups: a hung Redis times it out, and the
    dispatcher goes on polling the outbox."""
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=POLL_SECONDS + 2)


def wake(redis: Redis) -> None:
    """Tell a waiting dispatcher that messages were queued (the list holds one wake-up at most)."""
    pipe = redis.pipeline(transaction=False)
    pipe.lpush(WAKE_KEY, 1)
    pipe.ltrim(WAKE_KEY, 0, 0)
    pipe.execute()


def drain() -> int:
    """Send, in this thread and one after another, every message that is due now: the test
    worker's way, and `kindred worker --burst`'s. Returns how many were claimed."""
    claimed = 0
    seen: set[int] = set()
    while claims := outbox.claim_due(DRAIN_BATCH):
        # A message is due at most once a run: whatever puts one back (a backoff, a deferral, a
        # hold behind its person's text) puts it back for later. One due again at once would be
        # claimed for ever, so it is given back (for its backoff) and the run ends.
        again = [claim for claim in claims if claim.message_id in seen]
        for claim in claims:
            if claim not in again:
                send(claim)
        seen.update(claim.message_id for claim in claims)
        claimed += len(claims)
        if again:
            log.error("sender: messages %s were due again at once; given back", [c.message_id for c in again])
            for claim in again:
                give_back(claim)
            break
    return claimed


def send(claim: outbox.Claim) -> bool:
    """Send one claimed message. An error is logged with its traceback, what the outbox recorded
    before it stands, and the claim is given back if its provider call was never noted. Returns
    False when that could not be done yet (the database still away): `give_back` later."""
    try:
        outbox.send_claimed(claim)
        return True
    except Exception:
        log.exception("sender: message %s could not be sent", claim.message_id)
        return give_back(claim)
    finally:
        db.session.remove()


def give_back(claim: outbox.Claim) -> bool:
    """Queue again a claim an error cut short (`outbox.release`); False if the database could not
    be reached. Left alone, the sweeper would release it once its lease ran out."""
    db.session.remove()  # the failed transaction, and its connection with it
    try:
        outbox.release(claim)
        return True
    except Exception:
        log.warning("sender: message %s cannot be given back yet", claim.message_id, exc_info=True)
        db.session.remove()
        return False


class Answering(NamedTuple):
    """How the senders answer inbound texts: `waiting(limit, busy)` lists up to `limit` texts
    waiting, as (message id, sender's address id), none of the addresses in `busy`; `answer`
    answers one (idempotent, and it keeps each sender's texts in order)."""

    waiting: Callable[[int, frozenset[int]], list[tuple[int, int]]]
    answer: Callable[[int], object]


class _Answer(NamedTuple):
    message_id: int
    address_id: int


class Sender:
    """A dispatcher and `threads` sending threads, answering texts (with `answering`) and
    sending for `app` until stopped."""

    def __init__(self, app: Flask, threads: int, redis: Redis, answering: Answering | None = None):
        self.app = app
        self.threads = threads
        self.redis = redis  # its own connection: a wait for a wake-up blocks on it
        self.answering = answering
        self._answering_at_most = max(1, threads // 4)
        self._busy: set[int] = set()  # the addresses whose text a thread is answering
        self._busy_lock = threading.Lock()
        self._work: SimpleQueue[outbox.Claim | _Answer | None] = SimpleQueue()
        self._idle = threads
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._running: list[threading.Thread] = []
        self._to_give_back: list[tuple[outbox.Claim, float]] = []  # and when each was cut short
        self._to_give_back_lock = threading.Lock()

    def start(self) -> None:
        """Start the sending threads and the dispatcher."""
        for number in range(self.threads):
            self._running.append(threading.Thread(target=self._send, name=f"sender-{number}", daemon=True))
        self._running.append(threading.Thread(target=self._dispatch, name="sender-dispatch", daemon=True))
        for thread in self._running:
            thread.start()
        log.info("sender: sending with %s threads", self.threads)

    def stop(self, timeout: float = 30.0) -> None:
        """Claim nothing more, let the sends in flight finish (`timeout` seconds at most), and
        stop. A send cut off by the timeout stays `sending` until its lease runs out."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        dispatcher, senders = self._running[-1], self._running[:-1]
        dispatcher.join(timeout)  # what it claimed is on the work queue, ahead of the ends
        for _ in senders:
            self._work.put(None)
        for thread in senders:
            thread.join(timeout)
        left = [thread.name for thread in self._running if thread.is_alive()]
        if left:
            log.warning("sender: %s sending thread(s) still busy at shutdown", len(left))

    def _dispatch(self) -> None:
        with self.app.app_context():
            while not self._stopping.is_set():
                free = self._take_idle()
                if not free:
                    continue
                self._give_back_claims()
                work: list[outbox.Claim | _Answer] = []
                try:
                    work.extend(self._texts_to_answer(free))
                    work.extend(outbox.claim_due(free - len(work)) if free > len(work) else [])
                    db.session.remove()
                except Exception:
                    # Whatever it was (the database down, say), the dispatcher goes on, with its
                    # session discarded: one cut off mid-statement refuses every later one.
                    db.session.remove()
                    log.exception("sender: could not claim due messages; trying again in %s s", POLL_SECONDS)
                    self._stopping.wait(POLL_SECONDS)
                for item in work:
                    self._work.put(item)
                self._give_back(free - len(work))
                if len(work) < free:
                    self._wait_for_wake()

    def _texts_to_answer(self, free: int) -> list[_Answer]:
        """The texts to answer now: each sender's oldest, none of a sender being answered."""
        if self.answering is None:
            return []
        with self._busy_lock:
            room = min(free, self._answering_at_most - len(self._busy))
            busy = frozenset(self._busy)
        if room <= 0:
            return []
        texts = [_Answer(*each) for each in self.answering.waiting(room, busy)]
        with self._busy_lock:
            self._busy.update(text.address_id for text in texts)
        return texts

    def _send(self) -> None:
        with self.app.app_context():
            while (item := self._work.get()) is not None:
                try:
                    if isinstance(item, _Answer):
                        self._answer(item)
                    elif not send(item):
                        with self._to_give_back_lock:
                            self._to_give_back.append((item, time.monotonic()))
                finally:
                    self._give_back(1)

    def _answer(self, text: _Answer) -> None:
        """Answer one text; an error is logged, and the text waits for the next look."""
        assert self.answering is not None
        try:
            self.answering.answer(text.message_id)
        except Exception:
            log.exception("sender: message %s could not be answered yet", text.message_id)
        finally:
            db.session.remove()
            with self._busy_lock:
                self._busy.discard(text.address_id)

    def _give_back_claims(self) -> None:
        """Give back the claims errors cut short while the database was away, now that it may be
        back, stopping at the first it still cannot take; those whose lease has run out
        meanwhile are the sweeper's."""
        with self._to_give_back_lock:
            waiting, self._to_give_back = self._to_give_back, []
        lease = outbox.CLAIM_LEASE.total_seconds()
        waiting = [(claim, since) for claim, since in waiting if time.monotonic() - since < lease]
        while waiting and give_back(waiting[0][0]):
            waiting.pop(0)
        with self._to_give_back_lock:
            self._to_give_back.extend(waiting)

    def _take_idle(self) -> int:
        """Wait until a sending thread is idle, and take every idle one: at once when all are,
        else GATHER_SECONDS later."""
        with self._changed:
            while not self._idle and not self._stopping.is_set():
                self._changed.wait(POLL_SECONDS)
            busy = self._idle < self.threads
        if busy:
            self._stopping.wait(GATHER_SECONDS)
        with self._changed:
            taken, self._idle = self._idle, 0
            return 0 if self._stopping.is_set() else taken

    def _give_back(self, count: int) -> None:
        if count:
            with self._changed:
                self._idle += count
                self._changed.notify()

    def _wait_for_wake(self) -> None:
        """Wait for a wake-up, POLL_SECONDS at most."""
        try:
            if self.redis.blpop([WAKE_KEY], timeout=POLL_SECONDS) is not None:
                self.redis.delete(WAKE_KEY)  # several wake-ups at once need one claim
        except (RedisError, OSError):
            log.warning("sender: could not wait for a wake-up; polling", exc_info=True)
            self._stopping.wait(POLL_SECONDS)
