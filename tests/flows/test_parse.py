"""Reading friends, interests, names and reports out of what volunteers type."""

from collections.abc import Callable

import pytest

from flows.events import OUTCOMES, RELATIONSHIPS
from flows.parse import (
    DEFAULT_INTERESTS,
    FriendMention,
    ReportReading,
    find_interests,
    introduces_own,
    mask_contacts,
    parse_first_name,
    parse_friends,
    parse_interest_answer,
    parse_report,
    reads_as_report,
    report_people,
)
from tests.flows.hang import GROWTH_LIMIT, finishes, growth


def friend(
    name: str,
    relationship: str = "other",
    interests: tuple[str, ...] = (),
    contacts: tuple[str, ...] = (),
) -> FriendMention:
    return FriendMention(name, relationship, interests, contacts)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Maria, neighbor, cares about schools", [friend("Maria", "neighbor", ("schools",))]),
        ("my grandma Ruth", [friend("Ruth", "family")]),
        (
            "Dee and Yvonne from church",
            [friend("Dee", "community"), friend("Yvonne", "community")],
        ),
        ("Bob 555-201-7788", [friend("Bob", contacts=("+15552017788",))]),
        ("maria", [friend("Maria")]),
        ("Jen from work, worried about rent", [friend("Jen", "coworker", ("housing",))]),
        (
            "my neighbor Carlos who cares about healthcare and prices",
            [friend("Carlos", "neighbor", ("healthcare", "prices"))],
        ),
        ("Ann ann@example.org", [friend("Ann", contacts=("ann@example.org",))]),
        ("ADD Maria, neighbor", [friend("Maria", "neighbor")]),
        ("Mary Ann from next door", [friend("Mary Ann", "neighbor")]),
        ("Doc Brown, my buddy", [friend("Doc Brown", "friend")]),
        ("Kim, best friend from the gym", [friend("Kim", "community")]),
        ("Tom from school", [friend("Tom", "classmate")]),
        ("my sister-in-law Tasha", [friend("Tasha", "family")]),
        ("o'brien, coworker", [friend("O'Brien", "coworker")]),
        ("McKenzie", [friend("McKenzie")]),
        ("DEE AND YVONNE", [friend("Dee"), friend("Yvonne")]),
        ("Maria goes to my church", [friend("Maria", "community")]),
        (
            "maria lives down the street and worries about gas prices",
            [friend("Maria", "neighbor", ("prices",))],
        ),
        ("Will from work", [friend("Will", "coworker")]),
        ("Tia, neighbor, cares about schools", [friend("Tia", "neighbor", ("schools",))]),
        ("mi tia Rosa", [friend("Rosa", "family")]),
        ("next door neighbor Carlos", [friend("Carlos", "neighbor")]),
        ("Maria’s mom Linda", [friend("Linda", "family")]),
        ("my mom", [friend("Mom", "family")]),
        ("mi vecina María", [friend("María", "neighbor")]),
        (
            "Bob (555) 201-7788 and Ann +1 555 201 7788",
            [
                friend("Bob", contacts=("+15552017788",)),
                friend("Ann", contacts=("+15552017788",)),
            ],
        ),
        (
            "Sam 5552017788 sam@example.com",
            [friend("Sam", contacts=("+15552017788", "sam@example.com"))],
        ),
        ("Maria, Maria", [friend("Maria")]),
        ("hello?", []),
        ("🙂", []),
        ("", []),
        ("'; DROP TABLE friends;--", []),
        ("555-201-7788", []),
        ("my neighbor", []),
    ],
)
def test_parse_friends(text: str, expected: list[FriendMention]) -> None:
    assert parse_friends(text) == expected


