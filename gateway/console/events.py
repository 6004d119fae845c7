"""Events: upcoming and past events with their RSVP counts, creating and editing them (times
typed and shown on the organization's clock), one event's RSVPs and who brought a friend, and
the events team leads proposed by text, waiting to be approved or declined. Viewers read;
organizers change. Every change is in the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from gateway import clock
from gateway.access import current_organization, needs
from gateway.community import audit
from gateway.community import events as service
from gateway.community.events import EventDraft, EventError
from gateway.console import bp
from gateway.console.forms import ConsoleForm, no_nul, whole_number
from gateway.extensions import db
from gateway.models import Event, Organization, Team

TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M")
MAX_CAPACITY = 100_000
PAST_SHOWN = 50


class EventForm(ConsoleForm):
    title = StringField("Title", filters=[no_nul], validators=[DataRequired(), Length(max=service.MAX_TITLE)])
    starts_at = StringField("Starts at", filters=[no_nul], validators=[DataRequired()])
    location = StringField("Place", filters=[no_nul], validators=[Length(max=service.MAX_LOCATION)])
    capacity = StringField("Places (empty for no limit)", filters=[no_nul])


class ReviewForm(ConsoleForm):
    decision = StringField("Decision")


def _draft(form: EventForm, org: Organization) -> EventDraft:
    """The event the form describes; EventError says what is wrong with it."""
    if not form.validate_on_submit():
        if form.title.errors:
            raise EventError("Give the event a title (at most 120 characters).")
        if form.location.errors:
            raise EventError("The place is at most 200 characters.")
        raise EventError("Give the event a date and time.")
    typed = (form.starts_at.data or "").strip()
    local = None
    for pattern in TIME_FORMATS:
        try:
            local = datetime.strptime(typed, pattern)
        except ValueError:
            continue
        break
    if local is None:
        raise EventError("Type the time as year-month-day hours:minutes, like 2026-12-03 18:30.")
    raw_capacity = (form.capacity.data or "").strip()
    capacity = whole_number(raw_capacity, limit=MAX_CAPACITY) if raw_capacity else None
    if raw_capacity and capacity is None:
        raise EventError(f"Places is a whole number from 1 to {MAX_CAPACITY:,}, or empty for no limit.")
    return EventDraft(
        title=form.title.data or "",
        starts_at=service.on_org_clock(org, local),
        location=form.location.data or "",
        capacity=capacity,
    )


def _local(org: Organization) -> Callable[..., str]:
    """A time as organizers read it on the organization's clock: "Thu Dec 03 2026, 06:30 PM EST"."""
    zone = ZoneInfo(org.timezone)

    def local(moment: datetime, pattern: str = "%a %b %d %Y, %I:%M %p %Z") -> str:
        return moment.astimezone(zone).strftime(pattern)

    return local


def _events_page(org: Organization, form: EventForm, status: int = 200) -> ResponseReturnValue:
    now = clock.now()
    return render_template(
        "console/events.html",
        upcoming=service.console_rows(org, "upcoming", now),
        past=service.console_rows(org, "past", now, limit=PAST_SHOWN),
        proposed=service.console_rows(org, "proposed", now),
        form=form,
        review_form=ReviewForm(formdata=None),
        local=_local(org),
        timezone=org.timezone,
    ), status


@bp.get("/events")
@needs("viewer")
def events() -> ResponseReturnValue:
    org = current_organization()
    return _events_page(org, EventForm(formdata=None))


@bp.post("/events")
@needs("viewer", post="organizer")
def create_event() -> ResponseReturnValue:
    org = current_organization()
    form = EventForm()
    try:
        event = service.create(org, _draft(form, org), clock.now())
    except EventError as exc:
        flash(str(exc), "error")
        return _events_page(org, form, 400)
    audit.record(
        org, "event_created", current_user.organizer, ip=request.remote_addr or "",
        event_id=event.id, capacity=event.capacity,
    )  # fmt: skip
    db.session.commit()
    flash(f"Event listed: {event.title}.", "info")
    return redirect(url_for("console.event", id=event.id))


def _event(org: Organization, id: int, lock: bool = False) -> Event:
    query = select(Event).where(Event.id == id, Event.organization_id == org.id)
    event = db.session.scalar(query.with_for_update() if lock else query)
    if event is None:
        abort(404, description="no such event")
    return event


def _event_page(org: Organization, event: Event, form: EventForm, status: int = 200) -> ResponseReturnValue:
    attendees = service.attendees(event)
    local = _local(org)
    if form.starts_at.data is None:
        form.title.data = event.title
        form.starts_at.data = local(event.starts_at, "%Y-%m-%dT%H:%M")
        form.location.data = event.location
        form.capacity.data = str(event.capacity or "")
    return render_template(
        "console/event.html",
        event=event,
        team=db.session.get(Team, event.team_id) if event.team_id else None,
        going=[a for a in attendees if a.status == "yes"],
        not_going=[a for a in attendees if a.status != "yes"],
        brought=service.brought_friends(event),
        form=form,
        review_form=ReviewForm(formdata=None),
        local=local,
        timezone=org.timezone,
        show_phone=current_user.role != "viewer",
    ), status


@bp.get("/events/<id:id>")
@needs("viewer")
def event(id: int) -> ResponseReturnValue:
    org = current_organization()
    return _event_page(org, _event(org, id), EventForm(formdata=None))


@bp.post("/events/<id:id>")
@needs("viewer", post="organizer")
def edit_event(id: int) -> ResponseReturnValue:
    org = current_organization()
    event = _event(org, id, lock=True)
    form = EventForm()
    try:
        changed = service.edit(event, _draft(form, org), clock.now())
    except EventError as exc:
        flash(str(exc), "error")
        return _event_page(org, event, form, 400)
    if changed:
        audit.record(
            org, "event_edited", current_user.organizer, ip=request.remote_addr or "",
            event_id=event.id, changed=changed,
        )  # fmt: skip
    db.session.commit()
    flash("Event saved." if changed else "Nothing changed.", "info")
    return redirect(url_for("console.event", id=event.id))


@bp.post("/events/<id:id>/review")
@needs("viewer", post="organizer")
def review_event(id: int) -> ResponseReturnValue:
    org = current_organization()
    event = _event(org, id, lock=True)
    form = ReviewForm()
    decision = form.decision.data if form.validate_on_submit() else None
    if decision not in ("approve", "decline"):
        flash("Choose to approve or decline.", "error")
        return _event_page(org, event, EventForm(formdata=None), 400)
    try:
        service.review(event, decision == "approve", current_user.organizer, clock.now())
    except EventError as exc:
        flash(str(exc), "error")
        return _event_page(org, event, EventForm(formdata=None), 409)
    action = "event_approved" if decision == "approve" else "event_declined"
    audit.record(
        org, action, current_user.organizer, ip=request.remote_addr or "",
        event_id=event.id, team_id=event.team_id,
    )  # fmt: skip
    db.session.commit()
    team = db.session.get(Team, event.team_id) if event.team_id else None
    if decision == "approve":
        flash(f"Approved: {event.title} is listed to {team.name if team else 'everyone'}.", "info")
    else:
        flash(f"Declined: {event.title}.", "info")
    return redirect(url_for("console.events"))
