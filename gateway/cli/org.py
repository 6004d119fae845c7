"""The organizations an instance serves: `kindred org list`, `kindred org create` (another
organization, texted at its own number), and each one's settings, `kindred org show` and
`kindred org set` (the checks are gateway.community.organization's, which the console's
settings page shares). `--org SLUG` names the organization a command acts on; without it, the
first one, the deployment's own."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from gateway.cli.actor import actor, host
from gateway.community import audit, organization
from gateway.extensions import db
from gateway.models import Organization

Command = TypeVar("Command", bound=Callable[..., object])


def org_option(command: Command) -> Command:
    """Give a command `--org SLUG`, passed to it as `org_slug`."""
    return click.option(
        "--org",
        "org_slug",
        metavar="SLUG",
        help="The organization to act on (kindred org list); the first one if not given.",
    )(command)


def chosen(slug: str | None) -> Organization:
    """The organization `--org` names, or the first one (the deployment's own) if it names none."""
    if not slug:
        return organization.default()
    org = organization.by_slug(slug)
    if org is None:
        raise click.BadParameter(f"there is no organization {slug!r} (kindred org list)", param_hint="--org")
    return org


@click.group("org")
def org_group() -> None:
    """The organizations this instance serves: their names, contacts and pacing rules."""


@org_group.command("list")
@with_appcontext
def list_organizations() -> None:
    """Print each organization's short name, name and number, the first (the default) first."""
    organization.default()
    db.session.commit()
    for org in db.session.scalars(select(Organization).order_by(Organization.id)):
        click.echo(f"{org.slug}\t{org.name}\t{organization.display_number(org.phone) or '(no number yet)'}")


@org_group.command("create")
@click.option("--slug", required=True, help="Its short name, for --org and signing in: like eastside.")
@click.option("--name", required=True, help="Its name, as volunteers read it.")
@click.option("--phone", default="", help="The Twilio number its volunteers text; each organization its own.")
@click.option("--contact", default="", help="How volunteers reach a person (named in HELP replies).")
@click.option("--timezone", help="IANA time zone for people whose own zone is unknown (DEFAULT_TIMEZONE).")
@with_appcontext
def create(slug: str, name: str, phone: str, contact: str, timezone: str | None) -> None:
    """Add another organization this instance serves, with the starter prompt library. Its
    people, messages and exports are its own: no other organization's organizers see them."""
    config = current_app.config
    organization.default()  # the deployment's own organization stays the first, the default
    try:
        org = organization.create(slug, name, phone, timezone or config["DEFAULT_TIMEZONE"], contact)
    except organization.OrganizationError as exc:
        raise click.ClickException(str(exc)) from exc
    audit.record(org, "organization_created", actor=actor(), ip=host(), slug=org.slug, name=org.name)
    db.session.commit()
    click.echo(f"created {org.slug}; invite its first admin:")
    click.echo(f"  kindred organizer invite EMAIL --role admin --org {org.slug}")
    if not org.phone:
        click.echo(
            f"it has no number yet: kindred org set --org {org.slug} --phone NUMBER before anyone texts it"
        )


@org_group.command("show")
@org_option
@with_appcontext
def show(org_slug: str | None) -> None:
    """Print the organization's settings."""
    org = chosen(org_slug)
    db.session.commit()
    number = organization.display_number(org.phone) or "(not set)"
    click.echo(
        f"name: {org.name}\ncontact: {org.contact}\nphone: {number}\n"
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
@org_option
@with_appcontext
def set_settings(
    org_slug: str | None,
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
    org = chosen(org_slug)
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
