"""Opt-out, opt-in, help, acknowledgement and command words, and the phrase matching the other
parsers share.

Carrier keywords (STOP, START, HELP ...) count only as the whole message, give or take
punctuation, emoji and a "please" (or "por favor", "svp"); plain-language opt-outs ("please stop
texting me", "remove me", "no más mensajes") count anywhere in a message unless negated ("don't
stop texting me", "no paren de mandar ideas"), and written as one word ("stoptexting",
"unsubscribeme") as the whole message. Besides the listed phrases, each verb of
``opt_out_composed`` followed by each of its objects is one ("stop" + "textin me", "don't want" +
"ur texts", "take this number off" + "your list", "I want out of" + "these texts", "quítenme" + "de
los mensajes", "no me sigan" + "mandando textos"). The words live in
``flows/data/keywords.json``, whose "sources" entry names where each list comes from (CTIA, the
FCC's 2024 revocation order, Twilio and other providers, the Canadian carriers' French keywords
such as ARRET, and Spoke's opt-out rules), so organizers can extend them; they are compiled to
regular expressions once, at import.

Consent can be revoked by any reasonable means (the FCC's 2024 rule), so besides the whole
message a STOP-family keyword also counts as a clause of its own ("Who is this? STOP",
"not interested, stop"), or typed in capitals at the end of a message ("not interested
STOP"); END and CANCEL do not ("We talked till 9. The end.", "Cancel." about an RSVP),
and only make the text a :func:`maybe_opt_out`. Some phrases opt out only as a whole clause,
because inside a sentence they mean something else ("wrong number" vs "I gave you the wrong
number for Bob"); "wrong person" only as the whole message. Reported speech is not an opt-out:
"my friend said to leave her alone about it" matches no first-person phrase, and a phrase quoted
from someone else ("my uncle said leave me alone", not "I said stop texting me") is theirs. A
phrase that leaves open what it is about ("take me off", "stop texting") is not an opt-out when
the rest of its clause names another list or someone else's texts ("take me off the RSVP",
"stop texting Maria so much", "stop the texts from her landlord", "cancel my subscription to
the paper"); interjections ("Stop texting Bro"), "Kindred" and the words of the organization's
name, when the caller passes it, name no one else. "Unsubscribe" followed by more words opts
out at the start of a clause on the same terms ("Unsubscribe Kindred", not "Unsubscribe Maria").

Typos (decided here, tested in tests/flows/test_corpus.py): a misspelt keyword counts only when
it is the *whole* message, never inside a longer sentence. Words of three letters or fewer
never fuzzy-match. A four-letter keyword (STOP, QUIT, ALTO, HELP) accepts only a swap of two
neighbouring letters or a doubled letter ("stpo", "STOPP", "hlep"); longer ones accept one
edit ("unsubscibe" needs more: words of ten letters or more accept two). Words that are
ordinary words in their own right ("shop", "step", "stomp", "stoop", "quiet", "cancer",
"para", "friend") are listed in ``fuzzy_guard`` and never match, so an opt-out typo is
honoured only when the whole message is a near-miss of a STOP-family word and nothing else.
A near-miss that fails these rules but is not an ordinary word ("stoo", "stops") is a
:func:`maybe_opt_out`, answered with "Reply STOP to stop all texts" rather than guessed.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from rapidfuzz.distance import OSA

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
_WORD = re.compile(r"[\w'’]+")
_NOT_WORD = re.compile(r"[^\w\s'-]+|_+")
_REST_LEADING = " \t\r\n:;,.!?-–—"
_FIRST_WORD = re.compile(r"[\W_]*([^\W\d_]+)(?![\w'’])(.*)", re.DOTALL)
_NEGATED_TAIL_CHARS = 24
_CLAUSE = re.compile(r"[.!?;,:\n()]+|\s[-–—]+\s")
_MIN_FUZZY_LEN = 4
_LONG_KEYWORD_LEN = 10
_MAYBE_MAX_WORDS = 8


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


def alternation(phrases: Iterable[str]) -> str:
    """A regex for any one of `phrases`, written as a lexicon matches them (accents, apostrophes
    and hyphens optional; the longest first); it matches nothing when there are none. Lower-case
    words only: compile it with re.IGNORECASE."""
    alternatives = sorted(
        {_phrase_regex(p) for p in phrases if p.strip()}, key=lambda regex: (-len(regex), regex)
    )
    return "|".join(alternatives) or "(?!)"


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
        plural = "(?:e?s)?" if plurals else ""
        body = alternation(p for group in phrases.values() for p in group)
        pattern = rf"(?<!\w){prefix}(?P<core>{body}){plural}(?!\w){suffix}"
        return cls(re.compile(pattern, re.IGNORECASE), labels)

    def finditer(self, text: str) -> Iterator[tuple[str, re.Match[str]]]:
        """Each non-overlapping match in `text`, left to right, with its label."""
        for match in self.pattern.finditer(text):
            label = self.labels.get(phrase_key(match["core"]))
            if label is not None:
                yield label, match


_DATA = load_data("keywords.json")


def _composed(groups: Mapping[str, Any], *, only_open: bool = False) -> list[str]:
    """The phrases of ``opt_out_composed``: each verb of a group followed by each of its objects
    (with `only_open`, only those of the groups marked "open", which leave open whose texts)."""
    return [
        f"{verb} {obj}"
        for name, group in groups.items()
        if name != "about" and (group.get("open", False) or not only_open)
        for verb in group["verbs"]
        for obj in group["objects"]
    ]


_PHRASES = [*_DATA["opt_out_phrases"], *_composed(_DATA["opt_out_composed"])]
_FILLER = Lexicon.build({"": _DATA["filler"]})
_OPT_OUT_KEYWORDS = Lexicon.build(_DATA["opt_out_keywords"])
# "stop texting her ex", "stop texting him on weekends": someone else's texts.
_OPT_OUT_PHRASES = Lexicon.build(
    {"": _PHRASES},
    prefix=r"(?:(?:please|pls|plz)\s+)?",
    suffix=r"(?!\s+(?:her|him|them|his|their|everyone|people|anyone)\b)",
)
_NEGATORS = Lexicon.build({"": _DATA["negators"]}, suffix=r"\s*(?:please\s*)?")
_REPORTERS = Lexicon.build({"": _DATA["reporters"]}, suffix=r"\s*[:,\"“”']?\s*")
_FIRST_PERSON = frozenset(("i", "yo"))
_NEGATED_BY_NO = frozenset(fold(word) for word in _DATA["negated_by_no"])
_NOT_THESE = _DATA["not_these_texts"]
_FOLLOWED_BY_OTHERS = Lexicon.build({"": _NOT_THESE["followed_by"]})
_ACTIVITIES = Lexicon.build({"": _NOT_THESE["activities"]})
_NOT_NAMES = frozenset(fold(word) for word in _NOT_THESE["not_names"])
_RELATIVES = frozenset(
    fold(word) for group in load_data("relationships.json")["relationships"].values() for word in group
)
_OPEN_PHRASES = frozenset(
    phrase_key(phrase)
    for phrase in (*_NOT_THESE["open_phrases"], *_composed(_DATA["opt_out_composed"], only_open=True))
)
_ELSEWHERE = _NOT_THESE["elsewhere"]
_PREPOSITIONS = frozenset(fold(word) for word in _ELSEWHERE["prepositions"])
_OURS = frozenset(fold(word) for word in _ELSEWHERE["ours"])
_SUBSCRIPTIONS = frozenset(("subscription", "subscriptions", "suscripcion"))
_AFTER_SUBSCRIPTION = frozenset(fold(word) for word in _ELSEWHERE["after_subscription"])
_FROM_OR_TO = frozenset(("from", "to", "de"))
_LEADING = Lexicon.build({"": _DATA["opt_out_leading"]["phrases"]})
_LEADING_KEYS = frozenset(phrase_key(phrase) for phrase in _DATA["opt_out_leading"]["phrases"])
_CLAUSE_STARTS = re.compile(r"(?:^|[.!?;,:\n()]+|\s[-–—]+\s)\s*")
_ABOUT_WORDS = 6
_OPT_IN = {phrase_key(word) for word in _DATA["opt_in"]}
_HELP = {phrase_key(word) for word in _DATA["help"]}
_KEYWORD_LABELS = {
    phrase_key(word): label for label, words in _DATA["opt_out_keywords"].items() for word in words
}
_CLAUSE_KEYWORDS = frozenset(_DATA["clause_keywords"])
_OPT_OUT_WHOLE = {phrase_key(phrase): " ".join(phrase.split()) for phrase in _DATA["opt_out_whole"]}
# A clause that is an opt-out phrase written as one word ("stoptexting", "unsubscribeme",
# "leavemealone") is that phrase: the keys of a lexicon drop spaces.
_OPT_OUT_CLAUSES = {
    phrase_key(phrase): " ".join(phrase.split()) for phrase in (*_PHRASES, *_DATA["opt_out_clauses"])
}
_MAYBE = _DATA["maybe_opt_out"]
_MAYBE_WHOLE = {phrase_key(phrase) for phrase in _MAYBE["whole"]}
_MAYBE_CLAUSE_WORDS = frozenset(fold(word) for word in _MAYBE["clause_words"])
_STOP_WORDS = frozenset(fold(word) for word in _MAYBE["stop_words"])
_NOT_BEFORE_STOP = frozenset(fold(word) for word in _MAYBE["not_before"])
_NOT_AFTER_STOP = frozenset(fold(word) for word in _MAYBE["not_after"])
_STOPPING_MESSAGES = frozenset(fold(word) for word in _MAYBE["stopping_messages"])
_STOP_EMOJI = frozenset(_MAYBE["emoji"])
_FUZZY_GUARD = frozenset(fold(word) for word in _DATA["fuzzy_guard"])
_FUZZY_OPT_OUT = {fold(word): _KEYWORD_LABELS[phrase_key(word)] for word in _DATA["fuzzy"]["opt_out"]}
_EMAIL_OPT_OUT = {phrase_key(phrase): " ".join(phrase.split()) for phrase in _DATA["email_opt_out"]}
_FUZZY_HELP = {fold(word): "help" for word in _DATA["fuzzy"]["help"]}
_ACKS = _DATA["acknowledgements"]
_ACKNOWLEDGEMENTS = Lexicon.build({label: _ACKS[label] for label in ("thanks", "ok")})
_ACK_COMPANIONS = Lexicon.build({"": _ACKS["companions"]})
_ACK_EMOJI = {emoji: label for label, group in _ACKS["emoji"].items() for emoji in group}


@dataclass(frozen=True)
class _CommandSpec:
    name: str
    argument: bool
    not_followed_by: frozenset[str]
    followed_by_means: Mapping[str, str]  # "idea for Ruth" asks for an idea: the prompt command


_COMMANDS = {
    fold(word): _CommandSpec(
        spec.get("means", name),
        spec["argument"],
        frozenset(fold(w) for w in spec.get("not_followed_by", ())),
        {fold(w): command for w, command in spec.get("followed_by_means", {}).items()},
    )
    for name, spec in _DATA["commands"].items()
    for word in spec["words"]
}
_FUZZY_COMMANDS = {fold(word): fold(word) for word in _DATA["fuzzy"]["commands"]}
# "any tips for talking to my grandma?", "need advice", "algún consejo?": asking for TIPS. (A
# bare "Tip ..." is a friend of that name: "Tip said no".)
_TIPS = _DATA["commands"]["tips"]
_ASKED_WITH = "|".join(_phrase_regex(word) for word in _TIPS["asked_with"])
_ASKED_FOR = "|".join(_phrase_regex(word) for word in _TIPS["asked_for"])
_ASKS_FOR_TIPS = re.compile(
    rf"^\W*(?:{_ASKED_WITH})\s+(?:(?:good|more|other|buenos?)\s+)?(?:{_ASKED_FOR})(?!\w)", re.IGNORECASE
)


_ANOTHER_TIP = re.compile(
    rf"^\W*(?:{'|'.join(_phrase_regex(word) for word in _TIPS['another_right_after_one'])})[\W_]*$",
    re.IGNORECASE,
)


def asks_for_another(text: str) -> bool:
    """Whether the whole text asks for one more of what was just sent ("more", "another one",
    "otro", "¿más?"): said right after a tip, it asks for the next tip."""
    return bool(_ANOTHER_TIP.match(text.translate(_APOSTROPHES)))


def _squeeze(word: str) -> str:
    """`word` with each run of one repeated letter cut to one letter ("stoppp" -> "stop")."""
    return re.sub(r"(.)\1+", r"\1", word)


def _near(word: str, keyword: str) -> bool:
    """Whether `word` is a typo of `keyword` under the rules in the module docstring (before
    the guard list of ordinary words is consulted)."""
    if _squeeze(word) == _squeeze(keyword):
        return True
    if len(keyword) <= _MIN_FUZZY_LEN:
        return (
            len(word) == len(keyword)
            and sorted(word) == sorted(keyword)
            and (OSA.distance(word, keyword, score_cutoff=1) == 1)
        )
    limit = 2 if len(keyword) >= _LONG_KEYWORD_LEN else 1
    return OSA.distance(word, keyword, score_cutoff=limit) <= limit


def fuzzy_keyword(word: str, keywords: Mapping[str, str]) -> str | None:
    """The label of the one keyword (of `keywords`, ``{folded word: label}``) that `word` is a
    typo of, or None: short words, ordinary words (the ``fuzzy_guard`` list) and a typo that
    could be either of two keywords match nothing. `word` is a single folded word."""
    if word in keywords:
        return keywords[word]
    if len(word) < _MIN_FUZZY_LEN or not word.isalpha() or word in _FUZZY_GUARD:
        return None
    labels = {label for keyword, label in keywords.items() if _near(word, keyword)}
    return labels.pop() if len(labels) == 1 else None


def _roughly_stop(word: str) -> bool:
    """Whether `word` is within one edit of a STOP-family keyword without being an ordinary
    word: too unsure to opt out on, close enough to ask."""
    if len(word) < _MIN_FUZZY_LEN or word in _FUZZY_GUARD or not word.isalpha():
        return False
    return any(OSA.distance(word, keyword, score_cutoff=1) <= 1 for keyword in _FUZZY_OPT_OUT)


def _negated(text: str, position: int) -> bool:
    """Whether a negator ends right before `position` ("don't" in "don't stop texting me"), or
    a Spanish "no" before a verb of stopping ("no paren de mandar ideas")."""
    tail = text[max(0, position - _NEGATED_TAIL_CHARS) : position]
    if any(match.end() == len(tail) for _, match in _NEGATORS.finditer(tail)):
        return True
    verb = text[position:].split(maxsplit=1)[:1]
    return tail.split()[-1:] == ["no"] and bool(verb) and fold(verb[0]) in _NEGATED_BY_NO


def _reported(text: str, position: int) -> bool:
    """Whether someone other than the volunteer is quoted right before `position`: "my uncle
    said leave me alone" reports a talk; "I said stop texting me" still asks."""
    tail = text[max(0, position - _NEGATED_TAIL_CHARS) : position]
    for _, match in _REPORTERS.finditer(tail):
        if match.end() == len(tail):
            before = tail[: match.start()].split()
            return not before or before[-1] not in _FIRST_PERSON
    return False


