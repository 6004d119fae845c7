"""The outbox and its consent guard: the only code that calls a transport.

Every outbound message is first committed as a `queued` row that says why it exists. The
worker's senders (gateway.delivery.sender) claim due rows from the table itself, the oldest due
message of each address first and replies ahead of what the system starts, mark each `sending`
before the provider call, check consent again right before it, send, and record the outcome.
The table is the queue: Redis only wakes the senders sooner, so a Redis outage delays nothing
committed by more than a poll, and nothing is sent twice.
"""

from __future__ import annotations

import logging
import random
import time as wall_clock
from collections.abc import Collection
from datetime import datetime, time, timedelta
from functools import cache
from typing import Any, NamedTuple

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import Select, and_, bindparam, func, insert, literal, or_, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased

from flows import pacing
from flows.events import Consent
from gateway import clock
from gateway.delivery import consent, handoff, mail_content, rate
from gateway.delivery.addresses import (
    ERASED_PREFIX,
    complete_erasure,
    mark_undeliverable,
    organization_number,
    redact,
)
from gateway.delivery.status import apply_early, history, record_status
from gateway.delivery.transports import (
    Failure,
    OutboundSms,
    SendResult,
    TransportError,
    email_transport,
    sms_transport,
)
from gateway.extensions import db, redis_client
from gateway.models import (
    Address,
    EarlyStatus,
    Mailing,
    Message,
    MessageStatusEvent,
    Organization,
    PromptRound,
    text_waiting_from,
)

log = logging.getLogger(__name__)

# Why a message may exist. Replies answer an inbound text; the rest the system starts itself
# and need an opt-in on record.
# An organizer's answer from the console inbox is a reply too: to the text they sent.
# An email sign-up's one confirmation email answers the request (a text or the /join form).
REPLY_REASONS = frozenset(
    {"reply", "opt_in_request", "help", "organizer_reply", "email_confirmation"}
)  # within the reply budget
AFTER_OPT_OUT = frozenset({"opt_out_confirmation", "help"})  # carriers require these even then
INITIATED_REASONS = frozenset({"follow_up", "reminder", "team_relay", "organizer", "prompt_round", "mailing"})
REASONS = REPLY_REASONS | AFTER_OPT_OUT | INITIATED_REASONS

# An organizer's answer from the inbox is a reply while the text it answers is fresh; later it
# is a message the organization starts, with the opt-in, calling window and caps that needs.
ANSWER_FRESH = timedelta(hours=24)

# At most this many replies (HELP included) to one address in REPLY_WINDOW: a person never
# needs more, and it ends a loop with another auto-responder. STOP confirmations always go.
REPLY_LIMIT = 30
REPLY_WINDOW = timedelta(hours=1)

# Retries of a send the provider could not take for a passing reason: the delay before each
# (a random part of it is left off, so sends that failed together do not retry together).
RETRY_DELAYS = (10, 60, 300, 900)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
RETRY_JITTER = 0.25  # up to this share of a delay is left off
# A failure that may pass (an unreachable handset) fails the message after this many tries.
FAIL_AFTER_ATTEMPTS = 3
# A text whose sender has no token of its rate left waits this long at most in the worker; a
# longer wait puts it back in the queue for then, so the worker goes on with other senders'.
MAX_RATE_WAIT = 2.0
# How old what a send read of its recipient as it was loaded may be and still be its consent
# check: well over a token's round trip to Redis, even with the sending threads taking turns,
# well under a wait for a Redis that does not answer. A wait for the sender's token counts in
# its age: a longer one has it read again.
SEEN_FRESH = 0.05
# A text Kindred starts takes a place in its sender's line only if its token comes this soon
# (seconds); else it goes back to the queue and asks again later, spread over up to this long.
INITIATED_MOST_AHEAD = 0.5
RATE_RETRY_SPREAD_MAX = 60.0
# The leases of a claim. A row claimed this long ago that never called the provider (its worker
# died first) is queued again: nobody sent it. One that called this long ago and never recorded
# the outcome is reconciled from what is known of its send, else marked failed: never sent again.
CLAIM_LEASE = timedelta(minutes=2)
LOST_AFTER = timedelta(minutes=10)
REPLY_PRIORITY, INITIATED_PRIORITY = 0, 1


class SendNotRecordedError(Exception):
    """The provider took a message but recording that failed; the job raises this so it is
    not reported as a success, and its retry reconciles the message."""


# What the provider said of sends the database could not record, by message id (Redis hash).
_UNRECORDED = "kindred:unrecorded-sends"


def queue_sms(
    address: Address,
    body: str,
    reason: str,
    in_reply_to: Message | None = None,
    round_id: int | None = None,
) -> Message:
    """Put a text in the outbox; once the caller commits, it goes to the queue. `round_id`
    names the prompt round it is part of."""
    if reason not in REASONS:
        raise ValueError(f"unknown outbound reason {reason!r}")
    message = Message(
        organization_id=address.organization_id,
        direction="outbound",
        channel="sms",
        address_id=address.id,
        body=body,
        status="queued",
        reason=reason,
        in_reply_to_id=in_reply_to.id if in_reply_to else None,
        round_id=round_id,
        next_attempt_at=clock.now(),
    )
    db.session.add(message)
    db.session.flush()
    _queued(message)
    return message


