"""Opt-out, opt-in, help and command words, as the carriers and volunteers type them."""

from datetime import UTC, datetime

import pytest

from flows import engine
from flows.events import Consent, Context, Inbound, Organization, RecordConsent, ReplyKind, State
from flows.keywords import Command, is_help, is_opt_in, maybe_opt_out, opt_out_reason, parse_command
from tests.flows.hang import GROWTH_LIMIT, finishes, growth


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("STOP", "STOP"),
        ("Stop.", "STOP"),
        (" stop!! ", "STOP"),
        ("STOP 🙏", "STOP"),
        ("stop please", "STOP"),
        ("STOPALL", "STOPALL"),
        ("stop all", "STOPALL"),
        ("Unsubscribe", "UNSUBSCRIBE"),
        ("cancel", "CANCEL"),
        ("End.", "END"),
        ("QUIT!", "QUIT"),
        ("revoke", "REVOKE"),
        ("OPTOUT", "OPTOUT"),
        ("opt out", "OPTOUT"),
        ("Opt-out", "OPTOUT"),
        ("ALTO", "ALTO"),
        ("parar", "PARAR"),
        ("Cancelar!", "CANCELAR"),
        ("please stop texting me", "please stop texting me"),
        ("Please STOP texting me!!", "please stop texting me"),
        ("stop messaging me", "stop messaging me"),
        ("can you stop sending me texts", "stop sending me texts"),
        ("remove me from this list", "remove me from this list"),
        ("remove me", "remove me"),
        ("unsubscribe me", "unsubscribe me"),
        ("take me off your list", "take me off your list"),
        ("leave me alone", "leave me alone"),
        ("lose my number", "lose my number"),
        ("no more texts", "no more texts"),
        ("Don't text me", "don't text me"),
        ("don’t text me again", "don't text me"),
        ("do not contact me", "do not contact me"),
        ("No más mensajes", "no más mensajes"),
        ("no mas mensajes", "no mas mensajes"),
        ("no me escriban más", "no me escriban más"),
        ("Ya no me manden mensajes", "ya no me manden mensajes"),
        ("Who is this? Remove me.", "remove me"),
        ("I told you before, stop texting me", "stop texting me"),
        # From the published lists: providers' keywords, Canada's French ones, Spoke's rules.
        ("UNSUB", "UNSUBSCRIBE"),
        ("remove", "REMOVE"),
        ("TD", "TD"),
        ("stop2quit", "STOP"),
        ("ARRÊT", "ARRET"),
        ("arreter", "ARRET"),
        ("Désabonner", "DESABONNER"),
        ("désinscription", "DESINSCRIRE"),
        ("annuler", "ANNULER"),
        ("BAJA", "BAJA"),
        ("STOP svp", "STOP"),
        ("alto por favor", "ALTO"),
        ("Pas intéressé. ARRET", "ARRET"),
        # Written as one word, first person, plain words.
        ("stoptexting", "stop texting"),
        ("UnsubscribeMe", "UNSUBSCRIBE"),
        ("leavemealone", "leave me alone"),
        ("I quit", "i quit"),
        ("count me out", "count me out"),
        ("i want to stop", "i want to stop"),
        ("Wrong person", "wrong person"),
        ("I revoke my consent", "i revoke my consent"),
        ("this is spam", "this is spam"),
        ("I said stop texting me", "stop texting me"),
        ("quiero darme de baja", "quiero darme de baja"),
        ("ne m'écrivez plus", "ne m'écrivez plus"),
        # Composed from a verb and an object of opt_out_composed.
        ("pls stop textin me", "pls stop textin me"),
        ("dont want ur texts", "dont want ur texts"),
        ("Take this number off your list", "take this number off your list"),
        ("quit bugging me", "quit bugging me"),
        # What follows in another clause, or after "me", does not undo an opt-out.
        ("Remove me. Shift starts at 5 anyway", "remove me"),
        ("please remove me and never call again", "please remove me"),
        ("remove me my wife too", "remove me"),
        ("Remove me Sam here", "remove me"),
        ("take me off your list, my mom too", "take me off your list"),
    ],
)
def test_opt_out_reason(text: str, reason: str) -> None:
    assert opt_out_reason(text) == reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # Cancel, end, quit or stop a subscription, the texts or the sending.
        ("cancel subscription", "cancel subscription"),
        ("Cancel texts", "cancel texts"),
        ("end subscription", "end subscription"),
        ("END TEXTS", "end texts"),
        ("quit sending", "quit sending"),
        ("Quit sending!!", "quit sending"),
        ("cancel my subscription to these texts", "cancel my subscription"),
        ("withdraw consent", "withdraw consent"),
        ("revoke consent", "revoke consent"),
        ("enough texts", "enough texts"),
        ("Enough texts already!", "enough texts already"),
        ("stop immediately", "STOP"),
        ("stop right now", "STOP"),
        # Kindred, interjections and filler are nobody's name.
        ("take me off Kindred", "take me off"),
        ("Unsubscribe Kindred", "unsubscribe"),
        ("Unsubscribe from Kindred", "unsubscribe"),
        ("stop texting Kindred please", "stop texting"),
        ("Stop texting Bro", "stop texting"),
        ("Stop texting Dude", "stop texting"),
        ("Stop texting Lol", "stop texting"),
        ("stop texting Tho", "stop texting"),
        ("stop texting Yo", "stop texting"),  # not in the corpus: "Yo" reads as Spanish there
    ],
)
def test_plain_opt_outs_the_reviewer_found_missed(text: str, reason: str) -> None:
    assert opt_out_reason(text) == reason


