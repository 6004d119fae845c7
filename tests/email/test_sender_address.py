"""The sender of an inbound email is kept as an address as wide as the widest one (320
characters, the width of an address), on SQLite and PostgreSQL alike; a wider From is refused
(see test_reply_safety)."""

from __future__ import annotations

from gateway.models import Address
from tests.email.conftest import MailProgram, inbound_emails, reply_address


def test_a_from_address_of_the_widest_width_is_kept(member: Address, mail_program: MailProgram) -> None:
    sender = "a" * 64 + "@" + "b" * 243 + ".example.org"
    assert len(sender) == 320
    response = mail_program.reply("gmail", reply_address(member), sender=sender)

    assert response.status_code == 200
    [stored] = inbound_emails()
    assert stored.address.value == sender