def _organization_words(organization: str) -> frozenset[str]:
    """The folded words of the organization's name: "Stop texting Eastside" names no third
    person when the organization is Eastside Neighbors."""
    return frozenset(fold(word) for word in _WORD.findall(organization))


def _elsewhere(words: list[str], ours: frozenset[str]) -> bool:
    """Whether `words` (what follows a subscription or a leading "unsubscribe") start with a
    preposition naming something not ours ("to the paper", "from Netflix"; not "from these
    texts", "to Kindred") or say what of the subscription ("fees")."""
    if words and fold(words[0]) in _AFTER_SUBSCRIPTION:
        return True
    if len(words) < 2 or fold(words[0]) not in _PREPOSITIONS:
        return False
    named = [fold(word).strip("'") for word in words[1:4]]
    return not any(word in _OURS or word in ours for word in named)


def _about_something_else(text: str, match: re.Match[str], ours: frozenset[str] = frozenset()) -> bool:
    """Whether what follows an open opt-out phrase (one that does not say what it is about:
    ``open_phrases``), in the same clause, shows it is about other texts or another list: a name
    ("stop texting Maria so much"), a relative ("how do I unsubscribe my mom from her gym"),
    someone's texts ("stop the texts from her landlord"), a volunteer's activity ("take me off
    the RSVP", "remove me from the Tuesday phone bank") or another subscription ("cancel my
    subscription to the paper"). Interjections ("Stop texting Bro"), "Kindred" and the words of
    the organization's name (`ours`) are no one else."""
    core = phrase_key(match["core"])
    if core not in _OPEN_PHRASES:
        return False
    clause = _CLAUSE.split(text[match.end() :], maxsplit=1)[0]
    words = clause.split()[:_ABOUT_WORDS]
    near = " ".join(words).lower()
    last = fold(match["core"].split()[-1])
    if (last in _SUBSCRIPTIONS or core in _LEADING_KEYS) and _elsewhere(words, ours):
        return True
    if any(found.start() == 0 for _, found in _FOLLOWED_BY_OTHERS.finditer(near)):
        return True
    if any(True for _ in _ACTIVITIES.finditer(near)):
        return True
    if match["core"].split()[-1] in _NOT_NAMES:  # "remove me, Sam here", "remove me my wife too"
        return False
    if len(words) >= 2 and fold(words[0]) in ("my", "mi") and fold(words[1]) in _RELATIVES:
        return True
    if len(words) >= 2 and fold(words[0]) in _FROM_OR_TO:  # "end texts from Maria"
        words = words[1:]
    first = words[0].strip(".,!?'\"") if words else ""
    folded = fold(first)
    return first[:1].isupper() and first[1:].islower() and folded not in _NOT_NAMES and folded not in ours