def queue_email(
    address: Address,
    subject: str,
    body: str,
    reason: str,
    in_reply_to: Message | None = None,
    mailing_id: int | None = None,
    organizer_id: int | None = None,
) -> Message:
    """Put an email in the outbox (`body` is Markdown, rendered when it is sent); once the
    caller commits, it goes to the queue. Its Message-ID header is fixed now, so a retried send
    is the same email to the recipient's mail program."""
    if reason not in REASONS:
        raise ValueError(f"unknown outbound reason {reason!r}")
    if address.channel != "email":
        raise ValueError("queue_email needs an email address")
    message = Message(
        organization_id=address.organization_id,
        direction="outbound",
        channel="email",
        address_id=address.id,
        subject=mail_content.subject_line(subject),
        body=body,
        status="queued",
        reason=reason,
        in_reply_to_id=in_reply_to.id if in_reply_to else None,
        mailing_id=mailing_id,
        organizer_id=organizer_id,
        next_attempt_at=clock.now(),
    )
    db.session.add(message)
    db.session.flush()
    message.header_id = mail_content.new_header_id(message.id)
    _queued(message)
    return message


def _queued(message: Message) -> None:
    """Give a new outbox row its priority and history, and wake a sender once it commits.
    What Kindred starts itself waits behind every reply (an organizer's answer to a text more
    than a day old is a message the organization starts), so a round never delays an answer."""
    message.priority = INITIATED_PRIORITY if starts_conversation(message) else REPLY_PRIORITY
    history(message, "queued", source="outbox")
    handoff.after_commit(handoff.SEND, message.id)


def starts_conversation(message: Message) -> bool:
    """Whether the organization starts this message (an opt-in, the calling window and the
    caps apply) rather than answering a text the person just sent."""
    if message.reason in INITIATED_REASONS:
        return True
    if message.reason == "organizer_reply":
        return not answers_fresh_text(message)
    return False


def answers_fresh_text(message: Message) -> bool:
    """Whether this message answers a text from the same address sent at most ANSWER_FRESH
    before it was written."""
    original = db.session.get(Message, message.in_reply_to_id) if message.in_reply_to_id else None
    return (
        original is not None
        and original.direction == "inbound"
        and original.address_id == message.address_id
        and message.created_at - original.created_at <= ANSWER_FRESH
    )


class Recipient(NamedTuple):
    """What the consent guard reads of a message's recipient, at once, right before its send."""

    address: str  # the phone number or email the message goes to
    undeliverable: bool
    consent: Consent  # on the message's channel
    replies_sent: int  # replies sent to the address within REPLY_WINDOW (read for replies)
    text_waiting: bool  # a text from the address waits to be answered (it may be a STOP)


def recipient(message: Message) -> Recipient:
    """Read what the consent guard needs of the message's recipient, in one statement."""
    reply = message.reason in REPLY_REASONS
    found = {"address_id": message.address_id, "channel": message.channel}
    if reply:
        found["since"] = clock.now() - REPLY_WINDOW
    return _recipient(*db.session.execute(_recipient_query(reply), found).one())


def _recipient(address: str, undeliverable: bool, kind: str | None, replies: int, waiting: Any) -> Recipient:
    """A `Recipient` from what `_recipient_columns` read."""
    return Recipient(address, undeliverable, consent.KINDS[kind], replies, bool(waiting))


@cache
def _recipient_query(reply: bool) -> Select[Any]:
    """What `recipient` reads, of the address `address_id` (and for a reply, the replies sent to
    it `since`): built once, as the statements every send runs are, since building one costs
    more than running it."""
    address_id = bindparam("address_id")
    return select(*_recipient_columns(address_id, bindparam("channel"), reply)).where(
        Address.id == address_id
    )


def _recipient_columns(address_id: Any, channel: Any, reply: bool) -> tuple[Any, ...]:
    """The columns of a `Recipient`, of the address `address_id` on `channel` (each a parameter,
    or a column of the query they are part of), and for a reply, the replies sent `since`."""
    return (
        Address.value,
        Address.undeliverable_since.is_not(None),
        consent.latest_kind(Address.id, channel),
        _replies_sent_since(address_id, bindparam("since")) if reply else literal(0),
        text_waiting_from(address_id),
    )


def blocked_reason(message: Message, to: Recipient) -> str | None:
    """Why the consent guard stops this message to `to` right now, or None if it may go."""
    if to.address.startswith(ERASED_PREFIX):
        return "erased"
    if message.reason not in AFTER_OPT_OUT and to.consent is Consent.OPTED_OUT:
        return "opted_out"
    if to.undeliverable:
        return "undeliverable"
    if starts_conversation(message):
        return None if to.consent is Consent.OPTED_IN else "no_opt_in"
    if message.reason in REPLY_REASONS and to.replies_sent >= REPLY_LIMIT:
        return "reply_limit"
    return None


def last_queued(address: Address, reason: str) -> datetime | None:
    """When a message for `reason` to `address` was last put in the outbox, if ever."""
    return db.session.scalar(
        select(func.max(MessageStatusEvent.at))
        .join(Message, MessageStatusEvent.message_id == Message.id)
        .where(
            Message.address_id == address.id,
            Message.reason == reason,
            MessageStatusEvent.status == "queued",
        )
    )


def _replies_sent_since(address_id: Any, since: Any) -> Any:
    # The messages counted are an alias: `address_id` may be a column of the message a query
    # loads.
    sent = aliased(Message)
    return (
        select(func.count())
        .select_from(MessageStatusEvent)
        .join(sent, MessageStatusEvent.message_id == sent.id)
        .where(
            sent.address_id == address_id,
            _one_of(sent.reason, REPLY_REASONS),
            MessageStatusEvent.status == "sent",
            MessageStatusEvent.at > since,
        )
        .scalar_subquery()
    )


