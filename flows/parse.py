"""Understanding what volunteers type: friends, interests, their own name and reports.

Everything here is a pure function of the text (and the volunteer's friends, for reports).
The vocabularies live in ``flows/data/*.json`` (relationships, interests, names, outcomes) so
organizers can extend them; they are compiled to regexes once, at import. The parsers are
deliberately forgiving and never raise: what they cannot read comes back empty, and the
flows send such texts to the organizer inbox.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers

from flows.events import DEFAULT_INTERESTS, DEFAULT_REGION
from flows.keywords import Lexicon, alternation, fold, load_data, parse_command, phrase_key

_MAX_NAME_WORDS = 4
_MAX_NAME_CHARS = 40
_MAX_PHRASE_WORDS = 3
_INITIALS = 2
_NEGATION_WINDOW_WORDS = 3
_NEGATION_WINDOW_CHARS = 60
# How far back a reader looks from a word for what comes before it in its clause, and how far
# on from a talk phrase for the name it is about. Each reader looks only so far, never from
# the start of the text: one that looked back from each of many words was slow (quadratic,
# cubic when nested) on a long text of them, seconds for one volunteer's 1,600 characters.
_CLAUSE_BEFORE_CHARS = 160
_NAMED_WITHIN_CHARS = 120
# Longer than any word of the patterns a window is searched with (_MY, _THEIRS, _SOMEONE_ELSES,
# _REPORT_CLAUSE_END), so a window never cuts a match short.
_PATTERN_WORD_CHARS = 16

_RELATIONSHIP_DATA = load_data("relationships.json")
_RELATIONSHIPS = Lexicon.build(_RELATIONSHIP_DATA["relationships"], plurals=True)
_KIN_NAMES = frozenset(phrase_key(word) for word in _RELATIONSHIP_DATA["used_as_names"])

_INTEREST_DATA = load_data("interests.json")
_ANSWER_FILLER = Lexicon.build({"": _INTEREST_DATA["answer_filler"]})
_STATE_WORDS = Lexicon.build({"": _INTEREST_DATA["states"]["words"]})
_STATES = frozenset(phrase_key(state) for state in _INTEREST_DATA["states"]["states"])

_NAME_DATA = load_data("names.json")
_SEPARATORS = frozenset(fold(word) for word in _NAME_DATA["separators"])
_BREAKERS = frozenset(fold(word) for word in _NAME_DATA["clause_breakers"])
_NOT_NAMES = frozenset(fold(word) for word in _NAME_DATA["not_names"]) | _SEPARATORS
_COMMON_WORDS = _NOT_NAMES | _BREAKERS
_ALSO_FIRST_NAMES = frozenset(fold(word) for word in _NAME_DATA["also_first_names"])
_INTRODUCERS = frozenset(
    fold(phrase.split()[-1]) for phrase in _NAME_DATA["name_introducers"] if len(phrase.split()) > 1
) | frozenset(fold(phrase) for phrase in _NAME_DATA["name_introducers"] if " " not in phrase)
# A contraction ("I'd", "don't", "we're") is a subject or a verb, never a name, and starts a clause
# that describes rather than lists; "O'Brien" and "D'Andre" are names.
_CONTRACTION = re.compile(r"(?:n't|'(?:d|m|ll|ve|re))$")
# A Spanish verb with a pronoun joined to it ("quítale", "cuéntales", "dímelo"), stressed before
# the syllable before last, as only such a verb or a rare name ("Ángeles") is.
_VERB_WITH_PRONOUN = re.compile(r"[áéíóú][^\W\d_]*[aeiou](?:le|les|me|te|nos)(?:lo|la|los|las)?$")
_LONGEST_VERB_CHARS = 24  # "comunicándoselo" is 15: a longer word's end is read, not its whole
_GREETING = Lexicon.build({"": _NAME_DATA["greetings"]})
_INTRODUCTION = Lexicon.build({"": _NAME_DATA["introductions"]})

_OUTCOME_DATA = load_data("outcomes.json")
_OUTCOME_PRECEDENCE: tuple[str, ...] = tuple(_OUTCOME_DATA["precedence"])
_REPORTED = _OUTCOME_DATA["reported"]
_AT_AN_EVENT = _REPORTED["at_an_event"]
_OUTCOMES = Lexicon.build(
    {
        outcome: [
            *phrases,
            *(f"{said} {phrase}" for said in _REPORTED["reporters"] for phrase in _REPORTED.get(outcome, ())),
        ]
        for outcome, phrases in _OUTCOME_DATA["phrases"].items()
    }
)
# "he said he'd be at the forum": said, then being at one of the events (see outcomes.json).
_SAID_AT_AN_EVENT = re.compile(
    r"(?<!\w)"
    + r"\s+".join(
        f"(?:{alternation(words)})"
        for words in (
            _REPORTED["reporters"],
            *(_AT_AN_EVENT[key] for key in ("will_be_at", "before", "events")),
        )
    )
    + r"(?!\w)",
    re.IGNORECASE,
)
_OUTCOMES_AT_CLAUSE_END = Lexicon.build(
    _OUTCOME_DATA["clause_end_phrases"],
    suffix=r"(?=\s*(?:$|[^\w\s'’]|(?:and|but|too|now|for|on|with|as|already)\b))",
)
_NEGATED_OUTCOME: dict[str, str] = _OUTCOME_DATA["negated"]
_NEGATORS = frozenset(phrase_key(word) for word in _OUTCOME_DATA["negators"])
_TALKED_PHRASES = [
    *_OUTCOME_DATA["talked"],
    *(
        " ".join(words)
        for name, group in _OUTCOME_DATA["talked_composed"].items()
        if name != "about"
        for start in group["starts"]
        for size in ("", *group["sizes"])
        for kind in group["kinds"]
        if (words := [start, size, kind] if size else [start, kind])
    ),
]
_TALKED = Lexicon.build({"talked": _TALKED_PHRASES})
_TENSE = Lexicon.build({"tense": _OUTCOME_DATA["tense"]})
_CLAUSE_WORDS = "|".join(map(re.escape, _OUTCOME_DATA["clause_boundaries"]))


@lru_cache(maxsize=1)
def report_words() -> frozenset[str]:
    """The words volunteers use to say that they talked and how it went ("talked", "chatted",
    "undecided", "hablé", "not interested" ...), lower-cased: the frame of a report rather than
    what was learned in it, which a summary of reports leaves out."""
    phrases = [
        *_TALKED_PHRASES,
        *_OUTCOME_DATA["negators"],
        *(
            phrase
            for group in ("phrases", "clause_end_phrases")
            for items in _OUTCOME_DATA[group].values()
            for phrase in items
        ),
        *(outcome.replace("_", " ") for outcome in _OUTCOME_PRECEDENCE),
    ]
    return frozenset(word for phrase in phrases for word in re.findall(r"[^\W\d_]+", phrase.lower()))


_CLAUSE_BOUNDARY = re.compile(rf"[.,;:!?()\n]|\b(?:{_CLAUSE_WORDS})\b", re.IGNORECASE)

_POSSESSIVE = re.compile(r"['’]s?(?!\w)")
# "Martha and her husband Phil", "Theo & his wife Jo": family of someone else, not the writer's.
_THEIRS = re.compile(r"\b(?:her|his|their|su|sus)\s+$", re.IGNORECASE)
_SOMEONE_ELSES = re.compile(r"\b(?:your|ur|her|his|their|tu|tus|su|sus)\s+$", re.IGNORECASE)
_CONTRACTED_IS = re.compile(r"(?<=[^\W\d_])['’ʼ]s\b")
_EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
CONTACT_PLACEHOLDER = "[contact]"
# A "+" that came through a URL or a form unencoded ("%2B44 7700 900123"), rewritten to a
# string of the same length so the positions found in it are the text's own.
_ENCODED_PLUS = re.compile(r"%2B", re.IGNORECASE)
_PLUS_PLACEHOLDER = "  +"
# What the matcher takes for a number but people write for something else: dates with dots or
# dashes (it turns down slashed ones itself) and ZIP+4 codes. A number that is possible only
# as a local one (no area code: 7 digits in the US, 4 to 8 in the UK) is taken only in the
# shape local numbers are written in, "201-7788", not as any short run of digits.
_NOT_A_NUMBER = re.compile(r"\d{1,2}[./-]\d{1,2}[./-](?:\d{2}|\d{4})|\d{5}-\d{4}")
_LOCAL_NUMBER = re.compile(r"\d{3}[\s.\-\u2010-\u2015]{1,3}\d{4}")


@dataclass(frozen=True)
class ContactSpan:
    """A phone number or email found in a text: where it is, and the value it stands for (a
    phone number in E.164, an email as typed)."""

    start: int
    end: int
    value: str


def find_contacts(text: str, region: str = DEFAULT_REGION) -> list[ContactSpan]:
    """Every email and phone number in `text`, in order of position.

    Phone numbers are found by phonenumbers' matcher at the POSSIBLE leniency: a number has a
    possible length for its country (national numbers, with or without a leading 0, read as
    `region`'s), written with any punctuation people use (spaced dashes, slashes, en-dashes,
    dots, brackets) or run into a word ("maria5552017788"). VALID would miss made-up and
    mistyped numbers (555 numbers, an area code not yet assigned), and a friend's mistyped
    number is still theirs to protect. The matcher itself turns down dates, times, money and
    numbers too short or too long to be a phone number (ZIP codes, years, counts)."""
    spans = [ContactSpan(match.start(), match.end(), match[0]) for match in _EMAIL.finditer(text)]
    searchable = _ENCODED_PLUS.sub(_PLUS_PLACEHOLDER, _mask(text, ((s.start, s.end) for s in spans)))
    if any(char.isdigit() for char in searchable):
        for match in phonenumbers.PhoneNumberMatcher(searchable, region, phonenumbers.Leniency.POSSIBLE):
            if not _is_phone_number(match):
                continue
            start = match.start
            if searchable[start] == "+" and text[start - 2 : start + 1].upper() == "%2B":
                start -= 2
            elif searchable[start] == "(" and match.raw_string.count("(") > match.raw_string.count(")"):
                start += 1  # "(555 201 7788)": the bracket around the number stays
            number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            spans.append(ContactSpan(start, match.end, number))
    return sorted(spans, key=lambda span: span.start)


def _is_phone_number(match: phonenumbers.PhoneNumberMatch) -> bool:
    """Whether what the matcher found is written as a phone number is (see _NOT_A_NUMBER)."""
    raw = match.raw_string
    if _NOT_A_NUMBER.fullmatch(raw):
        return False
    reason = phonenumbers.is_possible_number_with_reason(match.number)
    return reason != phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY or bool(
        _LOCAL_NUMBER.fullmatch(raw)
    )


def mask_contacts(text: str, region: str = DEFAULT_REGION) -> str:
    """The text with every phone number and email in it replaced by [contact]. What
    volunteers type about their friends is stored this way: a friend's contact detail lives on
    only as the keyed digest the gateway keeps (DESIGN.md invariant 3)."""
    masked, at = [], 0
    for span in find_contacts(text, region):
        masked += [text[at : span.start], CONTACT_PLACEHOLDER]
        at = span.end
    return "".join([*masked, text[at:]])


_MAX_EMAIL_CHARS = 254  # RFC 5321's limit on a whole address
_MAX_LOCAL_CHARS = 64


def email_address(text: str) -> str | None:
    """The one email address `text` gives ("EMAIL me at Sam@Example.org." -> "sam@example.org"),
    lower-cased, or None when it gives none, several, or one no mail system would take (no
    dot-separated top-level domain of letters, a local part with a stray dot, too long)."""
    found = [match[0] for match in _EMAIL.finditer(text)]
    if len(found) != 1:
        return None
    address = found[0].lower()
    local, _, domain = address.rpartition("@")
    top_level = domain.rsplit(".", 1)[-1]
    if (
        len(address) > _MAX_EMAIL_CHARS
        or len(local) > _MAX_LOCAL_CHARS
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
        or not (top_level.isalpha() and len(top_level) >= 2)
    ):
        return None
    return address


def mask_email(address: str) -> str:
    """An email address shown so its owner recognises it and nobody else learns it:
    "sam@example.org" -> "s***@example.org"."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


