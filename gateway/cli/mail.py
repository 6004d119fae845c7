"""`kindred mail ...`: organizer email from the terminal. `preview` prints who would get an email
and who is excluded and why; `send` sends it only when `--confirm` names the count the preview
showed; `list` shows the latest mailings and where their emails are."""

from __future__ import annotations

from typing import IO

import click
from flask import current_app
from flask.cli import with_appcontext

from gateway.cli.actor import actor, host
from gateway.community import mailings, organization, sending
from gateway.config import email_on

audience_option = click.option(
    "--audience",
    required=True,
    help="all (everyone with an email address), team:CODE (a team's join code) or event:ID "
    "(the people going to that event).",
)
subject_option = click.option("--subject", required=True, help="The subject line (at most 200 characters).")
body_option = click.option(
    "--body-file",
    required=True,
    type=click.File("r", encoding="utf-8"),
    help="The message, UTF-8 Markdown; - reads it from standard input.",
)


@click.group("mail")
def mail_group() -> None:
    """Email to the members who confirmed their email address."""


def _audience(raw: str) -> sending.Audience:
    try:
        return mailings.parse_audience(organization.default(), raw)
    except sending.AudienceError as exc:
        raise click.BadParameter(str(exc), param_hint="--audience") from exc


def _draft(subject: str, body_file: IO[str]) -> mailings.Draft:
    try:
        body = body_file.read()
    except UnicodeDecodeError as exc:
        raise click.BadParameter("the file is not UTF-8 text", param_hint="--body-file") from exc
    try:
        return mailings.draft(subject, body)
    except mailings.DraftError as exc:
        raise click.UsageError(f"{exc}.") from exc


@mail_group.command("preview")
@audience_option
@subject_option
@body_option
@with_appcontext
def preview_mail(audience: str, subject: str, body_file: IO[str]) -> None:
    """Print how many would get the email, and how many are excluded, by reason."""
    chosen = _audience(audience)
    _draft(subject, body_file)
    result = mailings.preview(organization.default(), chosen)
    click.echo(f"{result.count} will get this email")
    for reason, _words, count, _names in result.exclusions():
        click.echo(f"{reason} {count}")
    if result.deferred:
        assert result.first_deferred is not None
        click.echo(
            f"deferred {result.deferred} (their daytime: earliest {result.first_deferred:%Y-%m-%d %H:%M} UTC)"
        )
    if not email_on(current_app.config):
        click.echo("email is turned off here (EMAIL_TRANSPORT=none): nothing can be sent")


@mail_group.command("send")
@audience_option
@subject_option
@body_option
@click.option(
    "--confirm", type=click.IntRange(0, 2**31 - 1), required=True, help="The count `mail preview` printed."
)
@with_appcontext
def send_mail(audience: str, subject: str, body_file: IO[str], confirm: int) -> None:
    """Send the email, if CONFIRM is the count it would reach now; else nothing is sent."""
    chosen = _audience(audience)
    mail = _draft(subject, body_file)
    if not email_on(current_app.config):
        raise click.ClickException("email is turned off here (EMAIL_TRANSPORT=none): nothing was sent")
    try:
        mailing, _ = mailings.send(organization.default(), chosen, mail, confirm, actor=actor(), ip=host())
    except mailings.ConfirmError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"mailing {mailing.id}: {mailing.planned} queued for {mailing.audience}")


@mail_group.command("list")
@with_appcontext
def list_mail() -> None:
    """List the latest mailings with their progress."""
    latest = mailings.mailings(organization.default())
    counts = mailings.progress([m.id for m in latest])
    for m in latest:
        click.echo(sending.listing_line(m, counts[m.id]))