@pytest.mark.parametrize(
    "text",
    [
        "cancel my subscription to the paper lol",
        "the end of the texts you sent was cut off",
        "I sent enough texts today",
        "Unsubscribe from Netflix was easy lol",
        "she had to unsubscribe Maria from the newsletter",
        "at the end texts from Maria came in",
        "she wants to end subscription fees for the paper",
        "I'll withdraw cash before the canvass",
    ],
)
def test_look_alikes_of_the_new_opt_outs_are_not_opt_outs(text: str) -> None:
    assert opt_out_reason(text) is None
    assert opt_out_reason(text, organization="Eastside Neighbors") is None


@pytest.mark.parametrize(
    "text",
    ["Stop texting Eastside", "Stop texting Eastside Neighbors"],
)
def test_the_organizations_own_name_is_nobody_else(text: str) -> None:
    assert opt_out_reason(text) is None
    assert maybe_opt_out(text)  # without the organization: asked "Reply STOP"
    assert opt_out_reason(text, organization="Eastside Neighbors") == "stop texting"
    assert not maybe_opt_out(text, organization="Eastside Neighbors")
    assert opt_out_reason("stop texting Maria so much", organization="Eastside Neighbors") is None


def test_a_volunteer_who_names_the_organization_is_opted_out() -> None:
    org = Organization("Eastside Neighbors", "organizers@eastside.example.org")
    ctx = Context(org, datetime(2026, 11, 21, 15, 0, tzinfo=UTC), Consent.OPTED_IN, "Sam", (), ())
    outcome = engine.respond(State("idle", {}), Inbound("Stop texting Eastside", ctx.now), ctx)
    assert outcome.state.step == "opted_out"
    assert [reply.kind for reply in outcome.replies] == [ReplyKind.OPT_OUT_CONFIRMATION]
    assert RecordConsent("opt_out", "stop texting") in outcome.effects