_TOKEN = re.compile(
    r"(?P<word>[^\W\d_]+(?:['’\-][^\W\d_]+)*)"
    r"|(?P<boundary>[,;:!?()\[\]\n\"“”]|\.(?!\w))"
    r"|(?P<other>\S)"
)
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_LIST_SEPARATOR = re.compile(r"[,;/&+\n]|\.(?!\w)|\b(?:and|or|y|o|plus)\b", re.IGNORECASE)
_MASK = "\x00"


@dataclass(frozen=True)
class FriendMention:
    """A person the volunteer named, with what the same text says about them."""

    name: str
    relationship: str
    interests: tuple[str, ...]
    contacts: tuple[str, ...]


@dataclass(frozen=True)
class ReportReading:
    """What a conversation report says: about whom, how it went, and whether they talked."""

    friend_ids: tuple[int, ...]
    outcome: str | None
    talked: bool


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


@lru_cache(maxsize=32)
def _interest_lexicon(interests: tuple[str, ...]) -> tuple[Lexicon, dict[str, str]]:
    """The interest lexicon for an organization's interest list, and its canonical names.

    Every known synonym is in the lexicon (so names and phrases never swallow one), but only
    the organization's interests are reported; its own interests match by their name too.
    """
    phrases: dict[str, list[str]] = {
        canonical: [*synonyms, canonical] for canonical, synonyms in _INTEREST_DATA["synonyms"].items()
    }
    for interest in interests:
        phrases.setdefault(interest, []).append(interest)
    phrases[""] = _INTEREST_DATA["not_interests"]
    canonical = {phrase_key(interest): interest for interest in interests}
    return Lexicon.build(phrases, plurals=True), canonical


