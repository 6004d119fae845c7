"""The inbox ("talk back"): threads of what people wrote that the flows did not handle, and the
organizers' answers, assignments and closings. Viewers read; organizers act."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from flows import abuse
from flows.events import Consent
from gateway import clock
from gateway.access import current_organization, needs
from gateway.community import members
from gateway.community.inbox import (
    EMAIL_ANSWER_MAX,
    FILTERS,
    UNMATCHED,
    InboxError,
    answer,
    answer_max,
    assign,
    assignable,
    conversation,
    latest_text,
    mark,
    reply_subject,
    settle_unmatched,
    threads,
    unmatched,
    unmatched_message,
)
from gateway.console import bp
from gateway.console.forms import ConsoleForm, no_nul, whole_number
from gateway.delivery import consent, outbox
from gateway.delivery.addresses import redact
from gateway.delivery.status import OUTBOX_REASONS
from gateway.extensions import db
from gateway.models import Message, Organization, Organizer, Person, Thread, utcnow

PER_PAGE = 50
_CHANNEL_NAMES = {"sms": "text", "email": "email"}


class AnswerForm(ConsoleForm):
    # The channel's own limit (shorter for texts) is checked when the answer is queued.
    body = TextAreaField(
        "Your answer", filters=[no_nul], validators=[DataRequired(), Length(max=EMAIL_ANSWER_MAX)]
    )
    done = BooleanField("Mark the thread done once sent", default=True)
    seen = HiddenField()  # the latest message on the organizer's screen
    channel = HiddenField()  # the channel the form said the answer goes by: sms or email


class AssignForm(ConsoleForm):
    to = SelectField("Assigned to", choices=[], validate_choice=False)


class StatusForm(ConsoleForm):
    status = SelectField("Status", choices=["done", "open"])
    seen = HiddenField()


@bp.get("/inbox")
@needs("viewer")
def inbox() -> ResponseReturnValue:
    org = current_organization()
    which = request.args.get("show", "open")
    if which not in FILTERS:
        which = "open"
    page = _page()
    if which == UNMATCHED:
        rows, total = unmatched(org, page, PER_PAGE)
    else:
        rows, total = threads(org, which, current_user.organizer, page, PER_PAGE)
    return render_template(
        "console/inbox.html",
        flagged=abuse.flagged,
        done_form=ConsoleForm(formdata=None),
        rows=rows,
        total=total,
        which=which,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        filters=FILTERS,
    )


@bp.get("/inbox/<id:id>")
@needs("viewer")
def thread(id: int) -> ResponseReturnValue:
    org = current_organization()
    item = _thread(org.id, id)
    if _flagged(item) and request.args.get("confirm") != "1":
        person = db.session.get(Person, item.person_id)
        return render_template("console/thread_warning.html", thread=item, person=person)
    return _show(org, item, AnswerForm(formdata=None))


@bp.post("/inbox/<id:id>/answer")
@needs("viewer", post="organizer")
def answer_thread(id: int) -> ResponseReturnValue:
    org = current_organization()
    item = _thread(org.id, id, lock=True)
    form = AnswerForm()
    if not form.validate_on_submit() or len(form.body.data or "") > answer_max(item):
        flash(_form_problem(form, item), "error")
        return _show(org, item, form, 400)  # what they wrote stays in the box
    if form.channel.data != item.channel:
        # One thread per person: a newer message by the other channel moved the thread to it.
        now_by = _CHANNEL_NAMES.get(item.channel, item.channel)
        flash(
            f"A new message came by {now_by} while you were writing, so nothing was sent. "
            f"Read it first: an answer now goes by {now_by}.",
            "error",
        )
        return _show(org, item, form, 409)
    ip = request.remote_addr or ""
    try:
        sent = answer(org, item, current_user.organizer, form.body.data or "", ip)
    except InboxError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _show(org, item, form, 409)
    if outbox.starts_conversation(sent):
        note = "Answer queued. They wrote more than a day ago, so it goes out in their calling hours."
    else:
        note = "Answer queued: Kindred checks their consent once more and sends it in a moment."
    if form.done.data:
        try:
            mark(org, item, "done", current_user.organizer, ip, clock.now(), whole_number(form.seen.data))
            note += " Thread marked done."
        except InboxError as exc:
            note += " " + str(exc)
    db.session.commit()
    flash(note, "info")
    return _back(item)


@bp.post("/inbox/unmatched/<id:id>/done")
@needs("viewer", post="organizer")
def unmatched_done(id: int) -> ResponseReturnValue:
    """An organizer has read an unmatched email: it leaves the list."""
    org = current_organization()
    message = unmatched_message(org, id)
    if message is None:
        abort(404, description="no such unmatched email")
    if not ConsoleForm().validate_on_submit():
        flash("The form had expired; nothing was changed. Try again.", "error")
    else:
        settle_unmatched(org, message, current_user.organizer, request.remote_addr or "")
        db.session.commit()
        flash("Marked done.", "info")
    return redirect(url_for("console.inbox", show=UNMATCHED), 303)


def _show(org: Organization, item: Thread, answer_form: AnswerForm, status: int = 200) -> ResponseReturnValue:
    """The thread page: the conversation, and the forms to answer, assign and close."""
    person = db.session.get(Person, item.person_id)
    original = latest_text(item)
    address = original.address if original else None
    state = consent.status(address) if address else Consent.UNKNOWN
    organizers = assignable(org)
    shown = current_user.role != "viewer"
    page = render_template(
        "console/thread.html",
        thread=item,
        person=person,
        address=(address.value if shown else redact(address.value)) if address else "",
        phone_notes=[n if shown else redact(n) for n in members.phone_notes(person)] if person else [],
        opted_out=state is Consent.OPTED_OUT,
        opted_in=state is Consent.OPTED_IN,
        late=original is not None and original.created_at < utcnow() - outbox.ANSWER_FRESH,
        messages=conversation(item),
        reasons=OUTBOX_REASONS,
        flagged=abuse.flagged,
        answer_form=answer_form,
        seen=item.last_message_id,
        assign_form=_assign_form(organizers, item),
        status_form=StatusForm(
            formdata=None, status="open" if item.status == "done" else "done", seen=item.last_message_id
        ),
        assigned_to=next((o for o in organizers if o.id == item.assigned_to_id), None),
        answer_max=answer_max(item),
        subject=reply_subject(original.subject) if original is not None and item.channel == "email" else "",
    )
    return page, status


@bp.post("/inbox/<id:id>/assign")
@needs("viewer", post="organizer")
def assign_thread(id: int) -> ResponseReturnValue:
    org = current_organization()
    item = _thread(org.id, id, lock=True)
    form = AssignForm()
    chosen = form.to.data or ""
    to = None
    if chosen:
        number = whole_number(chosen)
        to = db.session.get(Organizer, number) if number else None
        if to is None or to.organization_id != org.id:
            flash("Choose an organizer from the list.", "error")
            return _show(org, item, AnswerForm(formdata=None), 400)
    if not form.validate_on_submit():
        flash(_form_problem(form, item), "error")
        return _show(org, item, AnswerForm(formdata=None), 400)
    try:
        assign(org, item, to, current_user.organizer, request.remote_addr or "")
    except InboxError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _show(org, item, AnswerForm(formdata=None), 400)
    db.session.commit()
    flash(f"Assigned to {to.name or to.email}." if to else "Nobody is assigned now.", "info")
    return _back(item)


@bp.post("/inbox/<id:id>/status")
@needs("viewer", post="organizer")
def thread_status(id: int) -> ResponseReturnValue:
    org = current_organization()
    item = _thread(org.id, id, lock=True)
    form = StatusForm()
    if not form.validate_on_submit():
        flash(_form_problem(form, item), "error")
        return _show(org, item, AnswerForm(formdata=None), 400)
    try:
        mark(
            org, item, form.status.data or "", current_user.organizer, request.remote_addr or "", clock.now(),
            whole_number(form.seen.data),
        )  # fmt: skip
    except InboxError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _show(org, item, AnswerForm(formdata=None), 409)
    db.session.commit()
    flash("Marked done." if item.status == "done" else "Open again.", "info")
    return _back(item)


def _flagged(item: Thread) -> bool:
    """Flagged when kept, or reads as abuse by today's words (older threads, a longer list)."""
    last = db.session.get(Message, item.last_message_id) if item.last_message_id else None
    return item.flagged or (last is not None and abuse.flagged(last.body))


def _thread(org_id: int, id: int, lock: bool = False) -> Thread:
    query = select(Thread).where(Thread.id == id, Thread.organization_id == org_id)
    item = db.session.scalar(query.with_for_update() if lock else query)
    if item is None:
        abort(404, description="no such thread")
    return item


def _assign_form(organizers: list[Organizer], item: Thread) -> AssignForm:
    form = AssignForm(to=str(item.assigned_to_id or ""))
    form.to.choices = [SelectChoice("", "Nobody")] + [
        SelectChoice(str(o.id), o.name or o.email) for o in organizers
    ]
    return form


def _back(item: Thread) -> ResponseReturnValue:
    """After a change, the thread again (POST, redirect, GET: a reload does not repeat it)."""
    return redirect(url_for("console.thread", id=item.id, confirm=1 if _flagged(item) else None), 303)


def _form_problem(form: ConsoleForm, item: Thread) -> str:
    if "csrf_token" in form.errors:
        return "The form had expired; nothing was changed. Try again."
    if isinstance(form, AnswerForm):  # empty, or longer than the channel takes
        return f"Write an answer of at most {answer_max(item)} characters."
    return "Check the form and try again."


def _page() -> int:
    return whole_number(request.args.get("page"), 1, limit=100_000) or 1
