"""What we learned: the interests and the recurring words and phrases in conversation reports,
period by period, and the reports behind each.

Phrases are found by YAKE (an unsupervised keyword extractor that needs no model and no
download, with English and Spanish stop words), run on each language's notes over the whole
range; each phrase is then counted, per period, as the number of reports whose note says it.
Names of the people in the reports are never offered as phrases. The figures are cached in
the process, keyed by the database, the range and the latest report in it, so a page view is a query or
two once they are known."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import yake
from sqlalchemy import func, select

from flows import parse
from flows.language import LANGUAGES
from gateway.extensions import db
from gateway.models import ConversationReport, Friend, Organization, Person

PERIODS = 12
KINDS = ("week", "month")
TOP = 12  # phrases (and interests) shown
CANDIDATES = 40  # phrases YAKE offers per language, before counting
SAMPLE = 1000  # notes per language YAKE reads at most (the newest); every note is counted
MAX_WORDS = 3
_WORD = re.compile(r"[^\W\d_]+")  # letters only: no digits, so no masked numbers either


@dataclass(frozen=True)
class Period:
    starts: datetime
    ends: datetime

    def label(self, kind: str) -> str:
        return f"{self.starts:%b} {self.starts.day}" if kind == "week" else f"{self.starts:%b %Y}"


@dataclass(frozen=True)
class Row:
    """A phrase or an interest, and how many reports said it in each period."""

    name: str
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class Learned:
    kind: str
    periods: tuple[Period, ...]
    phrases: tuple[Row, ...]
    interests: tuple[Row, ...]
    reports: int  # reports with a note, in the whole range


@dataclass
class _Report:
    id: int
    at: datetime
    note: str
    language: str
    interests: frozenset[str]
    names: frozenset[str] = field(default_factory=frozenset)


def periods(kind: str, now: datetime) -> tuple[Period, ...]:
    """The last PERIODS weeks (the last ends now) or calendar months (the last is this one).
    Weeks are counted from the start of the hour, so the figures stay cached for an hour at
    least; the last period takes in everything after its end too."""
    now = now.replace(minute=0, second=0, microsecond=0)
    if kind == "week":
        since = now - timedelta(weeks=PERIODS)
        return tuple(
            Period(since + timedelta(weeks=i), min(now, since + timedelta(weeks=i + 1)))
            for i in range(PERIODS)
        )
    starts = []
    year, month = now.year, now.month
    for _ in range(PERIODS):
        starts.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    starts.reverse()
    ends = [*starts[1:], now]
    return tuple(Period(s, e) for s, e in zip(starts, ends, strict=True))


def normalize(text: str) -> str:
    """A phrase as it is matched: its words, lower-cased, one space apart."""
    return " ".join(_WORD.findall(text.lower()))


def _grams(text: str) -> set[str]:
    words = _WORD.findall(text.lower())
    return {" ".join(words[i : i + n]) for n in range(1, MAX_WORDS + 1) for i in range(len(words) - n + 1)}


_cache: dict[tuple[object, ...], Learned] = {}
_cache_lock = threading.Lock()


def learned(org: Organization, kind: str, now: datetime) -> Learned:
    """The figures for the last PERIODS periods of `kind` (cached; see module)."""
    spans = periods(kind, now)
    since = spans[0].starts
    latest, count = db.session.execute(
        select(func.max(ConversationReport.id), func.count()).where(
            ConversationReport.organization_id == org.id, ConversationReport.reported_at > since
        )
    ).one()
    key = (str(db.engine.url), org.id, kind, since, latest, count)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    result = _compute(kind, spans, list(_reports(org, since)))
    with _cache_lock:
        if len(_cache) > 32:
            _cache.clear()
        _cache[key] = result
    return result


def _reports(org: Organization, since: datetime) -> Iterable[_Report]:
    rows = db.session.execute(
        select(
            ConversationReport.id,
            ConversationReport.reported_at,
            ConversationReport.learned,
            ConversationReport.tags,
            Friend.interests,
            Friend.name,
            Person.name,
            Person.language,
        )
        .join(Friend, Friend.id == ConversationReport.friend_id)
        .join(Person, Person.id == ConversationReport.volunteer_id)
        .where(ConversationReport.organization_id == org.id, ConversationReport.reported_at > since)
        .order_by(ConversationReport.id.desc())
    )
    for report_id, at, note, tags, interests, friend, volunteer, language in rows:
        yield _Report(
            report_id,
            at,
            note or "",
            language if language in LANGUAGES else LANGUAGES[0],
            frozenset(i.lower() for i in (*(tags or ()), *(interests or ())) if i),
            frozenset(normalize(name) for name in (friend, volunteer) if name),
        )


def _compute(kind: str, spans: Sequence[Period], reports: list[_Report]) -> Learned:
    def index(at: datetime) -> int:
        return next((i for i, span in enumerate(spans) if at < span.ends), len(spans) - 1)

    noted = [r for r in reports if r.note.strip()]
    grams = [_grams(r.note) for r in noted]
    names = {word for r in noted for name in r.names for word in name.split()}
    candidates = [
        phrase for phrase in key_phrases(noted) if phrase and not names.intersection(phrase.split())
    ]
    places = [index(r.at) for r in noted]
    phrases = []
    for phrase in candidates:
        counts = [0] * len(spans)
        for where, said in zip(places, grams, strict=True):
            if phrase in said:
                counts[where] += 1
        if sum(counts) >= 2:  # recurring: said in two reports or more
            phrases.append(Row(phrase, tuple(counts)))
    phrases = [  # a word never said but in a longer phrase shown is that phrase: keep the phrase
        row
        for row in phrases
        if not any(
            other.counts == row.counts and other.name != row.name and f" {row.name} " in f" {other.name} "
            for other in phrases
        )
    ]
    phrases.sort(key=lambda row: -row.total)  # stable: YAKE's order among equals
    interest_counts: dict[str, list[int]] = {}
    for report in reports:
        for interest in report.interests:
            interest_counts.setdefault(interest, [0] * len(spans))[index(report.at)] += 1
    interests = sorted(
        (Row(name, tuple(counts)) for name, counts in interest_counts.items()),
        key=lambda r: (-r.total, r.name),
    )
    return Learned(kind, tuple(spans), tuple(phrases[:TOP]), tuple(interests[:TOP]), len(noted))


def key_phrases(reports: Sequence[_Report]) -> list[str]:
    """Candidate phrases (normalized, each once), YAKE's best first, from each language's notes
    with that language's stop words."""
    found: list[tuple[float, str]] = []
    for language in LANGUAGES:
        notes = [r.note.strip().rstrip(".!?") for r in reports if r.language == language][:SAMPLE]
        if not notes:
            continue
        extractor = yake.KeywordExtractor(
            lan=language, n=MAX_WORDS, dedup_lim=0.8, top=CANDIDATES, stopwords=_stop_words(language)
        )
        found += [
            (score, normalize(phrase))
            for phrase, score in extractor.extract_keywords(".\n".join(notes) + ".")
        ]
    seen: dict[str, None] = {}
    for _, phrase in sorted(found):
        seen.setdefault(phrase, None)
    return list(seen)