@pytest.mark.parametrize(
    ("text", "interests", "expected"),
    [
        ("Maria, cares about rent and climate", ("housing",), ("housing",)),
        ("Ruth, worried about the library", ("housing", "libraries", "library"), ("library",)),
    ],
)
def test_parse_friends_reports_only_the_organizations_interests(
    text: str, interests: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    assert [mention.interests for mention in parse_friends(text, interests)] == [expected]


def test_every_relationship_is_one_the_data_model_knows() -> None:
    texts = ["Ann, aunt", "Ann, pal", "Ann next door", "Ann from work", "Ann from class"]
    found = {mention.relationship for text in texts for mention in parse_friends(text)}
    assert found <= set(RELATIONSHIPS)
    assert len(found) == len(texts)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("medicare, her church", ("healthcare", "church")),
        ("Rent and groceries", ("housing", "prices")),
        ("climate change & the bus", ("climate", "transit")),
        ("She cares about her church and the garden club", ("church", "garden club")),
        ("schools; Ruth's garden", ("schools", "garden")),
        ("immigration y salud", ("immigration", "healthcare")),
        ("rent, rent, eviction", ("housing",)),
        ("her job, church", ("jobs", "church")),
        ("she worries about how nobody listens to her", ()),
        ("skip!", ()),
        ("idk", ()),
        ("", ()),
        # How someone feels is not what they care about; what they care about still is.
        ("idk, she is fed up", ()),
        ("I'm sick", ()),
        ("Im so tired lol", ()),
        ("he is burned out", ()),
        ("ya está harta", ()),
        ("ella está cansada", ()),
        ("immigration, she is scared", ("immigration",)),
        ("she cares about rent", ("housing",)),
        ("healthcare", ("healthcare",)),
        ("la escuela", ("schools",)),
        ("sick leave", ("sick leave",)),
        ("books", ("books",)),
    ],
)
def test_parse_interest_answer(text: str, expected: tuple[str, ...]) -> None:
    assert parse_interest_answer(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("worried about rent and groceries", ("housing", "prices")),
        ("she's worried about prices but open to coming to the forum", ("prices",)),
        ("talked to Jen from work and Tom from school", ()),
        ("her medicare and the bus stop", ("healthcare", "transit")),
        ("Gas prices! Inflation!", ("prices",)),
        ("nothing in particular", ()),
    ],
)
def test_find_interests(text: str, expected: tuple[str, ...]) -> None:
    assert find_interests(text) == expected


def test_find_interests_keeps_to_the_given_list_and_its_spelling() -> None:
    assert find_interests("rent, medicare and the Library", ("Housing", "library")) == (
        "Housing",
        "library",
    )


def test_default_interests() -> None:
    assert len(set(DEFAULT_INTERESTS)) == 12
    assert find_interests(" ".join(DEFAULT_INTERESTS)) == DEFAULT_INTERESTS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sam", "Sam"),
        ("sam!", "Sam"),
        ("I'm Sam", "Sam"),
        ("my name is Sam Lee", "Sam"),
        ("it's Sam", "Sam"),
        ("Hi! I’m Sam 🙂", "Sam"),
        ("Hey it's Jo-Anne", "Jo-Anne"),
        ("Soy Ana", "Ana"),
        ("me llamo Ana", "Ana"),
        ("Sam here", "Sam"),
        ("Will", "Will"),
        ("", None),
        ("🙂", None),
        ("12345", None),
        ("what is this?", None),
        ("yes", None),
        ("I'm good", None),
        ("This is a very long message that is not a name at all", None),
        ("x" * 41, None),
    ],
)
def test_parse_first_name(text: str, expected: str | None) -> None:
    assert parse_first_name(text) == expected


FRIENDS = [(1, "Maria"), (2, "Ruth"), (3, "Sam"), (4, "Tip"), (5, "Will"), (6, "Dee Jones")]