def _bare(text: str) -> str:
    """The message reduced to its words: folded, without punctuation, emoji or politeness."""
    words = _NOT_WORD.sub(" ", fold(text))
    return " ".join(_FILLER.pattern.sub(" ", words).split()).strip("'-")


def _clauses(text: str) -> list[str]:
    """The message's clauses (split at sentence punctuation, commas and dashes), each bare."""
    return [bare for part in _CLAUSE.split(text) if (bare := _bare(part))]


def _keyword(bare: str) -> str | None:
    """The opt-out keyword label if `bare` (a bare message or clause) is one keyword, the same
    keyword repeated ("stop stop"), or a whole-word typo of one ("stpo")."""
    words = set(bare.split())
    if len(words) == 1:
        return fuzzy_keyword(words.pop(), _FUZZY_OPT_OUT) or _KEYWORD_LABELS.get(phrase_key(bare))
    return _KEYWORD_LABELS.get(phrase_key(bare))


def _capital_stop_at_end(text: str) -> str | None:
    """STOP (or another clause keyword) typed in capitals as the last word of a message that
    is otherwise not all capitals: "not interested STOP"."""
    words = _NOT_WORD.sub(" ", text).split()
    if len(words) < 2 or not words[-1].isupper() or text.upper() == text:
        return None
    label = _KEYWORD_LABELS.get(phrase_key(words[-1]))
    return label if label in _CLAUSE_KEYWORDS else None


