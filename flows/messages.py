"""The words of every reply, in each language a volunteer can choose.

The public web pages (/join, the links in our emails) take their words from here too, under
``page.*`` keys, so a Spanish speaker reads them in Spanish as well.

``flows/data/messages.json`` maps a key ("friends.added") to the text in each language
(``{"en": "Added {names} ({description}).", "es": "Agregué a {names} ({description})."}``),
with str.format-style ``{placeholders}``. The flows never write a reply in code: they call
:func:`say` with the volunteer's language (``Context.language``) and the values to fill in.

Decisions:
- A language the catalog doesn't have falls back to English, the program's default.
- A missing key or a placeholder without a value is a bug, not something to paper over at
  runtime: :func:`say` raises KeyError, and tests/flows/test_spanish.py renders every key in
  every language, so a typo fails the suite instead of a volunteer's conversation.
- Every key has every language and the same placeholders in each (tested).
- Labels for stored values (relationship, ladder stage, interest) are catalog keys too
  ("relationship.family"); a value without a key (an interest the volunteer typed, "church")
  is shown as written.
- Spanish is Latin-American and uses "tú". Words that must be typed back (IDEA, AGREGAR,
  AMIGOS, SALTAR, INVITAR, OLVIDAR, BORRAR, CONSEJOS, AYUDA, ALTO, SÍ) are the Spanish command
  words ``flows/data/keywords.json`` understands; START stays START in Spanish, since the carrier
  itself lifts a STOP block only on START, UNSTOP or YES.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time

from flows.keywords import fold, load_data

CATALOG: dict[str, dict[str, str]] = load_data("messages.json")
LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"


def say(language: str, key: str, **values: object) -> str:
    """The text for `key` in `language` (English if the catalog lacks that language), with
    `values` filled in: ``say("es", "friends.added", names="Rosa", description="familia")``
    -> "Agregué a Rosa (familia).". Raises KeyError for an unknown key or a missing value."""
    texts = CATALOG[key]
    return texts[language if language in LANGUAGES else DEFAULT_LANGUAGE].format(**values)


def join_names(language: str, names: Sequence[str]) -> str:
    """Names as a sentence lists them: "Maria and Ruth", "Ana, Luis y Rosa". In Spanish "y"
    becomes "e" before a word that starts with an "i" sound ("María e Isabel")."""
    if len(names) <= 1:
        return "".join(names)
    conjunction = say(language, "list.and")
    if language == "es" and _starts_with_i_sound(names[-1]):
        conjunction = "e"
    return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"


def relationship_label(language: str, relationship: str) -> str:
    """How a relationship reads in `language`: "family" -> "familia"."""
    return _label(language, "relationship", relationship)


def stage_label(language: str, stage: str) -> str:
    """How a ladder stage reads in `language`: "talked" -> "ya hablaron"."""
    return _label(language, "stage", stage)


def interest_label(language: str, interest: str) -> str:
    """How an interest reads in `language`: "healthcare" -> "salud"; one the volunteer typed
    themselves ("church") is shown as written."""
    return _label(language, "interest", interest)


def weekday_name(language: str, day: date) -> str:
    """The day of the week of `day`: "Friday", "viernes"."""
    return say(language, f"weekday.{day.weekday()}")


def day_and_month(language: str, day: date, short: bool = False) -> str:
    """The day and month of `day`: "December 4" / "4 de diciembre", or with `short`
    "Dec 4" / "4 de dic."."""
    month = say(language, f"{'month_short' if short else 'month'}.{day.month}")
    return say(language, "date.day_month", month=month, day=day.day)


def weekday_and_date(language: str, day: date) -> str:
    """A short weekday, day and month, for event listings: "Thu Dec 3" / "jue. 3 de dic."."""
    weekday = say(language, f"weekday_short.{day.weekday()}")
    return say(language, "date.weekday_day_month", weekday=weekday, date=day_and_month(language, day, True))


def clock_time(language: str, moment: time | datetime) -> str:
    """The time of day on `moment`'s own clock, minutes only when there are some: "6:30 PM",
    "10 AM" / "6:30 pm", "10 am"."""
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes} {say(language, 'time.am' if moment.hour < 12 else 'time.pm')}"


def at_time(language: str, moment: time | datetime) -> str:
    """The time of day after "at": "at 6:30 PM" / "a las 6:30 pm" ("a la 1 pm")."""
    key = "time.at_one" if moment.hour % 12 == 1 else "time.at"
    return say(language, key, time=clock_time(language, moment))


def frequency(language: str, configured: str) -> str:
    """The message frequency the terms state: the organization's own words, except that the
    default ("About 3 msgs/week") is said in `language`. An organizer's custom wording is
    shown as they wrote it, in every language."""
    if configured == say(DEFAULT_LANGUAGE, "organization.frequency"):
        return say(language, "organization.frequency")
    return configured


def _label(language: str, kind: str, value: str) -> str:
    key = f"{kind}.{value}"
    return say(language, key) if key in CATALOG else value


def _starts_with_i_sound(word: str) -> bool:
    folded = fold(word.strip())
    if folded.startswith("h"):
        folded = folded[1:]
    # "hierro", "hielo": the "i" there is a consonant sound, so "y" stays.
    return folded.startswith("i") and not folded.startswith(("ia", "ie", "io", "iu"))
