"""The organization's settings, for organizers: `kindred org show` and `kindred org set` (the
checks are gateway.community.organization's, which the console's settings page shares)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from gateway.cli.actor import actor, host
from gateway.community import audit, organization
from gateway.extensions import db


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
    try:
        changed = organization.change_settings(
            org,
            name=name,
            contact=contact,
            phone=phone,
            timezone=timezone,
            frequency=frequency,
            window=window,
            daily_cap=daily_cap,
            weekly_cap=weekly_cap,
        )
    except organization.SettingsError as exc:
        raise click.BadParameter(str(exc), param_hint="--" + exc.field.replace("_", "-")) from exc
    if changed:
        audit.record(org, "settings_changed", actor=actor(), ip=host(), **changed)
    db.session.commit()
    click.echo("saved")
