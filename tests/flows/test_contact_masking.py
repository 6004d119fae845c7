"""Friends' phone numbers and emails are found in any realistic format, and nothing else is.

A generator writes hundreds of numbers in the formats volunteers type (spaced dashes, slashes,
en-dashes, digits run into a word, a URL-encoded plus, national numbers with a leading 0,
international numbers) inside everyday sentences; every one must be masked, and handed to the
gateway in a form that digests to the number's own digest. Dates, times, money, ZIP codes,
years and counts written around them must come through untouched.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

import phonenumbers
import pytest

from flows.parse import CONTACT_PLACEHOLDER, find_contacts, mask_contacts, parse_friends
from gateway.delivery.addresses import digest, normalize_contact

SECRET = "a-test-secret-that-is-long-enough-0123456789"
SEED = 11
NUMBERS_PER_REGION = 60

# How the parts of a number are written: (area or trunk group, exchange, line) -> text.
US_FORMATS = [
    "{a}{e}{s}",
    "{a}-{e}-{s}",
    "({a}) {e}-{s}",
    "({a}){e}-{s}",
    "{a}.{e}.{s}",
    "{a} {e} {s}",
    "{a} - {e} - {s}",
    "{a}/{e}/{s}",
    "{a} / {e} / {s}",
    "{a}–{e}–{s}",  # en-dashes
    "{a} – {e} – {s}",
    "{a}—{e}—{s}",  # em-dashes
    "{a}-{e}{s}",
    "{a} {e}-{s}",
    "1{a}{e}{s}",
    "1-{a}-{e}-{s}",
    "1 ({a}) {e}-{s}",
    "+1{a}{e}{s}",
    "+1 {a} {e} {s}",
    "+1-{a}-{e}-{s}",
    "+1 ({a}) {e}-{s}",
    "+1.{a}.{e}.{s}",
    "%2B1{a}{e}{s}",  # a plus that came through a URL encoded
    "%2b1 {a} {e} {s}",
]
GB_FORMATS = [
    "0{a}{e}{s}",  # national, leading 0
    "0{a} {e}{s}",
    "0{a} {e} {s}",
    "0{a}-{e}-{s}",
    "(0{a}) {e} {s}",
    "+44 {a} {e} {s}",
    "+44{a}{e}{s}",
    "+44 (0){a} {e} {s}",
    "0044 {a} {e} {s}",
    "%2B44{a}{e}{s}",
]
# Where a number sits in a text. "{n}" run into words tests digits typed without a space.
SENTENCES = [
    "Maria {n}",
    "add my neighbor Maria {n} she cares about rent",
    "Maria, {n}, neighbor",
    "maria{n}",
    "Maria {n}maria",
    "Maria: cell {n}.",
    "Maria ({n})",
    "Maria cell#{n}",
    "Maria {n}, talk sunday",
    "Maria tel:{n}",
]


@dataclass(frozen=True)
class Written:
    """One phone number as a volunteer typed it, and the number it is."""

    text: str
    typed: str
    e164: str
    region: str


def _us_numbers(rng: random.Random) -> Iterator[tuple[str, str, str]]:
    for _ in range(NUMBERS_PER_REGION):
        yield (
            f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}",
            f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}",
            f"{rng.randint(0, 9999):04d}",
        )


def _gb_numbers(rng: random.Random) -> Iterator[tuple[str, str, str]]:
    for _ in range(NUMBERS_PER_REGION):  # mobiles: 07xxx xxxxxx
        yield f"7{rng.randint(100, 999)}", f"{rng.randint(100, 999)}", f"{rng.randint(0, 999):03d}"


def corpus() -> list[Written]:
    """Every generated number in every format, each in one of the sentences in turn."""
    rng = random.Random(SEED)
    written = []
    for region, numbers, formats, country in (
        ("US", _us_numbers(rng), US_FORMATS, "+1"),
        ("GB", _gb_numbers(rng), GB_FORMATS, "+44"),
    ):
        for index, (a, e, s) in enumerate(numbers):
            for offset, pattern in enumerate(formats):
                typed = pattern.format(a=a, e=e, s=s)
                sentence = SENTENCES[(index + offset) % len(SENTENCES)]
                written.append(Written(sentence.format(n=typed), typed, f"{country}{a}{e}{s}", region))
    return written


CORPUS = corpus()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def test_the_corpus_is_large_and_every_number_is_possible() -> None:
    assert len(CORPUS) >= 2000
    assert len({w.e164 for w in CORPUS}) == 2 * NUMBERS_PER_REGION
    assert all(phonenumbers.is_possible_number(phonenumbers.parse(w.e164)) for w in CORPUS)


def test_every_number_in_every_format_is_masked() -> None:
    missed = []
    for written in CORPUS:
        masked = mask_contacts(written.text, written.region)
        national = written.e164[-10:] if written.region == "US" else written.e164[3:]
        expected = written.text.replace(written.typed, CONTACT_PLACEHOLDER)
        if masked != expected or national[-7:] in _digits(masked):
            missed.append((written.text, masked))
    assert missed == [], f"{len(missed)} of {len(CORPUS)} not masked exactly, e.g. {missed[:5]}"


def test_every_number_in_every_format_reaches_the_gateway_as_its_own_digest() -> None:
    wrong = []
    for written in CORPUS:
        contacts = [
            c for mention in parse_friends(written.text, region=written.region) for c in mention.contacts
        ]
        digests = [digest(normalize_contact(c, written.region) or "", SECRET) for c in contacts]
        if digests != [digest(written.e164, SECRET)]:
            wrong.append((written.text, contacts))
    assert wrong == [], f"{len(wrong)} of {len(CORPUS)} not digested as their number, e.g. {wrong[:5]}"


def _look_alikes(rng: random.Random) -> Iterator[str]:
    """Numbers that are not phone numbers, in the sentences volunteers write."""
    months = ["Jan", "Feb", "March", "Sept", "Dec"]
    for _ in range(40):
        month, day, year = rng.randint(1, 12), rng.randint(1, 28), rng.randint(1950, 2030)
        hour, minute = rng.randint(1, 12), rng.choice([0, 15, 30, 45])
        money = rng.randint(1, 9_999_999)
        zip5, zip4 = f"{rng.randint(501, 99950):05d}", f"{rng.randint(0, 9999):04d}"
        count = rng.randint(2, 999)
        yield f"talked to Maria on {month}/{day}/{year} at {hour}:{minute:02d}"
        yield f"forum is {year}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}, bring {count} friends"
        yield f"she said rent went up ${money:,} since {year}"
        yield f"ask about the ${money:,}.{rng.randint(0, 99):02d} budget, she's in ZIP {zip5}-{zip4}"
        yield f"meet {month}/{day} from {hour}:{minute:02d}-{hour % 12 + 1}:{minute:02d}pm at {rng.randint(1, 9999)} Main St"
        yield f"{count} signatures and {rng.randint(2, 99)} volunteers, {rng.randint(1, 99)}% yes, ZIP {zip5}"
        yield f"class of {year}, {months[month % 5]} {day}, {year}, {year}-{year + 1} season"
        yield f"{day}.{month}.{year} at {hour}pm, score {rng.randint(0, 9)}-{rng.randint(0, 9)}"
        yield f"room {rng.randint(100, 999)}, {count} people, ${rng.randint(1, 99)} a month"


LOOK_ALIKES = list(_look_alikes(random.Random(SEED)))


@pytest.mark.parametrize("region", ["US", "GB"])
def test_dates_times_money_zip_codes_years_and_counts_are_left_alone(region: str) -> None:
    assert len(LOOK_ALIKES) >= 300
    touched = [text for text in LOOK_ALIKES if mask_contacts(text, region) != text]
    assert touched == [], f"{len(touched)} of {len(LOOK_ALIKES)} look-alikes masked, e.g. {touched[:5]}"


def test_look_alikes_give_no_friend_a_contact() -> None:
    given = [text for text in LOOK_ALIKES if any(m.contacts for m in parse_friends(f"Maria {text}"))]
    assert given == []


def _emails(rng: random.Random) -> Iterator[tuple[str, str]]:
    firsts, lasts = ["maria", "dee", "yvonne", "carlos", "ana", "o'brien"], ["lopez", "ng", "smith-jones"]
    domains = ["example.org", "mail.example.co.uk", "gmail.com", "uni-x.edu", "example.travel"]
    forms = [
        "{f}@{d}",
        "{f}.{l}@{d}",
        "{f}_{l}{n}@{d}",
        "{f}+kindred@{d}",
        "{F}.{L}@{D}",
        "{f}{n}@{d}",
    ]
    for index in range(120):
        first, last, d, n = rng.choice(firsts), rng.choice(lasts), rng.choice(domains), rng.randint(1, 99)
        form = forms[index % len(forms)]
        address = form.format(f=first, l=last, d=d, n=n, F=first.capitalize(), L=last.upper(), D=d.upper())
        yield address, address.lower()


EMAIL_SENTENCES = [
    "Maria {e}",
    "Maria <{e}>",
    "Maria mailto:{e}",
    "Maria ({e})",
    "Maria, email {e}.",
    "Maria {e}, coworker",
]


def test_every_email_is_masked_and_reaches_the_gateway_as_its_own_digest() -> None:
    wrong = []
    for index, (typed, address) in enumerate(_emails(random.Random(SEED))):
        text = EMAIL_SENTENCES[index % len(EMAIL_SENTENCES)].format(e=typed)
        contacts = [c for mention in parse_friends(text) for c in mention.contacts]
        masked = mask_contacts(text)
        if "@" in masked or [normalize_contact(c) for c in contacts] != [address]:
            wrong.append((text, masked, contacts))
    assert wrong == []


def test_a_number_and_an_email_together_are_both_found_in_order() -> None:
    text = "Ruth ruth@example.org or 555 / 201 / 7788, Sam %2B44 7700 900123"
    assert [span.value for span in find_contacts(text)] == [
        "ruth@example.org",
        "+15552017788",
        "+447700900123",
    ]
    assert mask_contacts(text) == "Ruth [contact] or [contact], Sam [contact]"