def opt_out_reason(text: str, *, organization: str = "") -> str | None:
    """The stop keyword (upper-case, e.g. "STOP") if the whole message is one (or a clause of
    it is a STOP-family keyword: "Who is this? STOP"), else the plain-language opt-out phrase
    it contains (lower-case, as typed), else None. See the module docstring for typos.

    `organization` is the name of the organization texting: its words are never someone
    else's name ("Stop texting Eastside" from a volunteer of Eastside Neighbors)."""
    ours = _organization_words(organization)
    bare = _bare(text)
    whole = _keyword(bare) or _OPT_OUT_WHOLE.get(phrase_key(bare))
    if whole is not None:
        return whole
    clauses = _clauses(text)
    for clause in clauses:
        label = _KEYWORD_LABELS.get(phrase_key(clause))
        if label in _CLAUSE_KEYWORDS:
            return label
    cased = text.translate(_APOSTROPHES)
    lowered = cased.lower()
    if len(cased) != len(lowered):  # a letter whose lower case is longer: no case to go by
        cased = lowered
    for _, match in _OPT_OUT_PHRASES.finditer(lowered):
        if (
            not _negated(lowered, match.start())
            and not _reported(lowered, match.start())
            and not _about_something_else(cased, match, ours)
        ):
            return " ".join(match[0].split())
    for start in _CLAUSE_STARTS.finditer(lowered):
        leading = _LEADING.pattern.match(lowered, start.end())
        if leading is not None and not _about_something_else(cased, leading, ours):
            return " ".join(leading[0].split())
    for clause in clauses:
        phrase = _OPT_OUT_CLAUSES.get(phrase_key(clause))
        if phrase is not None:
            return phrase
    return _capital_stop_at_end(text)


