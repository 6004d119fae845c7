"""Opt-out, opt-in, help and command words, and the phrase matching the other parsers share.

Carrier keywords (STOP, START, HELP ...) count only as the whole message, give or take
punctuation, emoji and a "please"; plain-language opt-outs ("please stop texting me",
"remove me") count anywhere in a message unless negated ("don't stop texting me"). The words
live in ``flows/data/keywords.json`` so organizers can extend them; they are compiled to
regular expressions once, at import.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

_ACCENTED = {
    "a": "aáàâä",
    "c": "cç",
    "e": "eéèêë",
    "i": "iíìîï",
    "n": "nñ",
    "o": "oóòôö",
    "u": "uúùûü",
}
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'"})
_NOT_KEY = re.compile(r"[\s'-]+")
_NOT_WORD = re.compile(r"[^\w\s'-]+|_+")
_REST_LEADING = " \t\r\n:;,.!?-–—"
_FIRST_WORD = re.compile(r"[\W_]*([^\W\d_]+)(?![\w'’])(.*)", re.DOTALL)
_NEGATED_TAIL_CHARS = 24


def load_data(name: str) -> Any:
    """The parsed JSON file ``flows/data/<name>``."""
    return json.loads(resources.files("flows").joinpath("data", name).read_text(encoding="utf-8"))


def fold(text: str) -> str:
    """`text` lower-cased, without accents and with straight apostrophes, for comparing words."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def phrase_key(text: str) -> str:
    """The form under which a lexicon stores a phrase: folded, without spaces, hyphens or
    apostrophes, so "Opt-out", "opt out" and "OPTOUT" are one entry."""
    return _NOT_KEY.sub("", fold(text))


def _phrase_regex(phrase: str) -> str:
    parts = []
    for char in " ".join(fold(phrase).split()):
        if char == " ":
            parts.append(r"\s+")
        elif char == "'":
            parts.append("['’ʼ]?")
        elif char == "-":
            parts.append(r"[-\s]?")
        elif char in _ACCENTED:
            parts.append(f"[{_ACCENTED[char]}]")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


@dataclass(frozen=True)
class Lexicon:
    """Phrases grouped under labels, compiled to one case- and accent-insensitive regex.

    A phrase matches as whole words; the longest phrase wins where several start at the same
    place. Build one with :meth:`build`.
    """

    pattern: re.Pattern[str]
    labels: Mapping[str, str]

    @classmethod
    def build(
        cls,
        phrases: Mapping[str, Iterable[str]],
        *,
        plurals: bool = False,
        prefix: str = "",
        suffix: str = "",
    ) -> Lexicon:
        """A lexicon of ``{label: phrases}``. `plurals` also accepts each phrase with an "s" or
        "es" ending; `prefix` and `suffix` are regexes a match must (or may) start or end with."""
        labels = {phrase_key(p): label for label, group in phrases.items() for p in group}
        alternatives = sorted(
            {_phrase_regex(p) for group in phrases.values() for p in group if p.strip()},
            key=lambda regex: (-len(regex), regex),
        )
        plural = "(?:e?s)?" if plurals else ""
        body = "|".join(alternatives) or "(?!)"
        pattern = rf"(?<!\w){prefix}(?P<core>{body}){plural}(?!\w){suffix}"
        return cls(re.compile(pattern, re.IGNORECASE), labels)

    def finditer(self, text: str) -> Iterator[tuple[str, re.Match[str]]]:
        """Each non-overlapping match in `text`, left to right, with its label."""
        for match in self.pattern.finditer(text):
            label = self.labels.get(phrase_key(match["core"]))
            if label is not None:
                yield label, match


_DATA = load_data("keywords.json")
_FILLER = Lexicon.build({"": _DATA["filler"]})
_OPT_OUT_KEYWORDS = Lexicon.build(_DATA["opt_out_keywords"])
_OPT_OUT_PHRASES = Lexicon.build(
    {"": _DATA["opt_out_phrases"]}, prefix=r"(?:(?:please|pls|plz)\s+)?"
)
_NEGATORS = Lexicon.build({"": _DATA["negators"]}, suffix=r"\s*(?:please\s*)?")
_OPT_IN = {phrase_key(word) for word in _DATA["opt_in"]}
_HELP = {phrase_key(word) for word in _DATA["help"]}


@dataclass(frozen=True)
class _CommandSpec:
    name: str
    argument: bool
    not_followed_by: frozenset[str]


_COMMANDS = {
    fold(word): _CommandSpec(
        name,
        spec["argument"],
        frozenset(fold(w) for w in spec.get("not_followed_by", ())),
    )
    for name, spec in _DATA["commands"].items()
    for word in spec["words"]
}


def _negated(text: str, position: int) -> bool:
    """Whether a negator ends right before `position` ("don't" in "don't stop texting me")."""
    tail = text[max(0, position - _NEGATED_TAIL_CHARS) : position]
    return any(match.end() == len(tail) for _, match in _NEGATORS.finditer(tail))


def _bare(text: str) -> str:
    """The message reduced to its words: folded, without punctuation, emoji or politeness."""
    words = _NOT_WORD.sub(" ", fold(text))
    return " ".join(_FILLER.pattern.sub(" ", words).split()).strip("'-")


def opt_out_reason(text: str) -> str | None:
    """The stop keyword (upper-case, e.g. "STOP") if the whole message is one, else the
    plain-language opt-out phrase it contains (lower-case, as typed), else None."""
    bare = _bare(text)
    whole = _OPT_OUT_KEYWORDS.pattern.fullmatch(bare)
    if whole is not None:
        return _OPT_OUT_KEYWORDS.labels.get(phrase_key(whole["core"]))
    lowered = text.translate(_APOSTROPHES).lower()
    for _, match in _OPT_OUT_PHRASES.finditer(lowered):
        if not _negated(lowered, match.start()):
            return " ".join(match[0].split())
    return None


def is_opt_in(text: str) -> bool:
    """Whether the whole message is START, UNSTOP or a yes ("YES", "yes please", "sí", "y")."""
    return phrase_key(_bare(text)) in _OPT_IN


def is_help(text: str) -> bool:
    """Whether the whole message is HELP, INFO or AYUDA (any case, with punctuation)."""
    return phrase_key(_bare(text)) in _HELP


@dataclass(frozen=True)
class Command:
    """A command word that starts a message, and what follows it."""

    name: str
    rest: str


def parse_command(text: str) -> Command | None:
    """The command a message starts with ("add Maria" -> Command("add", "Maria")), or None.

    Commands that take no argument (FRIENDS, LIST) count only as the whole message, and a
    command word followed by one of its `not_followed_by` words ("next door neighbor Carlos")
    is ordinary text.
    """
    match = _FIRST_WORD.match(text)
    if match is None:
        return None
    spec = _COMMANDS.get(fold(match[1]))
    if spec is None:
        return None
    rest = match[2].lstrip(_REST_LEADING).rstrip()
    following = _bare(rest).split(" ", 1)[0]
    if (not spec.argument and following) or following in spec.not_followed_by:
        return None
    return Command(spec.name, rest)
