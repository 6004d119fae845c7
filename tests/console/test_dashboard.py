"""The dashboard shows the relational work: conversations reported, where friends stand on the
ladder, and what volunteers learned, never messages sent."""

from __future__ import annotations

import re

from tests.console.conftest import SignedIn
from tests.support import Phone


def test_a_reported_conversation_shows_on_the_dashboard(phone: Phone, signed_in: SignedIn) -> None:
    for text in ("hi", "yes", "Sam", "my grandma Ruth", "medicare, her church"):
        phone.send(text)
    phone.send("talked sunday, she's worried about prices but open to coming to the forum")

    page = signed_in("viewer").get("/console/").get_data(as_text=True)

    figures = dict(
        (label, int(n)) for n, label in re.findall(r'"figure">(\d+)</div><div class="label">([^<]+)<', page)
    )
    assert figures == {
        "conversations reported this week": 1,
        "conversations reported in all": 1,
        "volunteers who joined": 1,
        "opt-outs this week": 0,
    }
    ladder = dict(re.findall(r"<tr><td>(\w+)</td><td>(\d+)</td>", page))
    assert ladder == {"listed": "0", "talked": "0", "open": "1", "committed": "0", "joined": "0"}
    assert "messages sent" not in page.lower()