def email_opt_out_reason(text: str) -> str | None:
    """The opt-out an email reply asks for when its whole visible text asks for nothing else:
    a stop keyword ("Unsubscribe", "STOP."), an opt-out phrase ("Please remove me from your
    list"), or a word of ``email_opt_out`` ("baja", "cancelar suscripción"); else None. An
    email is read by an organizer, so a longer one that mentions stopping is theirs to judge."""
    bare = _bare(text)
    if not bare:
        return None
    keyword = _keyword(bare)
    if keyword is not None:
        return keyword
    if phrase_key(bare) in _EMAIL_OPT_OUT:
        return _EMAIL_OPT_OUT[phrase_key(bare)]
    whole = _OPT_OUT_PHRASES.pattern.fullmatch(bare)
    return " ".join(whole[0].split()) if whole else None


def maybe_opt_out(text: str, *, organization: str = "") -> bool:
    """Whether the text might be asking to stop though :func:`opt_out_reason` found no opt-out
    in it; the engine answers such texts "Reply STOP to stop all texts." rather than guess.

    Deliberately narrow: a whole message like "stop it", "enough", "no more", "basta" or
    "no me interesa"; a whole-message near-miss of STOP that is not an ordinary word
    ("stoo"); a stop-sign emoji alone; END, CANCEL or QUIT as a clause of a longer text; or
    STOP as a word of a short text, not negated, not part of "bus stop" and not followed by
    what is stopped ("stop by", "stop the cuts", "stop thinking"). Always False when
    :func:`opt_out_reason` returns a reason (given the same `organization`).
    """
    if opt_out_reason(text, organization=organization) is not None:
        return False
    stripped = "".join(text.split())
    if (
        stripped
        and all(char in _STOP_EMOJI or not char.isalnum() for char in stripped)
        and any(emoji in stripped for emoji in _STOP_EMOJI)
    ):
        return True
    bare = _bare(text)
    if phrase_key(bare) in _MAYBE_WHOLE or (" " not in bare and _roughly_stop(bare)):
        return True
    clauses = _clauses(text)
    if len(clauses) > 1 and any(clause in _MAYBE_CLAUSE_WORDS for clause in clauses):
        return True
    words = bare.split()
    if len(words) > _MAYBE_MAX_WORDS:
        return False
    lowered = text.translate(_APOSTROPHES).lower()
    for index, word in enumerate(words):
        if word not in _STOP_WORDS:
            continue
        before = words[index - 1] if index else ""
        after = words[index + 1] if index + 1 < len(words) else ""
        position = lowered.find(word)
        stopping_something_else = after.endswith("ing") and after not in _STOPPING_MESSAGES
        if before in _NOT_BEFORE_STOP or after in _NOT_AFTER_STOP or stopping_something_else:
            continue
        if position >= 0 and (_negated(lowered, position) or _reported(lowered, position)):
            continue
        return True
    return False


