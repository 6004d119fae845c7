"""Which language a volunteer writes in: Spanish ("es") or English ("en", the default).

A lexicon of common Spanish and English words (``flows/data/language.json``, which organizers
can extend) votes word by word; accented letters (á é í ó ú ñ) and the inverted marks ¿ ¡
count extra for Spanish. A text with no evidence either way ("ok", "Maria", "🙂") is English,
the program's default. Pure Python, a few microseconds per text.

Why not a library: measured on the 379 short texts of tests/flows/corpus (108 Spanish),
restricted to English and Spanish: this lexicon 100% (379/379, ~6 µs a text; but it was
tuned on that corpus, so expect less on new texts), lingua-language-detector 2.1 98.7%
(374/379, ~0.8 ms, 96 MB of models), py3langid 0.4 96.6% (366/379, needs numpy) and
langdetect 1.0.9 88.4% (335/379, ~4.5 ms, non-deterministic unless seeded). On texts of a
few words, names and SMS spelling ("ok", "Maria", "q onda", "ya no") the libraries guess;
the lexicon defaults to English and is extended by adding words to the data file. None
earned a dependency; re-measure with the corpus before adding one. Grown past 1,000 texts with
issue 12's opt-outs and look-alikes, the lexicon still reads every one right, with a few words
added.

:func:`choose_language` decides, for each inbound text, which language to answer in (and to
keep for the volunteer); :mod:`flows.engine` runs it before anything else. A short text is
weak evidence, so switching takes more than a name or an "ok":

1. The whole message ESPAÑOL / ESPANOL / SPANISH chooses Spanish, ENGLISH / INGLÉS / INGLES
   English (the "spanish" and "english" commands in ``flows/data/keywords.json``).
2. A one-word Spanish greeting ("Hola", "Buenas": ``one_word_es`` in the data file) switches to
   Spanish, since it is how many Spanish speakers open a conversation; so does a Spanish word
   Kindred reads as a keyword, a command or an acknowledgement: AYUDA, ALTO, PARAR, BAJA,
   MISDATOS, BORRAR, AMIGOS, CONSEJOS, "gracias" (Spanish by the lexicon, and understood by
   :mod:`flows.keywords`). Its answer is already in Spanish, and so are the next ones. "Vale"
   and "Dale" are not in the lexicon: they are names too.
3. Otherwise a volunteer not writing in Spanish switches to it when :func:`detect_language`
   says "es" on a text of at least 2 words ("hola, quiero unirme"); a Spanish-speaking one
   switches back only when it says "en" on a text of at least 4 words ("talked to Rosa
   today"). "Ana", "ok", "STOP" or "Rosa Pérez" never flip the language.
"""

from __future__ import annotations

import re

from flows.keywords import (
    acknowledgement,
    fold,
    is_help,
    is_opt_in,
    load_data,
    maybe_opt_out,
    opt_out_reason,
    parse_command,
)
from flows.parse import CONTACT_PLACEHOLDER, mask_contacts

_DATA = load_data("language.json")
_SPANISH = frozenset(fold(word) for word in _DATA["es"])
_ENGLISH = frozenset(fold(word) for word in _DATA["en"])
_ACCENT_WEIGHT = int(_DATA["weights"]["accent"])
_MARK_WEIGHT = int(_DATA["weights"]["inverted_mark"])
_ACCENTED = re.compile(r"[áéíóúñ]", re.IGNORECASE)
_FRENCH = frozenset(fold(word) for word in _DATA["fr"])
_FRENCH_ACCENTED = re.compile(r"[èêàâçùûîôœ]", re.IGNORECASE)
_INVERTED = re.compile(r"[¿¡]")
# A token with a digit in it (a team join code "G4RDN", "40", "6pm") is no word of either language.
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
LANGUAGES = ("en", "es")
MIN_WORDS_TO_SPANISH = 2
MIN_WORDS_TO_ENGLISH = 4
_ONE_WORD_SPANISH = frozenset(fold(word) for word in _DATA["one_word_es"])
_LANGUAGE_COMMANDS = {"spanish": "es", "english": "en"}


def detect_language(text: str) -> str:
    """ "es" when the text reads as Spanish, else "en": "¿Cómo se apunta?" -> "es",
    "she's in!" -> "en", "Maria" -> "en". French ("désabonnez-moi", "arrêtez de m'écrire", as
    Canadian volunteers may stop) is not Spanish: it counts for English, the default, since
    Kindred does not write French."""
    spanish = _ACCENT_WEIGHT * len(_ACCENTED.findall(text))
    spanish += _MARK_WEIGHT * len(_INVERTED.findall(text))
    english = _ACCENT_WEIGHT * len(_FRENCH_ACCENTED.findall(text))
    for word in _words(text):
        key = fold(word)
        spanish += key in _SPANISH
        english += key in _ENGLISH
        if key in _FRENCH:  # its é is no Spanish accent
            english += 1 + _ACCENT_WEIGHT * len(_ACCENTED.findall(word))
    return "es" if spanish > english else "en"


def asked_for_language(text: str) -> str | None:
    """The language the whole message asks for by name: "Español" -> "es", "ENGLISH" -> "en";
    None for any other text."""
    command = parse_command(text)
    return _LANGUAGE_COMMANDS.get(command.name) if command else None


def choose_language(text: str, current: str) -> str:
    """The language to answer `text` in, for a volunteer who has been written to in `current`;
    the rules are in the module docstring. "Español" -> "es", ("hola, quiero unirme", "en")
    -> "es", ("Ana", "es") -> "es", ("talked to Rosa today", "es") -> "en"."""
    asked = asked_for_language(text)
    if asked is not None:
        return asked
    words = _words(text)
    if len(words) == 1 and (fold(words[0]) in _ONE_WORD_SPANISH or _spanish_keyword(text)):
        return "es"
    detected = detect_language(text)
    if current != "es" and detected == "es" and len(words) >= MIN_WORDS_TO_SPANISH:
        return "es"
    if current == "es" and detected == "en" and len(words) >= MIN_WORDS_TO_ENGLISH:
        return "en"
    return current


def _spanish_keyword(text: str) -> bool:
    """Whether `text` is a Spanish word that Kindred reads as a keyword, a command or an
    acknowledgement: "AYUDA", "alto", "MISDATOS", "gracias" (not "Rosa", "ok" or "STOP")."""
    if detect_language(text) != "es":
        return False
    return (
        is_help(text)
        or is_opt_in(text)
        or opt_out_reason(text) is not None
        or maybe_opt_out(text)
        or acknowledgement(text) is not None
        or parse_command(text) is not None
    )


def _words(text: str) -> list[str]:
    """The words of `text`: "EQUIPO UNIRME G4RDN" has two, not four ("G", "RDN"), and
    "CORREO ana@ejemplo.org" one: an email address is in no language."""
    text = mask_contacts(text).replace(CONTACT_PLACEHOLDER, " ")
    return [token for token in _TOKEN.findall(text) if not any(char.isdigit() for char in token)]
