"""The organization's settings, for organizers: `kindred org show` and `kindred org set`.

The calling window is bounded by the TCPA's 8 a.m. to 9 p.m. (recipient's local time); the
default, 9 a.m. to 8 p.m., also sits inside every state's stricter window.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from flask.cli import with_appcontext
from sqlalchemy import inspect

from gateway.cli.actor import actor, host
from gateway.community import audit, organization
from gateway.extensions import db

EARLIEST, LATEST = 8, 21  # hours; messages the system starts never go outside these


@click.group("org")
def org_group() -> None:
    """The organization's name, contact and pacing rules."""


@org_group.command("show")
@with_appcontext
def show() -> None:
    """Print the organization's settings."""
    org = organization.default()
    db.session.commit()
    click.echo(
        f"name: {org.name}\ncontact: {org.contact}\nphone: {org.phone or '(not set)'}\n"
        f"timezone: {org.timezone}\nframing: {org.frequency}\n"
        f"calling window: {org.window_start_hour}:00 to {org.window_end_hour}:00 recipient's local time\n"
        f"caps: at most {org.daily_cap} a day and {org.weekly_cap} a week per person"
    )


@org_group.command("set")
@click.option("--name")
@click.option("--contact", help="How volunteers reach a person (named in HELP replies).")
@click.option("--phone", help="The number volunteers text, as INVITE messages show it.")
@click.option("--timezone", help="IANA time zone for people whose own zone is unknown.")
@click.option("--frequency", help='Message frequency as the join message states it ("About 3 msgs/week").')
@click.option("--window", nargs=2, type=int, metavar="START END", help="Calling window, hours (e.g. 9 20).")
@click.option("--daily-cap", type=click.IntRange(1, 10))
@click.option("--weekly-cap", type=click.IntRange(1, 30))
@with_appcontext
def set_settings(
    name: str | None,
    contact: str | None,
    phone: str | None,
    timezone: str | None,
    frequency: str | None,
    window: tuple[int, int] | None,
    daily_cap: int | None,
    weekly_cap: int | None,
) -> None:
    """Change the settings given; the others stay as they are."""
    org = organization.default()
    if window is not None:
        start, end = window
        if not EARLIEST <= start < end <= LATEST:
            raise click.BadParameter(
                f"the window must lie within {EARLIEST}:00 and {LATEST}:00 and start before it ends",
                param_hint="--window",
            )
        org.window_start_hour, org.window_end_hour = start, end
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise click.BadParameter(
                f"{timezone!r} is not an IANA time zone", param_hint="--timezone"
            ) from exc
        org.timezone = timezone
    daily = daily_cap or org.daily_cap
    weekly = weekly_cap or org.weekly_cap
    if weekly < daily:
        raise click.BadParameter("the weekly cap can't be below the daily cap", param_hint="--weekly-cap")
    org.daily_cap, org.weekly_cap = daily, weekly
    for field, value in (("name", name), ("contact", contact), ("phone", phone), ("frequency", frequency)):
        if value is not None:
            setattr(org, field, value.strip())
    changed = {
        column.key: getattr(org, column.key)
        for column in inspect(org).mapper.column_attrs
        if inspect(org).attrs[column.key].history.has_changes()
    }
    if changed:
        audit.record(org, "settings_changed", actor=actor(), ip=host(), **changed)
    db.session.commit()
    click.echo("saved")