def _interest_matches(text: str, interests: Sequence[str]) -> list[tuple[str | None, re.Match[str]]]:
    """Every interest phrase in `text`, with the organization's interest it means (or None)."""
    lexicon, canonical = _interest_lexicon(tuple(interests))
    return [(canonical.get(phrase_key(label)), match) for label, match in lexicon.finditer(text)]


def find_interests(text: str, interests: Sequence[str] = DEFAULT_INTERESTS) -> tuple[str, ...]:
    """The organization's interests (from `interests`) that `text` mentions, in order of
    appearance: "worried about rent and groceries" -> ("housing", "prices")."""
    return _unique(interest for interest, _ in _interest_matches(text, interests) if interest)


def _mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` with each span blanked out, keeping every other character where it was."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = _MASK * (end - start)
    return "".join(chars)


def _proper(word: str) -> str:
    """A name word capitalised as a name ("maria" -> "Maria", "o'brien" -> "O'Brien"); mixed
    case the volunteer typed ("McKenzie") and initials ("DJ") are kept."""
    if not (word.islower() or word.isupper()) or (word.isupper() and len(word) <= _INITIALS):
        return word  # "McKenzie" as typed; "DJ", "TJ" are initials
    return re.sub(r"[^\W\d_]+", lambda part: part[0].capitalize(), word.lower())


def _is_capitalised_name(word: str) -> bool:
    """Whether `word` is a capitalised first name that is also an ordinary word ("Will",
    "Tia"): capitalised, it is read as the name."""
    return word[0].isupper() and fold(word) in _ALSO_FIRST_NAMES


def _is_name_word(word: str) -> bool:
    """Whether `word` (a run of letters) could be part of a person's name: not a common word, a
    possessive, a contraction or a Spanish verb with its pronoun ("I'd", "quítale")."""
    key = fold(word)
    return _is_capitalised_name(word) or not (
        key in _COMMON_WORDS or key.endswith(("'s", "'")) or _starts_a_clause(word)
    )


def _starts_a_clause(word: str) -> bool:
    """Whether `word` ends the names before it, the rest of its clause describing or saying
    something: a clause breaker ("who", "from", "quiere"), a contraction ("I'd", "don't") or a
    Spanish verb with its pronoun ("quítale")."""
    key = fold(word)
    ending = word[-_LONGEST_VERB_CHARS:].casefold()
    return key in _BREAKERS or bool(_CONTRACTION.search(key) or _VERB_WITH_PRONOUN.search(ending))


def _name_candidates(text: str, introduced: Collection[int] = ()) -> list[re.Match[str] | None]:
    """The words of `text` that could be names, in order, with None wherever a name must end.

    A clause breaker ("who", "from", "cares", "I'd") ends the names in its clause: the rest of
    it describes someone, until a word that introduces a name ("a guy from work named Lou") or
    the volunteer's own relationship ending at a position in `introduced` ("I'd pick my sister
    Keisha").
    """
    candidates: list[re.Match[str] | None] = []
    describing = False
    for token in _TOKEN.finditer(text):
        word = token["word"]
        if token.end() in introduced:
            describing = False
        if word is not None and not describing and _is_name_word(word):
            candidates.append(token)
            continue
        candidates.append(None)
        if word is None:
            describing = describing and token.lastgroup != "boundary"
        elif fold(word) in _INTRODUCERS:
            describing = False
        else:
            describing = describing or _starts_a_clause(word)
    return candidates


def _names(text: str, introduced: Collection[int] = ()) -> list[tuple[int, str]]:
    """The names in `text` (already stripped of contacts and known phrases), with where each
    starts. Adjacent name words make one name ("Mary Ann"). If the volunteer capitalised some
    candidate words but not others, only the capitalised ones are names."""
    candidates = _name_candidates(text, introduced)
    words = [token for token in candidates if token is not None]
    mixed_case = len({token[0][0].isupper() for token in words}) > 1
    runs: list[list[re.Match[str]]] = [[]]
    for token in candidates:
        if token is None or (mixed_case and not token[0][0].isupper()):
            runs.append([])
        elif runs[-1] or len(token[0]) > 1:
            runs[-1].append(token)
    names: dict[str, tuple[int, str]] = {}
    for run in runs:
        name = " ".join(_proper(token[0]) for token in run)
        if run and len(run) <= _MAX_NAME_WORDS and len(name) <= _MAX_NAME_CHARS:
            names.setdefault(fold(name), (run[0].start(), name))
    return list(names.values())


def _someone_elses_named(text: str, match: re.Match[str]) -> bool:
    """Whether a kin word is someone else's and names them: "her husband Phil", "his wife
    Jo" (Phil is Martha's husband, not the volunteer's family). As an aside about the name
    before it ("Martha, her mother, Carlos") it still says who that is."""
    after = _WORD.match(text, match.end() + 1) if text[match.end() : match.end() + 1].isspace() else None
    return bool(_just_before(_THEIRS, text, match.start())) and after is not None and _is_name_word(after[0])


def _just_before(pattern: re.Pattern[str], text: str, end: int) -> re.Match[str] | None:
    """`pattern`, a word and the spaces after it up to `end` ("my ", "her "), matched just
    before `end`: looked for in those spaces and a few characters before them, the same match
    as a search from the start of the text."""
    start = end
    while start > 0 and text[start - 1].isspace():
        start -= 1
    return pattern.search(text, max(0, start - _PATTERN_WORD_CHARS), end)


def _before(text: str, position: int, chars: int) -> str:
    """The text just before `position`, about `chars` characters of it, from the start of a
    word (a word cut in two could read as another: "cannot" as "not")."""
    start = max(0, position - chars)
    while 0 < start < position and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start += 1
    return text[start:position]


def _listed_as_own(text: str, position: int) -> bool:
    """Whether the bare kin word at `position` stands for someone the volunteer lists ("my
    mom", "probably my grandpa"): not someone else's ("your mom", "tu mamá") and not said in a
    clause that turns them down ("I'd rather not talk politics with my dad")."""
    if _just_before(_SOMEONE_ELSES, text, position):
        return False
    clause = _CLAUSE_BOUNDARY.split(_before(text, position, _CLAUSE_BEFORE_CHARS))[-1]
    return not any(phrase_key(word) in _NEGATORS for word in _WORD.findall(clause))


def _relationship(labels: Sequence[str]) -> str:
    """The first specific relationship mentioned; plain "friend" only if nothing says more."""
    specific = [label for label in labels if label != "friend"]
    return (specific or list(labels) or ["other"])[0]


@dataclass
class _Item:
    """One part of a list of people ("Dee", "Yvonne from church"), split at commas and "and"."""

    names: list[int] = field(default_factory=list)
    relationships: list[tuple[str, re.Match[str]]] = field(default_factory=list)
    joined_by_and: bool = False
    described: list[tuple[str, re.Match[str]]] = field(default_factory=list)


def _items(text: str) -> tuple[list[_Item], list[int]]:
    """The list items of `text`, and where each one starts."""
    starts, items = [0], [_Item()]
    for separator in _LIST_SEPARATOR.finditer(text):
        starts.append(separator.end())
        items.append(_Item(joined_by_and=separator[0].strip().lower() not in ",;/\n."))
    return items, starts


def _spreads(label: str, match: re.Match[str]) -> bool:
    """Whether a relationship can describe the names listed next to it too: a group ("from
    church", "neighbors"), not one kin word ("her mother" is Martha's mother only)."""
    return label != "family" or match[0] != match["core"]


def _relationships(
    text: str,
    names: list[tuple[int, str]],
    relationships: Sequence[tuple[str, re.Match[str]]],
) -> list[str]:
    """Each name's relationship, item by item: "Martha, her mother, Carlos" gives Martha
    family and Carlos other; "Dee and Yvonne from church" both community; "my cousins Dee and
    June" both family; in "my mom and Carlos", Mom is a person of her own (added to `names`)."""
    items, starts = _items(text)
    where = [bisect_right(starts, start) - 1 for start, _ in names]
    for index, position in enumerate(where):
        items[position].names.append(index)
    for label, match in relationships:
        items[bisect_right(starts, match.start()) - 1].relationships.append((label, match))
    named = [index for index, item in enumerate(items) if item.names]
    for index, item in enumerate(items):
        if item.names or not item.relationships:
            continue
        label, match = item.relationships[0]
        before = [i for i in named if i < index]
        after = [i for i in named if i > index]
        alone = item.joined_by_and or (index + 1 < len(items) and items[index + 1].joined_by_and)
        if phrase_key(match["core"]) in _KIN_NAMES and (alone or not before + after):
            names.append((match.start(), _proper(match["core"])))
            item.names.append(len(names) - 1)
            item.described.append((label, match))
        elif before and not item.joined_by_and and not items[before[-1]].relationships:
            items[before[-1]].described.extend(item.relationships)
        elif after or before:
            items[(after or before)[0]].described.extend(item.relationships)
    own = {
        name: _relationship([label for label, _ in item.relationships + item.described])
        for item in items
        for name in item.names
        if item.relationships or item.described
    }
    result = []
    for index, position in enumerate(where + [None] * (len(names) - len(where))):
        if index in own:
            result.append(own[index])
            continue
        later = [
            item for item in items[position + 1 :] if item.names and (item.relationships or item.described)
        ]
        earlier = [
            item
            for item in items[:position]
            if item.names
            and item.relationships
            and item.relationships[0][1].start() < names[item.names[0]][0]
        ]
        source = later[:1] or earlier[-1:]
        spreading = [
            label
            for item in source
            for label, match in item.relationships + item.described
            if _spreads(label, match)
        ]
        result.append(_relationship(spreading) if spreading else "other")
    return result


def _assign_contacts(
    names: Sequence[tuple[int, str]], contacts: Sequence[tuple[int, str]]
) -> list[tuple[str, ...]]:
    """Each name's contacts: a contact belongs to the nearest name before it (or the first)."""
    owned: list[list[str]] = [[] for _ in names]
    for position, contact in contacts:
        before = [index for index, (start, _) in enumerate(names) if start < position]
        owned[before[-1] if before else 0].append(contact)
    return [tuple(contacts) for contacts in owned]


def parse_friends(
    text: str, interests: Sequence[str] = DEFAULT_INTERESTS, region: str = DEFAULT_REGION
) -> list[FriendMention]:
    """The people named in a free-text description, e.g. "Dee and Yvonne from church" or
    "my neighbor Carlos who cares about healthcare 555-201-7788".

    Every name gets the relationship and interests the text mentions; a phone number (in
    E.164, national numbers read as `region`'s) or email goes to the name before it. A
    leading ADD is ignored. Text with no plausible name gives []. A bare kin word ("my mom")
    is used as the name.
    """
    command = parse_command(text)
    if command is not None and command.name == "add":
        text = command.rest
    found = find_contacts(text, region)
    contacts = [(span.start, span.value) for span in found]
    text = _mask(text, ((span.start, span.end) for span in found))
    relationships = [
        ("other" if label == "family" and _someone_elses_named(text, match) else label, match)
        for label, match in _RELATIONSHIPS.finditer(text)
        if not _is_capitalised_name(match[0]) and not _POSSESSIVE.match(text, match.end())
    ]
    interest_matches = _interest_matches(text, interests)
    spans = [match.span() for _, match in relationships + interest_matches]
    introduced = {
        match.end()
        for _, match in relationships
        if _just_before(_MY, text, match.start()) and _listed_as_own(text, match.start())
    }
    names = _names(_mask(text, spans), introduced)
    if not names:
        names = [
            (match.start(), _proper(match["core"]))
            for _, match in relationships
            if phrase_key(match["core"]) in _KIN_NAMES and _listed_as_own(text, match.start())
        ]
    if not names:
        return []
    relationship_of = _relationships(text, names, relationships)
    order = sorted(range(len(names)), key=lambda index: names[index][0])
    names = [names[index] for index in order]
    relationship_of = [relationship_of[index] for index in order]
    found = _unique(interest for interest, _ in interest_matches if interest)
    contacts.sort()
    return [
        FriendMention(name, relationship, found, owned)
        for (_, name), relationship, owned in zip(
            names, relationship_of, _assign_contacts(names, contacts), strict=True
        )
    ]


def _answer_phrase(segment: str) -> str | None:
    """A short free-text interest, cleaned: "her church" -> "church"; None if it is empty,
    only filler, or longer than a few words."""
    words = _WORD.findall(_ANSWER_FILLER.pattern.sub(" ", segment.lower().replace("’", "'")))
    while words and words[0].endswith(("'s", "'")):
        words.pop(0)
    if not 0 < len(words) <= _MAX_PHRASE_WORDS or _is_state(" ".join(words)):
        return None
    return " ".join(words)


def _is_state(phrase: str) -> bool:
    """Whether a short answer only says how someone feels ("fed up", "i'm sick", "está harta"),
    which is not something they care about."""
    return phrase_key(_STATE_WORDS.pattern.sub(" ", phrase)) in _STATES | {""}


def parse_interest_answer(text: str, interests: Sequence[str] = DEFAULT_INTERESTS) -> tuple[str, ...]:
    """What a friend cares about, from the answer to "What does Ruth care about?".

    Each comma- or "and"-separated part gives the organization's interests it mentions, or
    else itself as a short lower-case phrase: "medicare, her church" -> ("healthcare",
    "church"). Deduplicated, in order of appearance.
    """
    found: list[str] = []
    for segment in _LIST_SEPARATOR.split(text):
        known = [
            interest
            for interest, match in _interest_matches(segment, interests)
            if interest and not _negated(segment, match.start())
        ]
        negated = any(phrase_key(word) in _NEGATORS for word in _WORD.findall(segment))
        phrase = None if known or negated else _answer_phrase(segment)  # "not into politics": none
        found.extend(known or ([phrase] if phrase else []))
    return _unique(found)


def parse_first_name(text: str) -> str | None:
    """The volunteer's first name from an answer like "Sam", "I'm Sam", "my name is Sam Lee"
    or "me llamo Ana", also when more follows it after a comma or a bracket ("Dana, my
    coworker Lucy sent me"); None when the answer does not look like a name ("what is this?")."""
    name = _first_name_in(text)
    if name is None:
        leading = _leading_clause(text)
        name = _first_name_in(leading) if leading else None
    return name


_CLAUSE_MARK = re.compile(r"[,(;:\n]")


def _leading_clause(text: str) -> str | None:
    """What `text` says before its first comma, bracket, semicolon, colon or line break ("Dana"
    in "Dana, my coworker Lucy sent me"); None without one. Found in one pass: a pattern whose
    clause and the spaces around it could each take the same spaces read a run of them over
    and over, seconds for one long text."""
    rest = text.lstrip()
    mark = _CLAUSE_MARK.search(rest)
    return rest[: mark.start()] if mark else None


def _first_name_in(text: str) -> str | None:
    rest = text.strip()
    greeting = _GREETING.pattern.match(rest)
    if greeting is not None:
        rest = rest[greeting.end() :].lstrip(" ,!.-")
    introduction = _INTRODUCTION.pattern.match(rest)
    if introduction is not None:
        rest = rest[introduction.end() :]
    elif len(rest) > _MAX_NAME_CHARS:
        return None
    words = [token["word"] for token in _TOKEN.finditer(rest) if token["word"]]
    if not words or len(words[0]) < 2 or len(words[0]) > _MAX_NAME_CHARS:
        return None
    if introduction is None and len(words) > _MAX_PHRASE_WORDS:
        return None
    return _proper(words[0]) if _is_name_word(words[0]) else None


def _negated(text: str, position: int) -> bool:
    """Whether a negator ("not", "wasn't") comes shortly before `position`, in the same
    clause: "wasn't really open" is negated, "not sure but interested" is not."""
    before = text[max(0, position - _NEGATION_WINDOW_CHARS) : position]
    clause = _CLAUSE_BOUNDARY.split(before)[-1]
    window = _WORD.findall(clause)[-_NEGATION_WINDOW_WORDS:]
    return any(phrase_key(word) in _NEGATORS for word in window)


def _outcome(text: str) -> str | None:
    """The outcome a report states, by precedence; a negated positive outcome ("wasn't open")
    counts as its opposite. "Maria's in" reads as "Maria is in"."""
    text = _CONTRACTED_IS.sub(" is", text)
    found = set()
    for lexicon in (_OUTCOMES, _OUTCOMES_AT_CLAUSE_END):
        for outcome, match in lexicon.finditer(text):
            if outcome in _NEGATED_OUTCOME and _negated(text, match.start()):
                outcome = _NEGATED_OUTCOME[outcome]
            found.add(outcome)
    if _SAID_AT_AN_EVENT.search(text):
        found.add(_AT_AN_EVENT["outcome"])
    return next((outcome for outcome in _OUTCOME_PRECEDENCE if outcome in found), None)


def sounds_tense(text: str) -> bool:
    """Whether a report says the talk was hard: "it got heated", "we argued", "she hung up on
    me", "se enojó" ("tense" in outcomes.json), not negated ("it wasn't tense", "no fue tenso")."""
    return any(not _negated(text, match.start()) for _, match in _TENSE.finditer(text))


def first_name(name: str) -> str:
    """The first word of a name, in the form names are compared in: "Maria Lopez", "maria" and
    "MARÍA" share one. The one rule for first names, in flows and gateway alike."""
    words = name.split()
    return phrase_key(words[0]) if words else ""


# What follows a lower-case name that is also a word when it is the name: "will said he'll
# think about it", "will is in" (the verb is never followed by these).
_SPOKEN_OF = re.compile(
    r"\s+(?:said|says|told|texted|called|agreed|signed|came|thinks|wants|is|was|isn't|wasn't|has|had)\b",
    re.IGNORECASE,
)


def _friend_ids(text: str, friends: Sequence[tuple[int, str]]) -> tuple[int, ...]:
    """The ids of the friends `text` names, in order of appearance. A full name beats a first
    name; a first name shared by several friends names none of them."""
    by_full: dict[str, set[int]] = {}
    by_first: dict[str, set[int]] = {}
    for friend_id, name in friends:
        if name.split():
            by_full.setdefault(phrase_key(name), set()).add(friend_id)
            by_first.setdefault(first_name(name), set()).add(friend_id)
    names = [name for _, name in friends if name.split()]
    lexicon = Lexicon.build({"": names + [name.split()[0] for name in names]}, suffix="(?:['’]s?)?")
    ids: list[int] = []
    for _, match in lexicon.finditer(text):
        key = phrase_key(match["core"])
        if (
            match["core"].islower()
            and fold(match["core"]) in _COMMON_WORDS
            and not _SPOKEN_OF.match(text, match.end())
        ):
            continue
        candidates = by_full.get(key) or by_first.get(key, set())
        if len(candidates) == 1:
            ids.extend(candidates)
    return tuple(dict.fromkeys(ids))


# What joins "talked" to the person talked with: "talked to Joe", "spoke w/ Ana", "hablé con Lucía".
_TALKED_TO = re.compile(r"\s*(?:(?:to|with|w/?|con|a|al|over|up)\s+)*", re.IGNORECASE)
# Where the person a report is about stops being named: the next clause, or a word that says
# when, what about, or someone else's ("my mom already", "re the forum", "& his wife").
_REPORT_CLAUSE_END = re.compile(
    r"[.,;:!?()\n&+/]|\s[-–—]+\s|\b(?:and|but|y|pero|about|re|over|for|after|before|since|already|"
    r"earlier|today|tonight|yesterday|last|this|just|finally|his|her|their|ya|hoy|ayer|anoche|sobre)\b",
    re.IGNORECASE,
)
_PRONOUNS = frozenset(fold(word) for word in _OUTCOME_DATA["pronouns"])
_THIRD_PERSON = frozenset(("she", "he", "they", "ella", "el", "ellos", "ellas"))
_MY = re.compile(r"\b(?:my|mi|mis|our|nuestr[ao]s?)\s+$", re.IGNORECASE)


def reads_as_report(text: str) -> bool:
    """Whether `text`, sent in answer to a question (a name, what a friend cares about), is a
    report instead: the volunteer says they talked ("talked to her", "we had coffee"), or that
    someone is in or could not be reached. Open or not interested without a talk is taken as
    the answer ("she's interested in housing", "she's not into politics", "not sure")."""
    return _outcome(text) in ("committed", "not_reached") or _volunteer_talked(text)


# What follows "told" or "asked" when someone asked the volunteer to stop (or start) texting or
# calling someone else: "told me to stop texting her ex", "asked me not to call his brother"
# ("asked me not to text her anymore" is about the friend herself).
_SOMEONE_ELSES_CONTACT = re.compile(
    r"\s+(?:me|us)\s+(?:not\s+)?to\s+(?:(?:stop|quit|keep|start|not|never)\s+)?"
    r"(?:text|call|messag|email|contact|bother|dm|talk\w*\s+to)\w*\s+"
    r"(?:her|his|their|my|your|our|the|that|this|some)\s+"
    r"(?!(?:anymore|again|back|about|so|too|now|today|tonight|until|till|til|or|and|lol|though|tho|ever|yet|"
    r"either|for|at|on|if|because|bc|cuz|unless|when|while|after|before)\b)[^\W\d_]",
    re.IGNORECASE,
)


def _talks(text: str) -> list[re.Match[str]]:
    """The talk phrases of `text` that say a talk happened: not negated ("haven't talked"), and
    not a request about texting or calling someone else ("she told me to stop texting her ex")."""
    return [
        match
        for _, match in _TALKED.finditer(text)
        if not _negated(text, match.start()) and not _SOMEONE_ELSES_CONTACT.match(text, match.end())
    ]


def _volunteer_talked(text: str) -> bool:
    """Whether the volunteer says they talked with someone: a talk phrase (see _talks) not
    said of someone else ("she talked about rent", "he told me about the bus")."""
    for match in _talks(text):
        before = _WORD.findall(_before(text, match.start(), _CLAUSE_BEFORE_CHARS))
        if not (before and fold(before[-1]) in _THIRD_PERSON):
            return True
    return False


def report_people(text: str, friends: Sequence[tuple[int, str]] = ()) -> list[FriendMention]:
    """The people a report is about who are not among `friends` (id, name): whoever the
    volunteer says they talked with ("talked to my cousin Joe, he's in", "hablé con mi prima
    Lucía"), or introduces as their own ("my coworker Dana is in!"). Names are read only right
    after the talk phrase or the "my", up to the end of that clause or a word that says when or
    what about, so neither the talk phrase ("Texted", "Hablé") nor what follows ("already", "re
    the forum") is ever a name. Pronouns ("talked to her") and the volunteer's listed friends name
    nobody new. [] when the text names no one new.
    """
    known = {first_name(name) for _, name in friends} | {phrase_key(name) for _, name in friends}
    mentions: list[FriendMention] = []
    for match in _talks(text):
        segment = _named_after(text, _TALKED_TO.match(text, match.end()).end())
        words = _WORD.findall(segment)
        if words and fold(words[0]) not in _PRONOUNS:
            mentions += parse_friends(segment)
    if not mentions:
        for _, match in _RELATIONSHIPS.finditer(text):
            mine = _just_before(_MY, text, match.start())
            if mine is not None:
                introduced = parse_friends(_named_after(text, mine.start()))
                mentions += [m for m in introduced if m.relationship != "other"]
    said = report_words()
    fresh: dict[str, FriendMention] = {}
    for mention in mentions:
        key = phrase_key(mention.name)
        if key in known or first_name(mention.name) in known or fold(mention.name) in _PRONOUNS:
            continue
        if any(fold(word) in said for word in mention.name.split()):
            continue
        fresh.setdefault(key, mention)
    return list(fresh.values())


def _named_after(text: str, start: int) -> str:
    """The part of `text` from `start` that can name someone: up to the end of its clause, and
    no further than _NAMED_WITHIN_CHARS, in whole words (a name comes first)."""
    limit = start + _NAMED_WITHIN_CHARS
    # Searched a little past the limit, so that a word of the pattern is never cut there.
    end = _REPORT_CLAUSE_END.search(text, start, limit + _PATTERN_WORD_CHARS)
    if end is not None and end.start() < limit:
        return text[start : end.start()]
    if limit >= len(text):
        return text[start:]
    segment = text[start:limit]
    cut_in_a_word = text[limit - 1].isalnum() and text[limit].isalnum()
    return segment.rsplit(maxsplit=1)[0] if cut_in_a_word else segment


def is_kin_name(name: str) -> bool:
    """Whether a name is a kin word standing in for one ("Mom", "Grandma", "Abuela")."""
    return phrase_key(name) in _KIN_NAMES


def introduces_own(text: str, leading: bool = False) -> bool:
    """Whether `text` calls someone its writer's own ("my cousin Joe", "mi prima Lucía"); with
    `leading`, only as the first words ("my neighbor Carlos", not "Maria, my neighbor, signed me up")."""
    first = len(text) - len(text.lstrip())  # where its first word starts
    for _, match in _RELATIONSHIPS.finditer(text):
        mine = _just_before(_MY, text, match.start())
        if mine is not None and (not leading or mine.start() <= first):
            return True
    return False


def parse_report(text: str, friends: Sequence[tuple[int, str]]) -> ReportReading:
    """How a conversation went, from a volunteer's report such as "talked to Maria, she's in!".

    `friends` are the volunteer's friends as (id, name). The outcome is one of
    ``flows.events.OUTCOMES`` or None; `talked` says whether a conversation happened (a
    non-negated "talked", "spoke", "had coffee" ..., or any outcome but not_reached).
    """
    outcome = _outcome(text)
    named = _friend_ids(text, friends)
    # "Maria told me to stop texting her ex" is still a talk with Maria.
    talked = outcome is not None or bool(_talks(text)) or bool(named and _talks_at_all(text))
    return ReportReading(named, outcome, talked and outcome != "not_reached")


def _talks_at_all(text: str) -> bool:
    """Whether `text` has a talk phrase that is not negated, whatever it is about."""
    return any(not _negated(text, match.start()) for _, match in _TALKED.finditer(text))