def _one_of(column: Any, values: Collection[str]) -> Any:
    """`column IN values`, each value a parameter of its own: the statement is compiled once, where
    an expanding list of values is rendered into it again at every execution."""
    return column.in_([literal(value) for value in sorted(values)])


class Claim(NamedTuple):
    """A message claimed for sending, which try of it the claim is, and its priority."""

    message_id: int
    attempt: int
    priority: int = INITIATED_PRIORITY  # as far as the claimer knows: the send takes locks


def claim_due(limit: int, now: datetime | None = None) -> list[Claim]:
    """Claim up to `limit` messages that are due, for this worker to send: each is marked
    `sending` (its claim, counted as a try) and committed before any provider call, so no other
    worker takes it. Replies go first, then what the system starts, each oldest first. A
    person's messages go one at a time and in order: a message waits while another to the same
    address is being sent, or is waiting ahead of it (an earlier one of the same priority, or
    any reply), and while a text from that address waits to be answered (it may be a STOP).
    Rows another worker is claiming right now are skipped, not waited for. Returns
    the claims, each with the try it is (`attempts`): the sender's proof the claim is still its
    own."""
    due = {"limit": limit, "now": now or clock.now()}
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_IN_ORDER)
    claimed = db.session.execute(_claim_statement(), due).all()
    db.session.commit()
    return [Claim(message_id, attempt, priority) for priority, message_id, attempt in sorted(claimed)]


# For the claim's transaction on PostgreSQL: find the due messages by walking the outbox's
# index (ix_message_due) in the order they are claimed, stopping at the limit. A round puts
# thousands of messages in the outbox at once, and until the table's statistics catch up (a
# minute or more) the planner believes a handful are queued, and would rather test every
# queued message and sort them: tens of milliseconds a claim once a few thousand wait, while
# the sending threads wait for work. Neither setting forbids a plan; each makes one costly.
_IN_ORDER = text(
    "SELECT set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true)"
)


@cache
def _claim_statement() -> Any:
    """`claim_due`'s statement (parameters `limit` and `now`), built once: building it costs
    more than running it."""
    now = bindparam("now")
    other = aliased(Message)
    ahead = select(other.id).where(
        other.address_id == Message.address_id,
        other.direction == "outbound",
        other.id != Message.id,
        or_(
            other.status == "sending",  # one at a time
            and_(other.status == "queued", other.priority < Message.priority),  # replies first
            and_(
                other.status == "queued",
                other.priority == Message.priority,
                other.id < Message.id,
                # a paused round's message waits for its round, not everything after it
                or_(other.round_id.is_(None), other.round_id.not_in(_paused_rounds())),
            ),
        ),
    )
    # Materialized, so the rows are picked once: a subquery the planner runs again could skip
    # the rows it just locked and pick more than `limit`.
    due = (
        select(Message.id)
        .where(
            Message.status == "queued",
            Message.direction == "outbound",
            func.coalesce(Message.next_attempt_at, now) <= now,
            or_(Message.round_id.is_(None), Message.round_id.not_in(_paused_rounds())),
            # A STOP's confirmation (and HELP) never waits behind what consent will suppress;
            # anything else waits behind a text from the person that waits for its turn.
            or_(
                _one_of(Message.reason, AFTER_OPT_OUT),
                and_(~ahead.exists(), ~text_waiting_from(Message.address_id)),
            ),
        )
        .order_by(Message.priority, Message.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True, of=Message)
        .cte("due")
        .prefix_with("MATERIALIZED")
    )
    return (
        update(Message)
        .where(Message.id.in_(select(due.c.id)), Message.status == "queued")
        .values(status="sending", attempts=Message.attempts + 1, called_at=None, updated_at=now)
        .returning(Message.priority, Message.id, Message.attempts)
        .execution_options(synchronize_session=False)
    )


