"""Prompt rounds: the only way an organizer starts texts. Each opted-in volunteer in an audience
gets one personalized idea for a conversation with one of their own friends, chosen exactly as
the PROMPT keyword chooses it (flows.prompts.most_due and suggest, with the prompt library in
their language). There is no free text and no list upload.

Planning streams the audience in keyset batches of volunteers, fetching their addresses,
consent, recent initiated sends, friends and prompt uses batch by batch, so a round of any size
is planned in constant memory. A volunteer is either planned (with the time the calling window
lets the text go) or excluded for a reason.

Sending plans again and refuses unless the count to text is the count the organizer confirmed;
then it writes the round and, batch by batch, committing each, a queued `prompt_round` message
per volunteer. The command line does it all at once (`send`); the console starts the round
(`start`, status `starting`) and the worker checks the count and queues the texts
(`queue_started`), or ends the round `changed`, with nothing sent, if the count is not the one
confirmed. The outbox applies the opt-in, calling window and caps again at send time, and
checks the round right before each send (paused: held; cancelled: withdrawn).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import Row, Select, String, cast, func, null, select, update

from flows import events as ev
from flows import prompts as flow_prompts
from gateway import clock
from gateway.community import audit, sending
from gateway.community import friends as friend_services
from gateway.community import prompts as prompt_library
from gateway.community.sending import Audience, AudienceError, Batch, ConfirmError, Progress
from gateway.delivery import consent as consent_ledger
from gateway.delivery import handoff, outbox
from gateway.delivery.addresses import ERASED_PREFIX
from gateway.extensions import db
from gateway.models import (
    Address,
    FlowSession,
    Friend,
    Message,
    Organization,
    Organizer,
    Person,
    PromptRound,
    PromptUse,
    TeamMember,
)

REASON = "prompt_round"  # the outbox reason of a round's messages
BATCH = 1000  # volunteers planned (and written) at a time
MAX_WEEKS = 104
SAMPLES = 3

# Why a volunteer in the audience gets no text, in the order they are checked, in plain words.
EXCLUSIONS = {
    "no_address": "No phone number to text (none on record, or erased at their request)",
    "opted_out": "Opted out (they texted STOP or similar)",
    "no_opt_in": "No opt-in on record",
    "over_cap": "Over the daily or weekly cap of texts we start",
    "waiting": "An idea from an earlier round is still waiting to be sent to them",
    "no_friend": "No friend left to suggest (none listed, all joined or snoozed)",
    "no_idea": "Every idea that fits their friends was already sent to them (ideas never repeat)",
}

# A round's status; `done` when none of its messages is left queued. A round started from the
# console is `starting` until the worker has checked the count: then `sending`, or `changed`
# (nothing sent: the count was no longer the one confirmed).
SENDING, PAUSED, CANCELLED, DONE = "sending", "paused", "cancelled", "done"
STARTING, CHANGED = "starting", "changed"
# In a `changed` round's `excluded`: how many would have got a text at the check.
COUNT_AT_CHECK = "_count_at_check"


def parse_audience(org: Organization, raw: str) -> Audience:
    """The audience `raw` names (all, team:CODE, stage:STAGE, inactive:WEEKS), or AudienceError
    saying what is wrong."""
    kind, _, value = (raw or "").strip().partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if kind == "all" and not value:
        return Audience("all")
    if kind == "team" and value:
        return sending.team_audience(org, value)
    if kind == "stage":
        if value.lower() not in ev.STAGES:
            raise AudienceError(f"unknown stage {value!r}; use one of {', '.join(ev.STAGES)}")
        return Audience("stage", value.lower())
    if kind == "inactive":
        if not (value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_WEEKS):
            raise AudienceError(f"weeks of inactivity must be a whole number from 1 to {MAX_WEEKS}")
        return Audience("inactive", str(int(value)))
    raise AudienceError("choose an audience: all, team:CODE, stage:STAGE or inactive:WEEKS")


@dataclass
class Planned:
    """A volunteer who will get a text: the friend it is about, and when the calling window lets
    it go (None: now). The idea itself is written out when it is first asked for: a preview
    needs only a few."""

    person_id: int
    volunteer: str
    address_id: int
    friend: ev.Friend
    ctx: ev.Context
    send_at: datetime | None

    @cached_property
    def suggestion(self) -> flow_prompts.Suggestion:
        return flow_prompts.suggest(self.friend, self.ctx)

    @property
    def body(self) -> str:
        return self.suggestion.text

    @property
    def prompt_id(self) -> int | None:
        return self.suggestion.prompt.id if self.suggestion.prompt else None


@dataclass(frozen=True)
class Excluded:
    person_id: int
    reason: str


@dataclass
class Preview:
    """What a round would do now: how many get a text, how many are excluded by reason, how many
    of the texts wait for the calling window (and from when to when), and a few samples."""

    audience: Audience
    now: datetime
    count: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    deferred: int = 0
    first_deferred: datetime | None = None
    last_deferred: datetime | None = None
    samples: list[Any] = field(default_factory=list)  # Planned, or stored samples (round_previews)

    def add(self, outcome: Planned | Excluded) -> None:
        if isinstance(outcome, Excluded):
            self.excluded[outcome.reason] = self.excluded.get(outcome.reason, 0) + 1
            return
        self.count += 1
        if len(self.samples) < SAMPLES:
            self.samples.append(outcome)
        if outcome.send_at is not None:
            self.deferred += 1
            self.first_deferred = min(self.first_deferred or outcome.send_at, outcome.send_at)
            self.last_deferred = max(self.last_deferred or outcome.send_at, outcome.send_at)

    def exclusions(self) -> list[tuple[str, str, int]]:
        """(reason, in plain words, count) for each reason anyone is excluded for."""
        return [
            (key, words, self.excluded[key]) for key, words in EXCLUSIONS.items() if self.excluded.get(key)
        ]


def preview(org: Organization, audience: Audience, now: datetime | None = None) -> Preview:
    """Plan the round without writing anything."""
    now = now or clock.now()
    return sending.tally(Preview(audience, now), plan(org, audience, now))


def plan(org: Organization, audience: Audience, now: datetime) -> Iterator[list[Planned | Excluded]]:
    """The audience's volunteers, planned a batch at a time, in id order. Each batch is read
    when the one before it has been used, so the caller may write between batches."""
    pacer = sending.Pacer(org, now)
    library = prompt_library.library(org.id)
    org_view = ev.Organization(org.name, org.contact)
    for people, batch in sending.batches(_audience_query(org, audience, now), BATCH):
        yield list(_plan_batch(org, people, batch, pacer, library, org_view, now))


def _audience_query(org: Organization, audience: Audience, now: datetime) -> Select[Any]:
    query = (
        select(Person.id, Person.name, Person.language, Person.timezone)
        .where(Person.organization_id == org.id, Person.volunteer_since.is_not(None))
        .order_by(Person.id)
    )
    if audience.kind == "team":
        query = query.where(
            select(TeamMember.id)
            .where(TeamMember.person_id == Person.id, TeamMember.team_id == audience.row_id)
            .exists()
        )
    elif audience.kind == "stage":
        query = query.where(
            select(Friend.id).where(Friend.volunteer_id == Person.id, Friend.stage == audience.value).exists()
        )
    elif audience.kind == "inactive":
        since = now - timedelta(weeks=int(audience.value))
        query = query.where(func.coalesce(Person.last_active_at, Person.volunteer_since) < since)
    return query


def _plan_batch(
    org: Organization,
    people: Sequence[Row[Any]],
    batch: Batch,
    pacer: sending.Pacer,
    library: tuple[ev.Prompt, ...],
    org_view: ev.Organization,
    now: datetime,
) -> Iterator[Planned | Excluded]:
    addresses = {
        a.person_id: a  # the latest SMS address of each
        for a in db.session.execute(
            select(Address.id, Address.person_id, Address.value, Address.pending_erasure)
            .where(batch.holds(Address.person_id), Address.channel == "sms")
            .order_by(Address.id)
        )
    }
    address_ids = select(Address.id).where(batch.holds(Address.person_id), Address.channel == "sms")
    consent = consent_ledger.latest_kinds(address_ids, "sms")
    recent = outbox.recent_initiated_sends(address_ids, now)
    # An idea of an earlier round still in the outbox (held for the calling window, say): a
    # second round would only stack another behind it.
    waiting = set(
        db.session.scalars(
            select(Message.address_id).where(
                Message.address_id.in_(address_ids),
                Message.reason == "prompt_round",
                Message.status.in_(("queued", "sending")),
            )
        )
    )
    used: dict[int, set[int]] = {}
    for friend_id, prompt_id in db.session.execute(
        select(PromptUse.friend_id, PromptUse.prompt_id)
        .join(Friend, Friend.id == PromptUse.friend_id)
        .where(batch.holds(Friend.volunteer_id), Friend.stage != "joined")
    ):
        used.setdefault(friend_id, set()).add(prompt_id)
    # Friends who joined are never suggested. Interests matter only to the idea, which is written
    # for one friend of each volunteer, if at all: they are read as text and parsed then.
    columns = [
        c if c is not Friend.interests else null().label("interests") for c in friend_services.VIEW_COLUMNS
    ]
    friends: dict[int, list[Row[Any]]] = {}
    for row in db.session.execute(
        select(Friend.volunteer_id, cast(Friend.interests, String).label("interests_json"), *columns)
        .where(batch.holds(Friend.volunteer_id), Friend.stage != "joined")
        .order_by(Friend.id)
    ):
        friends.setdefault(row.volunteer_id, []).append(row)

    for person in people:
        address = addresses.get(person.id)
        if address is None or address.pending_erasure or address.value.startswith(ERASED_PREFIX):
            yield Excluded(person.id, "no_address")
            continue
        kind = consent.get(address.id)
        if kind != "opt_in":
            yield Excluded(person.id, "opted_out" if kind == "opt_out" else "no_opt_in")
            continue
        timezone = person.timezone or org.timezone
        window = pacer.window(timezone)
        if pacer.over_cap(timezone, recent.get(address.id)):
            yield Excluded(person.id, "over_cap")
            continue
        if address.id in waiting:
            yield Excluded(person.id, "waiting")
            continue
        ordered = flow_prompts.due_order(friends.get(person.id, ()), now)
        if not ordered:
            yield Excluded(person.id, "no_friend")
            continue
        ctx = ev.Context(
            org_view,
            now=now,
            consent=ev.Consent.OPTED_IN,
            name=person.name,
            prompts=library,
            language=person.language,
            timezone=timezone,
        )
        # The most due friend with an idea left; interests are parsed only as far as that.
        views = (
            replace(
                friend_services.view(row, used.get(row.id, ())),
                interests=tuple(json.loads(row.interests_json or "[]")),
            )
            for row in ordered
        )
        friend = next((view for view in views if flow_prompts.has_idea(view, ctx)), None)
        if friend is None:
            yield Excluded(person.id, "no_idea")
            continue
        yield Planned(
            person_id=person.id,
            volunteer=person.name or "",
            address_id=address.id,
            friend=friend,
            ctx=ctx,
            send_at=window if window > now else None,
        )


def send(
    org: Organization,
    audience: Audience,
    confirm: int,
    organizer: Organizer | None = None,
    actor: str = "",
    ip: str = "",
) -> PromptRound:
    """Start the round and queue its texts now if `confirm` is the count it would text (the
    command line's send); a mismatch raises ConfirmError and writes nothing."""
    # One confirmation at a time per organization (PostgreSQL; SQLite writes one at a time).
    db.session.execute(select(Organization.id).where(Organization.id == org.id).with_for_update())
    now = clock.now()
    checked = preview(org, audience, now)
    if checked.count != confirm:
        db.session.rollback()
        raise ConfirmError(f"{checked.count} would get a text now, not {confirm}: nothing was sent")
    prompt_round = _new_round(org, audience, confirm, checked.excluded, SENDING, organizer, actor, ip, now)
    db.session.commit()
    _queue_all(org, prompt_round, audience, now)
    return prompt_round


def start(
    org: Organization,
    audience: Audience,
    confirm: int,
    organizer: Organizer | None,
    ip: str = "",
    previewed_at: datetime | None = None,
    excluded: dict[str, int] | None = None,
) -> tuple[PromptRound, bool]:
    """Start a round the worker checks and queues (the console's send; the caller checked
    `confirm` against the preview): writes it `starting`, audited, notes its job for after the
    commit, and commits. Returns it and whether it is new: given `previewed_at`, a round the same
    organizer started for the same audience since then is that confirmation sent twice."""
    db.session.execute(select(Organization.id).where(Organization.id == org.id).with_for_update())
    if previewed_at is not None:
        earlier: PromptRound | None = sending.earlier(PromptRound, org, audience, organizer, previewed_at)
        if earlier is not None:
            db.session.rollback()
            return earlier, False
    prompt_round = _new_round(
        org, audience, confirm, dict(excluded or {}), STARTING, organizer, "", ip, clock.now()
    )
    handoff.after_commit(handoff.ROUND_START, prompt_round.id)
    db.session.commit()
    return prompt_round, True


def _new_round(
    org: Organization,
    audience: Audience,
    confirm: int,
    excluded: dict[str, int],
    status: str,
    organizer: Organizer | None,
    actor: str,
    ip: str,
    now: datetime,
) -> PromptRound:
    """Write a round for `confirm` volunteers, audited (the caller commits); ConfirmError, with
    nothing written, if that is nobody."""
    if confirm <= 0:
        db.session.rollback()
        raise ConfirmError("nobody in this audience would get a text: nothing was sent")
    started = sending.Started(audience, confirm, excluded, organizer, actor, ip, now)
    prompt_round: PromptRound = sending.start(
        PromptRound, org, started, "round_started", "round", status=status
    )
    return prompt_round


def queue_started(round_id: int) -> str:
    """The worker's half of a console send: plan the `starting` round again and queue its texts
    only if the count is still the one confirmed; otherwise end it `changed`, nothing sent
    (audited). Returns what became of it. Run twice, the second run does nothing."""
    prompt_round = db.session.get(PromptRound, round_id)
    if prompt_round is None:
        return "no such round"
    org = db.session.get(Organization, prompt_round.organization_id)
    assert org is not None
    # One confirmation at a time per organization, as `send` does; then the round, locked.
    db.session.execute(select(Organization.id).where(Organization.id == org.id).with_for_update())
    prompt_round = db.session.scalar(
        select(PromptRound)
        .where(PromptRound.id == round_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert prompt_round is not None
    if prompt_round.status != STARTING:
        db.session.rollback()
        return prompt_round.status
    now = clock.now()
    try:
        audience: Audience | None = parse_audience(org, prompt_round.audience)
    except AudienceError:  # the team is gone
        audience = None
    checked = preview(org, audience, now) if audience else Preview(Audience("all"), now)
    confirmed = prompt_round.planned
    if checked.count != confirmed:
        prompt_round.status = CHANGED
        prompt_round.excluded = {**checked.excluded, COUNT_AT_CHECK: checked.count}
        prompt_round.updated_at = prompt_round.finished_at = now
        audit.record(
            org,
            "round_not_sent",
            None,
            actor="(worker)",
            round=round_id,
            audience=prompt_round.audience,
            confirmed=confirmed,
            count=checked.count,
        )
        db.session.commit()
        return CHANGED
    assert audience is not None
    prompt_round.status = SENDING
    prompt_round.excluded = checked.excluded
    prompt_round.updated_at = now
    db.session.commit()
    _queue_all(org, prompt_round, audience, now)
    return SENDING


def starting_before(moment: datetime) -> list[int]:
    """The rounds still `starting` that were started before `moment` (their job may be lost)."""
    return list(
        db.session.scalars(
            select(PromptRound.id)
            .where(PromptRound.status == STARTING, PromptRound.created_at < moment)
            .order_by(PromptRound.id)
        )
    )


def _queue_all(org: Organization, prompt_round: PromptRound, audience: Audience, now: datetime) -> None:
    """Queue the round's texts batch by batch, committing each, then settle it."""
    for batch in plan(org, audience, now):
        _queue(prompt_round, [p for p in batch if isinstance(p, Planned)], now)
        # Workers may have sent every text queued so far and marked the round done: it is not.
        db.session.execute(
            update(PromptRound)
            .where(PromptRound.id == prompt_round.id, PromptRound.status == DONE)
            .values(status=SENDING, finished_at=None)
        )
        db.session.commit()
    outbox.settle_round(prompt_round.id)


def _queue(prompt_round: PromptRound, batch: list[Planned], now: datetime) -> None:
    """Queue one batch of the round's texts, with what the PROMPT keyword's reply records: the
    prompt used for the friend, and the conversation left expecting a report about them (from
    when the text goes)."""
    if not batch:
        return
    people = [p.person_id for p in batch]
    sessions = {
        s.person_id: s
        for s in db.session.scalars(
            select(FlowSession)
            .where(FlowSession.person_id.in_(people))
            .order_by(FlowSession.person_id)
            .with_for_update()
        )
    }
    addresses = {
        a.id: a
        for a in db.session.scalars(select(Address).where(Address.id.in_([p.address_id for p in batch])))
    }
    friends = {
        f.id: f for f in db.session.scalars(select(Friend).where(Friend.id.in_([p.friend.id for p in batch])))
    }
    for planned in batch:
        message = outbox.queue_sms(
            addresses[planned.address_id], planned.body, REASON, round_id=prompt_round.id
        )
        if planned.prompt_id is not None:
            friend_services.mark_prompted(friends[planned.friend.id], planned.prompt_id, message, now)
        session = sessions.get(planned.person_id)
        if session is None:
            session = FlowSession(person_id=planned.person_id, state={})
            db.session.add(session)
        state = ev.State.from_dict(session.state)
        pending = state.step not in ("idle", "new") and not (session.expires_at and session.expires_at < now)
        # A question they are in the middle of answering keeps its answer. A text held for
        # their calling window counts from when it goes: a report sent meanwhile is not filed
        # under a friend they have not been told of yet.
        if not pending:
            session.state = flow_prompts.prompted_state(planned.friend, planned.send_at).to_dict()
            session.expires_at = None


def progress(round_ids: list[int], now: datetime | None = None) -> dict[int, Progress]:
    """Each round's progress, read with one grouped query."""
    return sending.progress(Message.round_id, round_ids, now)


PAST = {"pause": "paused", "resume": "resumed", "cancel": "cancelled"}


class RoundStateError(ValueError):
    """A round asked to change in a way its status does not allow (resume a done round)."""


# What each action does: the statuses it may start from, the status it leaves, its audit entry.
_CHANGES = {
    "pause": ((SENDING,), PAUSED, "round_paused"),
    "resume": ((PAUSED,), SENDING, "round_resumed"),
    "cancel": ((STARTING, SENDING, PAUSED), CANCELLED, "round_cancelled"),
}


def change(
    prompt_round: PromptRound, action: str, organizer: Organizer | None = None, actor: str = "", ip: str = ""
) -> int:
    """Pause, resume or cancel a round (audited, committed). Resuming queues its waiting messages
    again; cancelling withdraws them all at once (suppressed, `round_cancelled`). Returns how
    many messages were queued again or withdrawn."""
    allowed, target, entry = _CHANGES[action]
    locked = db.session.scalar(select(PromptRound).where(PromptRound.id == prompt_round.id).with_for_update())
    assert locked is not None
    if locked.status not in allowed:
        db.session.rollback()
        raise RoundStateError(f"round {locked.id} is {locked.status}: it cannot be {PAST[action]}")
    now = clock.now()
    locked.status = target
    locked.updated_at = now
    touched = 0
    if action == "cancel":
        touched = outbox.withdraw_round(locked.id, "round_cancelled")
        locked.finished_at = now
    elif action == "resume":
        touched = (
            db.session.scalar(
                select(func.count()).where(Message.round_id == locked.id, Message.status == "queued")
            )
            or 0
        )
        handoff.after_commit(handoff.SEND, locked.id)  # its held messages are claimable again
    org = db.session.get(Organization, locked.organization_id)
    assert org is not None
    audit.record(
        org, entry, organizer, ip, actor, round=locked.id, audience=locked.audience, messages=touched
    )
    db.session.commit()
    if action == "resume":
        outbox.settle_round(locked.id)
    return touched


def rounds(org: Organization, limit: int = 50) -> list[PromptRound]:
    """The organization's latest rounds, newest first."""
    return list(
        db.session.scalars(
            select(PromptRound)
            .where(PromptRound.organization_id == org.id)
            .order_by(PromptRound.id.desc())
            .limit(limit)
        )
    )
