"""Slurs, threats and abuse in a text, for the warning organizers see before opening it.

A flag is a warning, never a filter: the text is kept and shown once the organizer chooses
to. The words live in ``flows/data/abuse.json`` so organizers can extend them. They match as
whole words after folding case and accents and undoing the usual disguises ("B1TCH",
"f*ck you", "kiiill you"), so "Scunthorpe" or "cocoon" never match.
"""

from __future__ import annotations

import re

from flows.keywords import fold, load_data

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "@": "a", "$": "s", "5": "s", "7": "t"})
_MASK = re.compile(r"(?<=\w)[*#.\-_]+(?=\w)")  # f*ck, f.u.c.k
_RUNS = re.compile(r"(\S)\1*")
_SPACES = re.compile(r"\s+")


def _pattern() -> re.Pattern[str]:
    data = load_data("abuse.json")
    terms = sorted({_normal(term) for term in [*data["words"], *data["phrases"]]}, key=len, reverse=True)
    return re.compile(r"(?<![\w'])(?:" + "|".join(_stretchy(term) for term in terms) + r")(?!\w)")


def _stretchy(term: str) -> str:
    """A term as a regex that also matches it typed stretched out ("kiiiill" for "kill"): each
    run of a letter may be longer, never shorter, so "coon" never matches "con"."""
    return _RUNS.sub(
        lambda run: (
            re.escape(run.group(1)) + ("+" if len(run.group(0)) == 1 else f"{{{len(run.group(0))},}}")
        ),
        term,
    ).replace(" ", r"\s+")


def _normal(text: str, vowel: str = "u") -> str:
    """Folded, unmasked and with letter swaps undone. One star hides a vowel ("f*ck",
    "b*tch": read as `vowel`); dots, dashes and underscores only space letters out."""
    text = fold(text)
    text = _MASK.sub(lambda mask: "" if mask.group(0)[0] in ".-_" else vowel, text)
    text = text.translate(_LEET)
    return _SPACES.sub(" ", text)


def flagged(text: str) -> bool:
    """Whether `text` reads as a slur, a threat or abuse."""
    return any(_ABUSE.search(_normal(text, vowel)) for vowel in "uiaoe")


_ABUSE = _pattern()