def send_queued_message(message_id: int) -> str:
    """Claim one outbox row if it is still queued, and send it; returns its status afterwards.

    Idempotent: the row is claimed with a conditional update, so a second call for the same
    row (a duplicate, a stray job) finds nothing to do but, for a row a crashed recording left
    `sending`, to reconcile it from what is known of its send.
    """
    attempt = db.session.scalar(
        update(Message)
        .where(Message.id == message_id, Message.direction == "outbound", Message.status == "queued")
        .values(status="sending", attempts=Message.attempts + 1, called_at=None, updated_at=clock.now())
        .returning(Message.attempts)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if attempt is None:
        message = db.session.get(Message, message_id)
        if message is None:
            return "missing"
        return reconcile(message) if message.status == "sending" else message.status
    return send_claimed(Claim(message_id, attempt))


def release(claim: Claim) -> bool:
    """Queue again, after its backoff, a claim that an error (the database going away, say) cut
    short before its provider call was noted: nobody sent it, so it need not wait out its lease.
    The try counts, as the sweeper's release counts it, so a message that fails this way every
    time still ends failed. Returns whether it was queued again: not when the claim is no longer
    this one, its call was noted, or it has had its last try (the sweeper settles those)."""
    now = clock.now()
    released = db.session.execute(
        update(Message)
        .where(*_uncalled_claim(claim.message_id, claim.attempt), Message.attempts < MAX_ATTEMPTS)
        .values(status="queued", next_attempt_at=now + retry_delay(claim.attempt), updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(released)


def send_claimed(claim: Claim) -> str:
    """Send a message this worker claimed (marked `sending`); returns its status afterwards. A
    message of a prompt round or mailing that has nothing left to send marks it done."""
    if claim.priority == REPLY_PRIORITY:
        _without_transaction()  # a reply takes no lock on the way to its provider call
    loaded = {"message_id": claim.message_id, "since": clock.now() - REPLY_WINDOW}
    found = db.session.execute(_claimed_query(), loaded).first()
    if found is None:
        db.session.commit()  # and out of a reply's statements without a transaction
        return "missing"
    message, several, *seen = found
    round_id, mailing_id = message.round_id, message.mailing_id
    seen_at = wall_clock.monotonic()
    status = _send_claimed(message, claim.attempt, several, _recipient(*seen), seen_at)
    settle_round(round_id)
    settle_mailing(mailing_id)
    return status


@cache
def _claimed_query() -> Select[Any]:
    """A claimed message, whether the instance serves several organizations, and what the
    consent guard reads of its recipient (for a reply, the replies sent to them `since`): a
    send whose consent is read again no later (see `_send_claimed`) reads it once."""
    return (
        select(
            Message, _several_organizations(), *_recipient_columns(Message.address_id, Message.channel, True)
        )
        .join(Address, Address.id == Message.address_id)
        .where(Message.id == bindparam("message_id"))
    )


def _send_claimed(message: Message, attempt: int, several: bool, seen: Recipient, seen_at: float) -> str:
    """Send the claimed `message`, whose recipient was `seen` as it was loaded (at `seen_at`, on
    the monotonic clock)."""
    message_id = message.id  # for when a failed write leaves the session unreadable

    def mine() -> bool:
        """Whether the claim is still this worker's (its lease may have run out while it
        waited), locking the row until what is decided for it is committed. Every way out
        before the provider call asks first."""
        _in_transaction_from_here()
        return _still_claimed(message_id, attempt)

    # The sender's rate first: whatever the wait, the round and the caps are read after it, and
    # consent too unless what the load read is still SEEN_FRESH, right before the provider call.
    sender = _sender(message, several) if message.channel == "sms" else None
    wait, in_line = _sender_rate_wait(message, sender)
    while wait:
        if wait > MAX_RATE_WAIT or not in_line:
            until = clock.now() + timedelta(seconds=wait)
            return _defer(message, until, note=False) if mine() else _taken(message_id)
        # No lock is held while waiting for the sender's next token. The commit expires the
        # message, which is read again after the wait: an erasure may have scrubbed its body.
        db.session.commit()
        wall_clock.sleep(wait)
        wait, in_line = _sender_rate_wait(message, sender)  # its own token, now due: no other is taken

    initiated = starts_conversation(message)
    if initiated or message.round_id is not None:
        _in_transaction_from_here()  # a lock is taken: held until the call is noted
    if initiated:
        # Serialize the system's own messages to one person: the lock is held through the
        # provider call, so a second worker sees this send before it counts the caps.
        db.session.execute(select(Address.id).where(Address.id == message.address_id).with_for_update())
    round_status = _round_status(message)
    if round_status == "paused":
        return _hold(message) if mine() else _taken(message_id)
    if round_status == "cancelled":
        return _finish(message, "suppressed", "round_cancelled") if mine() else _taken(message_id)
    # Consent is read right before the provider call, after that lock or the round's: what was
    # seen as the message was loaded serves only when neither was taken and it is SEEN_FRESH.
    locked = initiated or message.round_id is not None
    to = seen if not locked and wall_clock.monotonic() - seen_at <= SEEN_FRESH else recipient(message)
    blocked = blocked_reason(message, to)
    if blocked:
        log.info("outbox: message %s to %s suppressed (%s)", message.id, redact(to.address), blocked)
        return _finish(message, "suppressed", blocked) if mine() else _taken(message_id)
    if message.reason not in AFTER_OPT_OUT and to.text_waiting:
        # They texted since it was claimed, and that text waits for its turn (it may be a
        # STOP): this goes after it, claimed again once it is answered.
        return _hold(message) if mine() else _taken(message_id)
    if initiated:
        now = clock.now()
        allowed = _allowed_at(message, now)
        if allowed > now:
            return _defer(message, allowed) if mine() else _taken(message_id)

    app = current_app._get_current_object()
    if message.channel == "email":
        mail = email_transport(app)
        if mail is None:
            return _finish(message, "suppressed", "email_off") if mine() else _taken(message_id)
        email = mail_content.compose(message)
        send = lambda: mail.send(email)  # noqa: E731
    else:
        sms = OutboundSms(to.address, message.body, _status_callback(message.id), sender)
        transport = sms_transport(app)  # built before the call is noted: it can take a while
        send = lambda: transport.send(sms)  # noqa: E731
    # No lock is held through the provider call (on SQLite that would be the database's): the
    # row is `sending` now, which the caps of a second worker count, and consent was just read.
    # The call is noted first, on the claim this worker holds: a claim the sweeper gave to
    # another worker (this one stalled past its lease) is not this worker's to send any more.
    if not _note_call(message_id, attempt):
        return _taken(message_id)
    db.session.commit()
    try:
        result = send()
    except TransportError as exc:
        return _failed_attempt(message, exc)
    try:
        return _record_sent(message_id, result, alone=True)
    except SQLAlchemyError as exc:
        # The provider took it, and it must not be sent again: the row stays `sending` until
        # what is known of the send (kept in Redis, or the status callback) is recorded.
        _remember_unrecorded(message_id, result)
        db.session.rollback()
        raise SendNotRecordedError(
            f"message {message_id}: sent as {result.provider_id}, but recording it failed"
        ) from exc


def _without_transaction() -> None:
    """On PostgreSQL, run the session's statements from here until it commits without a
    transaction, each committed as it runs: for a send's reads and its fenced writes, which
    need no lock held between them, this saves the BEGIN and COMMIT round trips (a round trip
    costs the worker about a twentieth of a send's processor time). The session must have no
    transaction open."""
    if db.session.get_bind().dialect.name == "postgresql" and not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _in_transaction_from_here() -> None:
    """What follows takes a lock and writes under it: if the session's statements so far ran
    without a transaction (`_without_transaction`), end that, so what follows is one."""
    if not db.session().in_transaction():
        return
    if db.session.connection().get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        db.session.commit()  # nothing to commit: each statement was


def _uncalled_claim(message_id: Any, attempt: Any, of: Any = Message) -> tuple[Any, ...]:
    """The row of try `attempt` of a message, while that try is claimed and has not called the
    provider: the fence every write of a claim's sender is made through. `of` is the model, or
    for a statement on the table alone, its columns (`_MESSAGE`)."""
    return (
        of.id == message_id,
        of.status == "sending",
        of.attempts == attempt,
        of.called_at.is_(None),
    )


# The message table's columns: a send's own writes are statements on the table, which skip the
# ORM's handling of an update (a quarter of a millisecond each; they touch no loaded object).
_MESSAGE = Message.__table__.c
_EVENT = MessageStatusEvent.__table__.c


def _still_claimed(message_id: int, attempt: int) -> bool:
    """Whether try `attempt` of the message is still claimed and has not called the provider,
    locking the row until the caller commits."""
    found = db.session.scalar(
        select(Message.id).where(*_uncalled_claim(message_id, attempt)).with_for_update(of=Message)
    )
    return found is not None


def _note_call(message_id: int, attempt: int) -> bool:
    """Note that this worker is calling the provider for the message, if try `attempt` is still
    claimed and has not called; returns whether it was."""
    call = {"message_id": message_id, "attempt": attempt, "now": clock.now()}
    return bool(db.session.execute(_note_call_statement(), call).rowcount)


@cache
def _note_call_statement() -> Any:
    return (
        update(Message.__table__)
        .where(*_uncalled_claim(bindparam("message_id"), bindparam("attempt"), of=_MESSAGE))
        .values(called_at=bindparam("now"), updated_at=bindparam("now"))
    )


def _taken(message_id: int) -> str:
    """Leave a message whose claim ran out while this worker waited: another has it now."""
    db.session.rollback()
    log.warning("outbox: message %s was claimed again while this worker waited; leaving it", message_id)
    return "taken"


def reconcile(message: Message, provider_id: str | None = None) -> str:
    """Record the send of a message left `sending` because recording it failed, from its
    provider id: the one given (a status callback naming this message), else the one kept in
    Redis when recording failed. Without either, nothing changes; the sweeper later marks the
    message failed (`worker_lost`), which a later callback naming it still corrects. Returns
    the message's status."""
    if not _unconfirmed(message):
        return message.status
    result = SendResult(provider_id, "sent") if provider_id else _unrecorded(message.id)
    if result is None:
        return message.status
    message_id, round_id, mailing_id = message.id, message.round_id, message.mailing_id
    status = _record_sent(message_id, result)
    _forget_unrecorded(message_id)
    log.info("outbox: message %s reconciled as sent", message_id)
    settle_round(round_id)
    settle_mailing(mailing_id)
    return status


def _unconfirmed(message: Message) -> bool:
    """Whether the message's send was never recorded: still `sending`, or given up on as
    `worker_lost`, with no provider id."""
    lost = message.status == "failed" and message.error_code == "worker_lost"
    return (message.status == "sending" or lost) and message.provider_id is None


def _unconfirmed_row(of: Any = Message) -> tuple[Any, ...]:
    """`_unconfirmed`, as the condition on the message's row (`of`: as for `_uncalled_claim`)."""
    return (
        of.provider_id.is_(None),
        or_(
            of.status == "sending",
            and_(of.status == "failed", of.error_code == "worker_lost"),
        ),
    )


def _record_sent(message_id: int, result: SendResult, alone: bool = False) -> str:
    """Record that the provider took the message, unless a status callback naming it was
    quicker and did (its row lock orders the two). The usual send is a few statements; the
    message is loaded, and locked, only when there is more to do (statuses that came early, a
    status other than sent, an erasure waiting for it).

    `alone`: the caller holds no transaction open (a sender, after its provider call). On
    PostgreSQL the mark (with its note and the read of what more there is to do, one
    statement) then commits by itself on a connection of its own, and what more there is to
    do is a transaction of its own after it: should the worker die between the
    two, the sweeper finishes the erasure and applies the early statuses; a status other than
    sent in the provider's answer (rare: it answers queued or accepted) waits for its status
    callback. Otherwise all of it is one transaction, the caller's."""
    mark, note, read = _record_sent_statements()
    sent = {"message_id": message_id, "provider_id": result.provider_id, "now": clock.now()}
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement: what it reads of the address is as the statement began, so an
        # erasure that committed while the mark waited for the message's row is not seen
        # here; the sweeper finishes it (complete_pending_erasures), as for a dying sender.
        if alone:  # on a connection of its own, outside the session's transactions
            assert not db.session().in_transaction(), "a lock the session holds would stall the mark"
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                recorded = connection.execute(_mark_and_note(), sent).first()
        else:
            recorded = db.session.execute(_mark_and_note(), sent).first()
    else:
        address_id = db.session.scalar(mark, sent)
        if address_id is not None:
            db.session.execute(note, sent)
        # A statement of its own, after the mark: if the mark waited for the database (an
        # erasure blanking the message), this reads what that transaction committed.
        found = {"address_id": address_id, "provider_id": result.provider_id}
        recorded = db.session.execute(read, found).first() if address_id is not None else None
    if recorded is None:
        status = db.session.scalar(select(Message.status).where(Message.id == message_id))
        db.session.commit()
        return status or "missing"
    address, erasing, arrived_early = recorded
    status = "sent"
    if erasing or arrived_early or result.status != "sent":
        _in_transaction_from_here()
        message = db.session.scalar(
            select(Message)
            .where(Message.id == message_id)
            .with_for_update(of=Message)
            .execution_options(populate_existing=True)
        )
        assert message is not None
        if erasing:
            complete_erasure(message.address)
        if result.status != "sent":
            record_status(message, result.status, source="provider")
        apply_early(message)
        status = message.status
    if db.session().in_transaction():  # not after a mark on its own connection, with no more to do
        db.session.commit()
    log.info("outbox: message %s sent to %s", message_id, redact(address))
    return status


@cache
def _record_sent_statements() -> tuple[Any, Any, Any]:
    """`_record_sent`'s statements: mark the message sent (returning its address), note it in
    its history, and read what else its recording needs."""
    mark = (
        update(Message.__table__)
        .where(_MESSAGE.id == bindparam("message_id"), *_unconfirmed_row(of=_MESSAGE))
        .values(
            provider_id=bindparam("provider_id"),
            status="sent",
            error_code=None,
            next_attempt_at=None,
            updated_at=bindparam("now"),
        )
        .returning(_MESSAGE.address_id)
    )
    # On the table, not the model: the ORM would take a dictionary of parameters for a bulk insert.
    note = insert(MessageStatusEvent.__table__).values(
        message_id=bindparam("message_id"), status="sent", source="outbox", at=bindparam("now")
    )
    read = select(Address.value, Address.pending_erasure, _arrived_early()).where(
        Address.id == bindparam("address_id")
    )
    return mark, note, read


def _arrived_early() -> Any:
    """Whether a status naming the send's provider id came before the send was recorded."""
    return select(EarlyStatus.id).where(EarlyStatus.provider_id == bindparam("provider_id")).exists()


@cache
def _mark_and_note() -> Any:
    """`_record_sent_statements`' three as one statement, on PostgreSQL (the note is a step of
    its WITH): what the read reads, or no row when the mark found nothing to mark."""
    mark, _, _ = _record_sent_statements()
    marked = mark.returning(_MESSAGE.id).cte("marked")
    noted = (
        insert(MessageStatusEvent.__table__)
        .from_select(
            ["message_id", "status", "source", "at"],
            select(marked.c.id, literal("sent"), literal("outbox"), bindparam("now", type_=_EVENT.at.type)),
        )
        .cte("noted")
    )
    return (
        select(Address.value, Address.pending_erasure, _arrived_early())
        .join_from(marked, Address, Address.id == marked.c.address_id)
        .add_cte(noted)
    )


def _remember_unrecorded(message_id: int, result: SendResult) -> None:
    """Keep what the provider said about a send we could not record, for :func:`reconcile`."""
    try:
        redis_client().hset(_UNRECORDED, str(message_id), f"{result.provider_id} {result.status}")
    except RedisError:
        log.exception(
            "outbox: message %s was sent as %s but neither the database nor Redis could record "
            "it; its status callback will, else the sweeper marks it failed",
            message_id,
            result.provider_id,
        )


def _unrecorded(message_id: int) -> SendResult | None:
    try:
        raw = redis_client().hget(_UNRECORDED, str(message_id))
    except RedisError:
        log.warning("outbox: could not read the note of message %s", message_id, exc_info=True)
        return None
    if raw is None:
        return None
    provider_id, status = raw.decode().split(" ")
    return SendResult(provider_id, status)


def _forget_unrecorded(message_id: int) -> None:
    try:
        redis_client().hdel(_UNRECORDED, str(message_id))
    except RedisError:
        log.warning("outbox: could not forget the note of message %s", message_id, exc_info=True)


def withdraw(message: Message, reason: str) -> bool:
    """Take back a message still waiting in the outbox: it ends `suppressed` with `reason`
    (the caller commits). The update is conditional, so a message a worker is sending right
    now is left alone; returns whether it was withdrawn."""
    taken = db.session.execute(
        update(Message)
        .where(Message.id == message.id, Message.status == "queued")
        .values(status="suppressed", next_attempt_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken:
        db.session.refresh(message)
        record_status(message, "suppressed", reason, source="outbox")
    return bool(taken)


def _round_status(message: Message) -> str | None:
    """The status of the prompt round the message is part of, read right before its send. The
    row is share-locked until the send is committed as going ahead, so a pause or cancel either
    lands first (and this message waits or is withdrawn) or waits for it."""
    if message.round_id is None:
        return None
    return db.session.scalar(
        select(PromptRound.status).where(PromptRound.id == message.round_id).with_for_update(read=True)
    )


def _hold(message: Message) -> str:
    """Put back a message of a paused round, or one to a person whose text waits for its turn:
    it waits, queued, until the round is resumed (which queues it again) or the text is
    answered; the sweeper leaves it alone meanwhile."""
    message.status = "queued"
    message.attempts -= 1  # waiting is not a failed attempt
    db.session.commit()
    return "held"


def _paused_rounds() -> Any:
    return select(PromptRound.id).where(PromptRound.status == "paused")


def withdraw_round(round_id: int, reason: str) -> int:
    """Take back at once every message of a prompt round still waiting in the outbox: each ends
    `suppressed` with `reason` (the caller commits). Only rows still queued are taken, so a
    message a worker is sending right now is left alone; returns how many were withdrawn."""
    now = clock.now()
    taken = db.session.scalars(
        update(Message)
        .where(Message.round_id == round_id, Message.status == "queued")
        .values(status="suppressed", error_code=reason, next_attempt_at=None, updated_at=now)
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    ).all()
    if taken:
        db.session.execute(
            insert(MessageStatusEvent),
            [
                {
                    "message_id": message_id,
                    "status": "suppressed",
                    "error_code": reason,
                    "source": "outbox",
                    "at": now,
                }
                for message_id in taken
            ],
        )
        erasing = select(Message.address_id).where(
            Message.round_id == round_id, Message.status == "suppressed"
        )
        for address in db.session.scalars(
            select(Address).where(Address.id.in_(erasing), Address.pending_erasure.is_(True))
        ):
            complete_erasure(address)
    return len(taken)


def settle_round(round_id: int | None) -> bool:
    """Mark a sending prompt round done once none of its messages is left queued or sending;
    returns whether it was marked now."""
    return _settle(PromptRound, Message.round_id, round_id, updated=True)


def settle_mailing(mailing_id: int | None) -> bool:
    """Mark a sending mailing done once none of its messages is left queued or sending; returns
    whether it was marked now."""
    return _settle(Mailing, Message.mailing_id, mailing_id, updated=False)


def _settle(model: Any, by: Any, row_id: int | None, updated: bool) -> bool:
    if row_id is None:
        return False
    left = select(Message.id).where(by == row_id, Message.status.in_(("queued", "sending")))
    now = clock.now()
    values = {"status": "done", "finished_at": now, **({"updated_at": now} if updated else {})}
    done = db.session.execute(
        update(model)
        .where(model.id == row_id, model.status == "sending", ~left.exists())
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(done)


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Reconcile sends whose recording failed, and settle claims whose worker was lost (their
    lease ran out): queued again if the provider was never called, else reconciled if their
    send is known, else failed (the senders poll the outbox, so what is queued again goes)."""
    now = now or clock.now()
    reconciled = 0
    for message_id in _unrecorded_ids():
        message = db.session.get(Message, message_id)
        if message is not None and message.status == "sending":
            reconciled += reconcile(message) != "sending"
        elif message is not None:
            _forget_unrecorded(message_id)
    # Claims whose worker died (or failed) before calling the provider: nobody sent them, so
    # they go again. The try counts, so one that fails that way every time ends failed.
    never_called = (
        Message.status == "sending",
        Message.called_at.is_(None),
        Message.updated_at < now - CLAIM_LEASE,
    )
    released = db.session.execute(
        update(Message)
        .where(*never_called, Message.attempts < MAX_ATTEMPTS)
        .values(status="queued", updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    given_up = db.session.scalars(select(Message).where(*never_called)).all()
    lost = db.session.scalars(
        select(Message).where(
            Message.status == "sending",
            Message.called_at.is_not(None),
            Message.updated_at < now - LOST_AFTER,
        )
    ).all()
    for message in given_up:
        _finish(message, "failed", "send_failed", commit=False)
    for message in lost:
        _finish(message, "failed", "worker_lost", commit=False)
    settled = {(m.round_id, m.mailing_id) for m in [*given_up, *lost]}
    db.session.commit()
    for round_id, mailing_id in settled:
        settle_round(round_id)
        settle_mailing(mailing_id)
    return {"released": released, "failed": len(given_up) + len(lost), "reconciled": reconciled}


def _unrecorded_ids() -> list[int]:
    try:
        return [int(key) for key in redis_client().hkeys(_UNRECORDED)]
    except RedisError:
        log.warning("outbox: could not read the notes of unrecorded sends", exc_info=True)
        return []


def _failed_attempt(message: Message, exc: TransportError) -> str:
    """Act on what the provider's refusal means (`exc.failure`, from the transport's table of
    error codes): opt the recipient out, mark the number undeliverable, fail the message, or
    queue it again after a backoff with jitter. Returns the message's status."""
    log.warning(
        "outbox: message %s to %s not sent (code %s, %s, attempt %s, %s)",
        message.id,
        redact(message.address.value),
        exc.code,
        exc.failure,
        message.attempts,
        # What failed, by its kind alone (a provider's own words may quote the number).
        type(exc.__cause__ or exc).__name__,
    )
    if exc.failure is Failure.OPTED_OUT:
        consent.opt_out(message.address, source="provider_error", detail=f"{message.channel} {exc.code}")
    elif exc.failure is Failure.UNDELIVERABLE:
        mark_undeliverable(message.address)
    elif exc.failure is Failure.THROTTLE and message.channel == "sms":
        _throttle_sender(_sender(message))
    allowed = FAIL_AFTER_ATTEMPTS if exc.failure is Failure.FAIL_AFTER else MAX_ATTEMPTS
    if exc.permanent or message.attempts >= allowed:
        return _finish(message, "failed", exc.code)
    message.status = "queued"
    message.error_code = exc.code
    message.next_attempt_at = clock.now() + retry_delay(message.attempts)
    db.session.commit()
    return "retrying"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait before trying a message again after `attempts` failed tries: the
    schedule's delay, less a random part of it."""
    delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    return timedelta(seconds=delay * (1 - RETRY_JITTER * random.random()))  # noqa: S311 (not a secret)


def _allowed_at(message: Message, now: datetime) -> datetime:
    """When this initiated message may go, by the recipient's calling window and caps (the
    caller holds the address's lock)."""
    address = message.address
    org = db.session.get(Organization, message.organization_id)
    assert org is not None
    recent = recent_initiated_sends([address.id], now, leaving_out=message.id).get(address.id, [])
    rules = pacing_rules(org)
    timezone = (address.person.timezone if address.person else None) or org.timezone
    return pacing.next_send_time(now, timezone, rules, recent)


def pacing_rules(org: Organization) -> pacing.Pacing:
    """The organization's calling window and caps for the messages it starts."""
    return pacing.Pacing(
        time(org.window_start_hour), time(org.window_end_hour), org.daily_cap, org.weekly_cap
    )


def recent_initiated_sends(
    address_ids: Collection[int] | Select[Any], now: datetime, leaving_out: int | None = None
) -> dict[int, list[datetime]]:
    """The moments initiated messages were sent to each address (ids, or a query of them) within
    the last week, with a send in flight (other than message `leaving_out`) counted as now: what
    the caps count."""
    recent: dict[int, list[datetime]] = {}
    sent = db.session.execute(
        select(Message.address_id, MessageStatusEvent.at)
        .join(Message, MessageStatusEvent.message_id == Message.id)
        .where(
            Message.address_id.in_(address_ids),
            Message.reason.in_(INITIATED_REASONS),
            MessageStatusEvent.status == "sent",
            MessageStatusEvent.at > now - pacing.WEEK,
        )
    )
    for address_id, at in sent:
        # A send stamped after `now` (another worker's clock ran ahead) still counts, as of now.
        recent.setdefault(address_id, []).append(min(at, now))
    in_flight = db.session.execute(
        select(Message.address_id, func.count())
        .where(
            Message.address_id.in_(address_ids),
            Message.reason.in_(INITIATED_REASONS),
            Message.status == "sending",
            Message.id != (leaving_out or 0),
        )
        .group_by(Message.address_id)
    )
    for address_id, count in in_flight:
        recent.setdefault(address_id, []).extend([now] * count)
    return recent


def _defer(message: Message, until: datetime, note: bool = True) -> str:
    """Put a message back to wait for its allowed time (an initiated message's calling window
    or caps, or the sender's rate); it is not dropped. `note` puts the wait in its history."""
    message.status = "queued"
    message.attempts -= 1  # waiting is not a failed attempt
    message.next_attempt_at = until
    if note and not any(event.status == "deferred" for event in message.history):
        history(message, "deferred", source="outbox")
    db.session.commit()
    log.info("outbox: message %s deferred until %s", message.id, until.isoformat())
    return "deferred"


def _finish(message: Message, status: str, error_code: str | None = None, commit: bool = True) -> str:
    message.status = status
    message.error_code = error_code
    message.next_attempt_at = None
    history(message, status, error_code, source="outbox")
    if message.address.pending_erasure:
        complete_erasure(message.address)
    if commit:
        db.session.commit()
    return status


def _sender_key(sender: str | None) -> str | None:
    """What names the number a text goes from, for its rate: the organization's own, else the
    configured number or Messaging Service; None when texts go to no carrier (the simulator)."""
    config = current_app.config
    if config["SMS_TRANSPORT"] != "twilio":
        return None
    return sender or config["TWILIO_FROM_NUMBER"] or config["TWILIO_MESSAGING_SERVICE_SID"]


def _sender_rate_wait(message: Message, sender: str | None) -> tuple[float, bool]:
    """Take a token of the sender's rate for this text, once however often it asks: the seconds
    to wait for it (0: none), and whether the text holds its place in line meanwhile. A reply
    takes its place at once. What Kindred starts takes one only if its token is due within
    INITIATED_MOST_AHEAD, so it never holds a reply back; otherwise it goes back to the queue
    until about then, spread by a random part as long as half the sending threads' worth of
    texts takes at this rate (a minute at most), so that the texts waiting for that sender come
    back somewhat faster than its tokens do, rather than all at once."""
    key = _sender_key(sender) if message.channel == "sms" else None
    if key is None:
        return 0.0, True
    mps = current_app.config["SMS_SENDER_MPS"]
    if message.priority == REPLY_PRIORITY:
        return rate.take(redis_client(), key, mps, str(message.id)), True
    wait = rate.take(redis_client(), key, mps, str(message.id), most_ahead=INITIATED_MOST_AHEAD)
    if wait <= INITIATED_MOST_AHEAD:
        return wait, True
    spread = min(RATE_RETRY_SPREAD_MAX, current_app.config["SEND_CONCURRENCY"] / mps / 2)
    return wait + random.random() * spread, False  # noqa: S311 (not a secret)


def _throttle_sender(sender: str | None) -> None:
    key = _sender_key(sender)
    if key is not None:
        rate.throttle(redis_client(), key, current_app.config["SMS_SENDER_MPS"])


def serves_several() -> bool:
    """Whether this instance serves more than one organization."""
    return bool(db.session.scalar(select(_several_organizations())))


def _several_organizations() -> Any:
    """Whether this instance serves more than one organization, as an expression of a query."""
    return select(func.count()).select_from(select(Organization.id).limit(2).subquery()).scalar_subquery() > 1


def _sender(message: Message, several: bool | None = None) -> str | None:
    """The number a text goes from: its organization's own when the instance serves several
    (a reply from another organization's number would bring the answer, STOP included, to
    that organization); else None, the deployment's configured sender. `several`: whether it
    does, when already read."""
    if not (serves_several() if several is None else several):
        return None
    org = db.session.get(Organization, message.organization_id)
    return organization_number(org.phone) if org is not None else None


def _status_callback(message_id: int) -> str | None:
    """Where the provider reports this message's delivery. The URL names the message, so a
    status can be matched to it even if recording its provider id failed."""
    if current_app.config["SMS_TRANSPORT"] != "twilio":
        return None
    return f"{current_app.config['PUBLIC_BASE_URL']}/webhooks/twilio/status?message={message_id}"