def acknowledgement(text: str) -> str | None:
    """The kind of acknowledgement the whole message is: "thanks" when it thanks us ("thanks!",
    "gracias 🙏", "great, thank you"), "ok" when it only acknowledges what we said ("ok 👍",
    "got it", "will do", "vale", "👌"); None when anything else is in it ("ok, Maria", "thanks,
    she's in", "2"). Words like "great" or "perfect" only keep an acknowledgement company: alone,
    "great" may be how a talk went."""
    lowered = text.translate(_APOSTROPHES).lower()
    labels = {label for label, _ in _ACKNOWLEDGEMENTS.finditer(lowered)}
    labels.update(label for emoji, label in _ACK_EMOJI.items() if emoji in text)
    rest = _ACK_COMPANIONS.pattern.sub(" ", _ACKNOWLEDGEMENTS.pattern.sub(" ", lowered))
    if not labels or _NOT_WORD.sub(" ", rest).strip(" '-"):
        return None
    return "thanks" if "thanks" in labels else "ok"


def is_opt_in(text: str) -> bool:
    """Whether the whole message is START, UNSTOP or a yes ("YES", "yes please", "sí", "y")."""
    return phrase_key(_bare(text)) in _OPT_IN


def is_help(text: str) -> bool:
    """Whether the whole message is HELP, INFO or AYUDA (any case, with punctuation), or a
    whole-message typo of HELP or AYUDA ("hlep")."""
    bare = _bare(text)
    return phrase_key(bare) in _HELP or (" " not in bare and fuzzy_keyword(bare, _FUZZY_HELP) is not None)