@pytest.mark.parametrize(
    "text",
    [
        "I'll stop by the forum",
        "the bus stop",
        "end the war on drugs",
        "don't stop sending ideas",
        "don't stop texting me",
        "we talked until the end",
        "she wants to cancel her rent increase",
        "talked to Maria at the stop",
        "Stop by the library at 5",
        "cancel my RSVP",
        "she quit her job",
        "remove Maria from my list",
        "Maria wants more texts about the forum",
        "add Maria",
        "",
        "🙂",
        "I quit my job",
        "count me out for Saturday",
        "I want to stop by Thursday",
        "my uncle said leave me alone, so I'll try again later",
        "June said stop texting her ex lol",
        "wrong person, I meant Dee Jones not Dee Smith",
        "td bank is where she works",
        "la renta no baja nunca",
        "para mañana",
        "alto el precio de la renta",
        "ok 👍",
        "thanks!",
        "no paren de mandar ideas",
        "take me off this Saturday's shift, I can do Sunday",
        "how do I unsubscribe my mom from her gym? she asked",
        "she wants to stop the texts from her landlord",
        "he told his boss to stop texting him on weekends",
    ],
)
def test_no_false_opt_out(text: str) -> None:
    assert opt_out_reason(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("START", True),
        ("unstop", True),
        ("YES", True),
        ("yes!", True),
        ("Yes please", True),
        ("yep", True),
        ("y", True),
        ("sí", True),
        ("Si", True),
        ("yes 🙂", True),
        ("no", False),
        ("yes, Maria", False),
        ("start a team", False),
        ("", False),
    ],
)
def test_is_opt_in(text: str, expected: bool) -> None:
    assert is_opt_in(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HELP", True),
        ("help?", True),
        ("Help!", True),
        ("info", True),
        ("AYUDA", True),
        ("help with Maria", False),
        ("I need to help my mom", False),
        ("", False),
    ],
)
def test_is_help(text: str, expected: bool) -> None:
    assert is_help(text) is expected


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("add Maria", Command("add", "Maria")),
        ("ADD: maria, neighbor", Command("add", "maria, neighbor")),
        ("Add  Dee and Yvonne from church ", Command("add", "Dee and Yvonne from church")),
        ("add", Command("add", "")),
        ("friends", Command("friends", "")),
        ("FRIENDS?", Command("friends", "")),
        ("list", Command("friends", "")),
        ("prompt", Command("prompt", "")),
        ("Next", Command("prompt", "")),
        ("idea for Ruth", Command("prompt", "for Ruth")),
        ("join EASTSIDE", Command("join", "EASTSIDE")),
        ("skip", Command("skip", "")),
        ("Maria is a friend", None),
        ("friends from church: Dee and Yvonne", None),
        ("next door neighbor Carlos", None),
        ("next week", None),
        ("siguiente semana voy", None),
        ("Siguiente vez le pregunto", None),
        ("SIGUIENTE", Command("prompt", "")),
        ("adding Bob", None),
        ("", None),
        ("🙂", None),
    ],
)
def test_parse_command(text: str, command: Command | None) -> None:
    assert parse_command(text) == command


@pytest.mark.parametrize(
    "text",
    [
        "stop " * 320,
        "🙏" * 1600,
        ("don't " * 200) + "stop texting me",
        "a" * 1600,
        "no me " * 266,
    ],
)
def test_long_messages_never_hang_the_keyword_matcher(text: str) -> None:
    assert finishes(lambda: (opt_out_reason(text), is_opt_in(text), is_help(text), parse_command(text)))


# The published opt-out lists, as their sources give them (keywords.json "sources" has the links).
PUBLISHED = {
    "CTIA": ["STOP", "END", "CANCEL", "UNSUBSCRIBE", "QUIT", "STOPALL"],
    "FCC 24-24, 47 CFR 64.1200(a)(10)": ["stop", "quit", "end", "revoke", "opt out", "cancel", "unsubscribe"],
    "Twilio": [
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "ARRET",
        "ARRETE",
        "ARRETT",
    ],
    "Telnyx": ["stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit"],
    "Plivo": ["STOP", "END", "QUIT", "CANCEL", "UNSUBSCRIBE", "UNSUB", "STOP ALL"],
    "AWS": ["ARRET", "CANCEL", "END", "OPT-OUT", "OPTOUT", "QUIT", "REMOVE", "STOP", "TD", "UNSUBSCRIBE"],
    "Vonage": ["stop", "end", "quit", "cancel", "unsubscribe"],
    "CWTA (Canada)": ["STOP", "ARRET", "ARRÊT", "ARRETER", "DESABONNER", "DÉSINSCRIRE"],
    "Spoke": [
        "stop",
        "stop please",
        "remove me",
        "remove my name",
        "take me off the list",
        "take me off this list",
        "lose my number",
        "don't contact me",
        "delete my number",
        "I opt out",
        "stop2quit",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
    ],
}


@pytest.mark.parametrize(
    "text",
    [pytest.param(word, id=f"{source}:{word}") for source, words in PUBLISHED.items() for word in words],
)
def test_every_word_of_the_published_lists_opts_out(text: str) -> None:
    assert opt_out_reason(text) is not None
    assert opt_out_reason(f"{text}.") is not None and opt_out_reason(f"  {text.lower()}!! ") is not None


@pytest.mark.parametrize(
    "piece", [" ", "a ", "-", "'", ", ", "(", "+", "no me ", "stop ", "please remove me "]
)
def test_a_keywords_reading_grows_with_its_length_not_faster(piece: str) -> None:
    readers = [opt_out_reason, maybe_opt_out, is_opt_in, is_help, parse_command]
    grown = {reader.__name__: growth(reader, piece) for reader in readers}
    assert max(grown.values()) < GROWTH_LIMIT, grown