@lru_cache(maxsize=len(LANGUAGES))
def _stop_words(language: str) -> frozenset[str]:
    """YAKE's stop words for the language, and the words that frame every report ("talked",
    "undecided", "hablé"...), which would otherwise top every period."""
    return frozenset(yake.KeywordExtractor(lan=language).stopword_set) | parse.report_words()


@dataclass(frozen=True)
class Behind:
    """A report behind a phrase or an interest."""

    id: int
    volunteer: str | None
    volunteer_id: int
    friend: str
    outcome: str
    note: str
    at: datetime


def reports_behind(
    org: Organization, kind: str, now: datetime, phrase: str = "", interest: str = "", limit: int = 100
) -> tuple[list[Behind], int]:
    """The reports in the range whose note says `phrase` (or that are about `interest`), the
    newest first, at most `limit`, and how many there are in all."""
    since = periods(kind, now)[0].starts
    phrase, interest = normalize(phrase), interest.strip().lower()
    where = [ConversationReport.organization_id == org.id, ConversationReport.reported_at > since]
    if phrase:
        # The database narrows by each word (case-insensitively); the words in a row, below.
        where += [ConversationReport.learned.ilike(f"%{word}%") for word in phrase.split()]  # letters only
        rows = db.session.execute(select(ConversationReport.id, ConversationReport.learned).where(*where))
        ids = [report_id for report_id, note in rows if phrase in _grams(note or "")]
    elif interest:
        rows = db.session.execute(
            select(ConversationReport.id, ConversationReport.tags, Friend.interests)
            .join(Friend, Friend.id == ConversationReport.friend_id)
            .where(*where)
        )
        ids = [
            report_id
            for report_id, tags, interests in rows
            if interest in {i.lower() for i in (*(tags or ()), *(interests or ())) if i}
        ]
    else:
        return [], 0
    ids.sort(reverse=True)
    rows = db.session.execute(
        select(ConversationReport, Friend.name, Person.name)
        .join(Friend, Friend.id == ConversationReport.friend_id)
        .join(Person, Person.id == ConversationReport.volunteer_id)
        .where(ConversationReport.id.in_(ids[:limit]))
        .order_by(ConversationReport.reported_at.desc(), ConversationReport.id.desc())
    )
    return [
        Behind(r.id, volunteer, r.volunteer_id, friend, r.outcome, r.learned, r.reported_at)
        for r, friend, volunteer in rows
    ], len(ids)