@dataclass(frozen=True)
class Command:
    """A command word that starts a message, and what follows it."""

    name: str
    rest: str


def parse_command(text: str) -> Command | None:
    """The command a message starts with ("add Maria" -> Command("add", "Maria")), or None.

    Commands that take no argument (FRIENDS, LIST) count only as the whole message, and a
    command word followed by one of its `not_followed_by` words ("next door neighbor Carlos")
    is ordinary text, and one followed by a `followed_by_means` word is that other command ("idea
    for Ruth" asks for an idea, where "IDEA ..." shares one). A whole-message typo of FRIENDS or
    PROMPT ("frinds", "promt") counts.
    """
    if _ASKS_FOR_TIPS.match(text):
        return Command("tips", "")
    match = _FIRST_WORD.match(text)
    if match is None:
        return None
    word = fold(match[1])
    if word not in _COMMANDS and not _bare(match[2]):
        word = fuzzy_keyword(word, _FUZZY_COMMANDS) or word
    spec = _COMMANDS.get(word)
    if spec is None:
        return None
    rest = match[2].lstrip(_REST_LEADING).rstrip()
    following = _bare(rest).split(" ", 1)[0]
    if (not spec.argument and following) or following in spec.not_followed_by:
        return None
    return Command(spec.followed_by_means.get(following, spec.name), rest)
