"""Teams: every team with its members, leads, newcomers this month, and its activity in the last
30 days (team updates relayed, conversations its members reported) and next event; one team's
members and activity. Viewers read; organizers make a member a lead of their team (or not),
which is in the audit log, and the new lead hears it in the reply to their next text.

The counts come from a fixed handful of grouped queries (gateway.community.teams.overview),
however many teams and members there are."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from wtforms import HiddenField

from gateway import clock
from gateway.access import current_organization, needs
from gateway.community import audit, teams
from gateway.console import bp
from gateway.console.forms import ConsoleForm, whole_number
from gateway.extensions import db
from gateway.models import Event, Organization, Team


class LeadForm(ConsoleForm):
    person = HiddenField()
    lead = HiddenField()


def _month_start(org: Organization, now: datetime) -> datetime:
    """The start of this month on the organization's clock."""
    local = now.astimezone(ZoneInfo(org.timezone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@bp.get("/teams")
@needs("viewer")
def teams_page() -> ResponseReturnValue:
    org = current_organization()
    now = clock.now()
    return render_template("console/teams.html", rows=teams.overview(org, now, _month_start(org, now)))


def _team(org: Organization, id: int) -> Team:
    team = db.session.scalar(select(Team).where(Team.id == id, Team.organization_id == org.id))
    if team is None:
        abort(404, description="no such team")
    return team


@bp.get("/teams/<id:id>")
@needs("viewer")
def team(id: int) -> ResponseReturnValue:
    org = current_organization()
    return _team_page(org, _team(org, id))


def _team_page(org: Organization, team: Team, status: int = 200) -> ResponseReturnValue:
    now = clock.now()
    (row,) = teams.overview(org, now, _month_start(org, now), team_id=team.id)
    events = db.session.scalars(
        select(Event).where(Event.team_id == team.id, Event.starts_at > now).order_by(Event.starts_at)
    ).all()
    zone = ZoneInfo(org.timezone)
    return render_template(
        "console/team.html",
        row=row,
        members=teams.member_rows(team, now),
        events=events,
        local=lambda moment: moment.astimezone(zone).strftime("%a %b %d %Y, %I:%M %p %Z"),
        form=LeadForm(formdata=None),
        show_phone=current_user.role != "viewer",
    ), status


@bp.post("/teams/<id:id>/lead")
@needs("viewer", post="organizer")
def team_lead(id: int) -> ResponseReturnValue:
    org = current_organization()
    team = _team(org, id)
    form = LeadForm()
    person_id = whole_number(form.person.data) if form.validate_on_submit() else None
    if person_id is None or form.lead.data not in ("1", "0"):
        flash("Choose a member of the team.", "error")
        return _team_page(org, team, 400)
    lead = form.lead.data == "1"
    try:
        changed = teams.set_lead(team, person_id, lead)
    except LookupError:
        flash("That person is not on this team.", "error")
        return _team_page(org, team, 400)
    if changed:
        audit.record(
            org, "lead_made" if lead else "lead_removed", current_user.organizer,
            ip=request.remote_addr or "", team_id=team.id, person_id=person_id,
        )  # fmt: skip
    db.session.commit()
    flash(
        "Made a lead. They'll hear it in the reply to their next text." if lead else "No longer a lead.",
        "info",
    )
    return redirect(url_for("console.team", id=team.id))
