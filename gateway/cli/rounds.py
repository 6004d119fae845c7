"""`kindred rounds ...`: prompt rounds from the organizer's terminal. `preview` prints what a round
would do; `send` sends it only when `--confirm` names the count the preview showed."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from gateway.cli.actor import actor, host
from gateway.community import organization, rounds, sending
from gateway.extensions import db
from gateway.models import PromptRound

audience_option = click.option(
    "--audience",
    required=True,
    help="all, team:CODE (a team's join code), stage:STAGE (volunteers with a friend at that "
    "stage) or inactive:WEEKS (no text from them for that many weeks).",
)


@click.group("rounds")
def rounds_group() -> None:
    """Prompt rounds: one conversation idea to each opted-in volunteer in an audience."""


def _audience(raw: str) -> rounds.Audience:
    try:
        return rounds.parse_audience(organization.default(), raw)
    except rounds.AudienceError as exc:
        raise click.BadParameter(str(exc), param_hint="--audience") from exc


@rounds_group.command("preview")
@audience_option
@with_appcontext
def preview_round(audience: str) -> None:
    """Print how many would get a text, and how many are excluded, by reason."""
    result = rounds.preview(organization.default(), _audience(audience))
    click.echo(f"{result.count} will get a text")
    for reason, _words, count in result.exclusions():
        click.echo(f"{reason} {count}")
    if result.deferred:
        assert result.first_deferred is not None and result.last_deferred is not None
        click.echo(
            f"deferred {result.deferred} (quiet hours: earliest {result.first_deferred:%Y-%m-%d %H:%M} UTC, "
            f"latest {result.last_deferred:%Y-%m-%d %H:%M} UTC)"
        )


@rounds_group.command("send")
@audience_option
@click.option(
    "--confirm", type=click.IntRange(0, 2**31 - 1), required=True, help="The count `rounds preview` printed."
)
@with_appcontext
def send_round(audience: str, confirm: int) -> None:
    """Send the round, if CONFIRM is the count it would text now; else nothing is sent."""
    org = organization.default()
    try:
        prompt_round = rounds.send(org, _audience(audience), confirm, actor=actor(), ip=host())
    except rounds.ConfirmError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"round {prompt_round.id}: {prompt_round.planned} queued for {prompt_round.audience}")


@rounds_group.command("list")
@with_appcontext
def list_rounds() -> None:
    """List the latest rounds with their progress."""
    latest = rounds.rounds(organization.default())
    counts = rounds.progress([r.id for r in latest])
    for r in latest:
        click.echo(sending.listing_line(r, counts[r.id]))


def _change(round_id: int, action: str) -> None:
    prompt_round = db.session.get(PromptRound, round_id)
    if prompt_round is None or prompt_round.organization_id != organization.default().id:
        raise click.ClickException(f"no round {round_id}")
    try:
        touched = rounds.change(prompt_round, action, actor=actor(), ip=host())
    except rounds.RoundStateError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"round {round_id} {rounds.PAST[action]}" + (f" ({touched} messages)" if touched else ""))


@rounds_group.command("pause")
@click.argument("round_id", type=click.IntRange(1, 2**31 - 1))
@with_appcontext
def pause_round(round_id: int) -> None:
    """Hold the round's texts not yet sent, until it is resumed."""
    _change(round_id, "pause")


@rounds_group.command("resume")
@click.argument("round_id", type=click.IntRange(1, 2**31 - 1))
@with_appcontext
def resume_round(round_id: int) -> None:
    """Send the paused round's waiting texts."""
    _change(round_id, "resume")


@rounds_group.command("cancel")
@click.argument("round_id", type=click.IntRange(1, 2**31 - 1))
@with_appcontext
def cancel_round(round_id: int) -> None:
    """Withdraw every text of the round not yet sent."""
    _change(round_id, "cancel")
