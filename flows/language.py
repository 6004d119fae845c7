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
earned a dependency; re-measure with the corpus before adding one.
"""

from __future__ import annotations

import re

from flows.keywords import fold, load_data

_DATA = load_data("language.json")
_SPANISH = frozenset(fold(word) for word in _DATA["es"])
_ENGLISH = frozenset(fold(word) for word in _DATA["en"])
_ACCENT_WEIGHT = int(_DATA["weights"]["accent"])
_MARK_WEIGHT = int(_DATA["weights"]["inverted_mark"])
_ACCENTED = re.compile(r"[áéíóúñ]", re.IGNORECASE)
_INVERTED = re.compile(r"[¿¡]")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
LANGUAGES = ("en", "es")


def detect_language(text: str) -> str:
    """ "es" when the text reads as Spanish, else "en": "¿Cómo se apunta?" -> "es",
    "she's in!" -> "en", "Maria" -> "en"."""
    spanish = _ACCENT_WEIGHT * len(_ACCENTED.findall(text))
    spanish += _MARK_WEIGHT * len(_INVERTED.findall(text))
    english = 0
    for word in _WORD.findall(text):
        key = fold(word)
        spanish += key in _SPANISH
        english += key in _ENGLISH
    return "es" if spanish > english else "en"
