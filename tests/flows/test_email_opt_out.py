"""An email reply opts out only when its whole visible text asks to: a stop keyword, an opt-out
phrase, or an email word ("baja"); a reply that mentions stopping among other things is read by
an organizer instead. Texting's keywords count too ("Baja", "désabonner")."""

from __future__ import annotations

import pytest

from flows.keywords import email_opt_out_reason

OPTS_OUT = {
    "unsubscribe": "UNSUBSCRIBE",
    "Unsubscribe.": "UNSUBSCRIBE",
    "STOP!": "STOP",
    "stop, thanks": "STOP",
    "unsubscibe": "UNSUBSCRIBE",
    "Please remove me from your list": "remove me from your list",
    "unsubscribe me please": "unsubscribe me",
    "Baja": "BAJA",
    "darme de baja": "darme de baja",
    "Cancelar suscripción": "cancelar suscripcion",
    "CANCELAR": "CANCELAR",
    "désabonner": "DESABONNER",
    "dame de baja": "dame de baja",
}
STAYS = [
    "",
    "Yes, I'll stop by Thursday.",
    "Can we stop the cuts to the library?",
    "Please don't unsubscribe me, I love these emails",
    "I'll bring my neighbor Ana.",
    "Remove me from the Tuesday call but keep the emails coming",
]


@pytest.mark.parametrize(("text", "reason"), list(OPTS_OUT.items()))
def test_a_reply_that_only_asks_to_stop_opts_out(text: str, reason: str) -> None:
    assert email_opt_out_reason(text) == reason


@pytest.mark.parametrize("text", STAYS)
def test_a_reply_that_says_more_is_for_an_organizer(text: str) -> None:
    assert email_opt_out_reason(text) is None
