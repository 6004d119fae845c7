"""Applying what the flows decided: one handler per effect type, each named for what it does,
in the turn's transaction. Handlers only translate an effect into a call of the service that
owns the rule (gateway.community, gateway.delivery)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import singledispatch

from flask import current_app

from flows import events as ev
from gateway import keys
from gateway.community import events, friends, ideas, inbox, members, privacy, teams, tips
from gateway.delivery import consent
from gateway.models import Address, FollowUp, Friend, Message, Organization, Person


@dataclass
class Turn:
    """What one turn's effects act on."""

    org: Organization
    person: Person
    address: Address
    inbound: Message | None
    replies: list[Message]
    now: datetime
    friends: dict[ev.FriendRef, Friend]
    follow_ups: list[FollowUp] = field(default_factory=list)
    relayed: list[Message] = field(default_factory=list)  # team updates queued for teammates

    def friend(self, ref: ev.FriendRef) -> Friend:
        """The volunteer's friend with this id or new-friend key; anyone else's is refused."""
        friend = self.friends.get(ref)
        if friend is None:
            raise LookupError(f"friend {ref!r} is not one of this volunteer's")
        return friend

    @property
    def evidence_id(self) -> int | None:
        """The inbound text that caused this turn, the evidence for what it records."""
        return self.inbound.id if self.inbound else None


@singledispatch
def apply(effect: object, turn: Turn) -> None:
    """Apply one effect of a flow's outcome."""
    raise TypeError(f"no handler for effect {type(effect).__name__}")


@apply.register
def record_consent(effect: ev.RecordConsent, turn: Turn) -> None:
    consent.record(turn.address, effect.kind, "sms_keyword", effect.reason, turn.evidence_id)
    if effect.kind == "opt_in":
        friends.welcome(turn.org, turn.person, turn.now)


@apply.register
def set_name(effect: ev.SetName, turn: Turn) -> None:
    turn.person.name = effect.name[:80]
    friends.link_referral(turn.person)


@apply.register
def add_friend(effect: ev.AddFriend, turn: Turn) -> None:
    config = current_app.config
    turn.friends[effect.key] = friends.add(
        turn.person,
        effect.name,
        effect.relationship,
        effect.interests,
        effect.contacts,
        turn.now,
        config["SECRET_KEY"],
        config["DEFAULT_REGION"],
    )


@apply.register
def set_interests(effect: ev.SetInterests, turn: Turn) -> None:
    turn.friend(effect.friend).interests = list(effect.interests)


@apply.register
def mark_prompted(effect: ev.MarkPrompted, turn: Turn) -> None:
    reply = turn.replies[0] if turn.replies else None
    friends.mark_prompted(turn.friend(effect.friend), effect.prompt_id, reply, turn.now)


@apply.register
def log_report(effect: ev.LogReport, turn: Turn) -> None:
    friend = turn.friend(effect.friend)
    friends.log_report(
        turn.person,
        friend,
        effect.outcome,
        effect.learned,
        effect.tags,
        effect.new_stage,
        turn.inbound,
        turn.now,
        current_app.config["DEFAULT_REGION"],
        effect.listen_first,
    )


@apply.register
def mark_tip_sent(effect: ev.MarkTipSent, turn: Turn) -> None:
    tips.mark_sent(turn.person, effect.tip_id, turn.now)


@apply.register
def keep_for_inbox(effect: ev.KeepForInbox, turn: Turn) -> None:
    if turn.inbound is not None:
        inbox.keep(turn.inbound, turn.person)


@apply.register
def schedule_follow_up(effect: ev.ScheduleFollowUp, turn: Turn) -> None:
    friend = turn.friend(effect.friend) if effect.friend is not None else None
    turn.follow_ups.append(friends.schedule_follow_up(turn.person, friend, effect.at))


@apply.register
def snooze_friend(effect: ev.SnoozeFriend, turn: Turn) -> None:
    turn.friend(effect.friend).snoozed_until = effect.until


@apply.register
def forget_friend(effect: ev.ForgetFriend, turn: Turn) -> None:
    privacy.forget_friend(turn.address, turn.friend(effect.friend), turn.friends.values())


@apply.register
def erase_volunteer(effect: ev.EraseVolunteer, turn: Turn) -> None:
    privacy.erase_volunteer(turn.person, turn.address, [reply.id for reply in turn.replies], turn.evidence_id)
    turn.friends.clear()


@apply.register
def link_referrer(effect: ev.Referred, turn: Turn) -> None:
    friends.referred(turn.org, turn.person, turn.address, effect.code, keys.secrets(current_app.config))


@apply.register
def create_team(effect: ev.CreateTeam, turn: Turn) -> None:
    teams.create(turn.org, effect.name, effect.code, turn.person, turn.inbound, turn.now)


@apply.register
def join_team(effect: ev.JoinTeam, turn: Turn) -> None:
    teams.join_by_id(turn.org, effect.team_id, turn.person, turn.inbound, turn.now)


@apply.register
def leave_team(effect: ev.LeaveTeam, turn: Turn) -> None:
    teams.leave(turn.person)


@apply.register
def mute_team(effect: ev.MuteTeam, turn: Turn) -> None:
    teams.mute(turn.person, effect.muted)


@apply.register
def relay_team_update(effect: ev.RelayTeamUpdate, turn: Turn) -> None:
    region = current_app.config["DEFAULT_REGION"]
    turn.relayed.extend(
        teams.relay_update(turn.person, effect.sender, effect.team, effect.text, turn.inbound, region)
    )


@apply.register
def record_rsvp(effect: ev.RecordRsvp, turn: Turn) -> None:
    events.record_rsvp(turn.org, effect.event_id, turn.person, effect.going, turn.now)


@apply.register
def propose_event(effect: ev.ProposeEvent, turn: Turn) -> None:
    events.propose(
        turn.org, turn.person, effect.title, effect.starts_at, effect.location, turn.inbound, turn.now
    )


@apply.register
def mark_notices_told(effect: ev.NoticesTold, turn: Turn) -> None:
    for notice in effect.notices:
        if notice.kind is ev.NoticeKind.LEAD:
            teams.mark_lead_told(turn.person, notice.ref, turn.now)
    told = {kind: [n.ref for n in effect.notices if n.kind is kind] for kind in ev.NoticeKind}
    events.mark_told(
        turn.person, told[ev.NoticeKind.EVENT_APPROVED] + told[ev.NoticeKind.EVENT_DECLINED], turn.now
    )
    ideas.mark_told(turn.person, told[ev.NoticeKind.IDEA_ADOPTED], turn.now)


@apply.register
def set_language(effect: ev.SetLanguage, turn: Turn) -> None:
    turn.person.language = effect.language


@apply.register
def set_timezone(effect: ev.SetTimezone, turn: Turn) -> None:
    turn.person.timezone = effect.timezone


@apply.register
def share_idea(effect: ev.ShareIdea, turn: Turn) -> None:
    ideas.share(turn.org, turn.person, effect.text, turn.inbound)


@apply.register
def sign_up_for_email(effect: ev.SignUpForEmail, turn: Turn) -> None:
    members.sign_up_by_text(turn.org, turn.person, effect.address, turn.inbound)