@pytest.mark.parametrize(
    ("text", "friend_ids", "outcome", "talked"),
    [
        ("talked to Maria, she's in!", (1,), "committed", True),
        ("Ruth was open to it, worried about prices", (2,), "open", True),
        ("haven't reached Sam yet", (3,), "not_reached", False),
        (
            "talked sunday, she's worried about prices but open to coming to the forum",
            (),
            "open",
            True,
        ),
        ("talked to Maria", (1,), None, True),
        ("Maria wasn't interested", (1,), "not_interested", True),
        ("Tip said no", (4,), "not_interested", True),
        ("Maria and Ruth are both in", (1, 2), "committed", True),
        ("Ruth wasn't open", (2,), "not_interested", True),
        ("Ruth isn't really open to it", (2,), "not_interested", True),
        ("Maria's not interested", (1,), "not_interested", True),
        ("Sam’s in", (3,), "committed", True),
        ("Ruth signed up!", (2,), "committed", True),
        ("had coffee with ruth, she said maybe", (2,), "undecided", True),
        ("she's on the fence", (), "undecided", True),
        ("not sure but interested", (), "open", True),
        ("I don't think she's in", (), "undecided", True),
        ("called, no answer", (), "not_reached", False),
        ("left a voicemail for Dee", (6,), "not_reached", False),
        ("haven't talked to Ruth", (2,), "not_reached", False),
        ("Ruth is in the hospital", (2,), None, False),
        ("Dee Jones is curious", (6,), "open", True),
        ("Ruth then Maria", (2, 1), None, False),
        ("she will come if Will drives", (5,), "committed", True),
        ("Tipton Maria", (1,), None, False),
        ("", (), None, False),
    ],
)
def test_parse_report(text: str, friend_ids: tuple[int, ...], outcome: str | None, talked: bool) -> None:
    assert parse_report(text, FRIENDS) == ReportReading(friend_ids, outcome, talked)
    assert outcome is None or outcome in OUTCOMES


@pytest.mark.parametrize(
    ("friends", "text", "friend_ids"),
    [
        ([(1, "Maria"), (2, "Maria Lopez")], "Maria Lopez is in", (2,)),
        ([(1, "Maria"), (2, "Maria Lopez")], "Maria is in", (1,)),
        ([(1, "Maria Chen"), (2, "Maria Lopez")], "Maria is in", ()),
        ([(1, "Maria Chen"), (2, "Maria Lopez")], "maria lopez is in", (2,)),
        ([(1, "María")], "talked to Maria", (1,)),
        ([(1, "Ruth")], "Ruth's in, Ruth said so", (1,)),
        ([], "talked to Maria", ()),
    ],
)
def test_parse_report_friend_names(
    friends: list[tuple[int, str]], text: str, friend_ids: tuple[int, ...]
) -> None:
    assert parse_report(text, friends).friend_ids == friend_ids


LONG_TEXTS = [
    "🙂" * 1600,
    "Maria " * 266,
    "a" * 1600,
    "5" * 1600,
    "a@" * 800,
    ("not " * 399) + "open",
    "x.y" * 533,
    ("Maria, neighbor, cares about schools 555-201-7788 🙏 " * 40)[:1600],
]


@pytest.mark.parametrize("text", LONG_TEXTS)
def test_long_messages_never_hang_the_parser(text: str) -> None:
    friends = [(i, f"Friend{i} Name") for i in range(200)]

    def parse_everything() -> None:
        parse_friends(text)
        parse_interest_answer(text)
        find_interests(text)
        parse_first_name(text)
        parse_report(text, friends)

    assert finishes(parse_everything)


# Texts made of one piece over and over: each was once read in time that grew with the square
# or the cube of its length (the spaces, "my mom ", "talked to ", one long accented word).
REPEATED_PIECES = [" ", "\n", " \n", "a", "a ", "é", "1 ", "+1", "-", "(", ", ", "'", "a@", "aa@aa.", "hi "]
REPEATED_PIECES += ["Maria ", "Ana and ", "my mom ", "talked to ", "with ", "I'm ", "not "]
READERS: dict[str, Callable[[str], object]] = {
    "parse_first_name": parse_first_name,
    "parse_friends": parse_friends,
    "parse_interest_answer": parse_interest_answer,
    "find_interests": find_interests,
    "parse_report": lambda text: parse_report(text, [(1, "Maria Lopez"), (2, "Will"), (3, "Ana")]),
    "report_people": lambda text: report_people(text, [(1, "Maria Lopez")]),
    "reads_as_report": reads_as_report,
    "introduces_own": lambda text: introduces_own(text, leading=True),
    "mask_contacts": mask_contacts,
}


@pytest.mark.parametrize("piece", REPEATED_PIECES)
def test_a_texts_reading_grows_with_its_length_not_faster(piece: str) -> None:
    grown = {name: growth(read, piece) for name, read in READERS.items()}
    assert max(grown.values()) < GROWTH_LIMIT, grown
