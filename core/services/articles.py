"""What happened to the knowledge base's articles, for the report: an article shown (offered in
the form and opened, opened from /help, sent by an agent), a ticket not opened because of one
(deflected), the customer's verdict (helpful, not helpful, with an optional comment), and the
searches that found nothing (what to write next).

One feedback per customer per article shown: a verdict counts when it is the first since that
customer was last shown the article; pressing Yes (or No) again, or the other one afterwards,
changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update

from core.domain.clock import Clock
from core.domain.textnorm import for_matching
from core.storage.db import Database
from core.storage.models import ArticleEvent

COMMENT_MAX = 1000
WORDS_MAX = 300  # the words of a search that found nothing, as kept
TOP_QUESTIONS = 10


class ArticleKind(StrEnum):
    SHOWN = "shown"
    DEFLECTED = "deflected"
    HELPFUL = "helpful"
    NOT_HELPFUL = "not_helpful"
    NO_MATCH = "no_match"


class Source(StrEnum):
    FORM = "form"  # offered by the ticket form
    HELP = "help"  # found with /help <words>
    AGENT = "agent"  # sent by an agent into a ticket


@dataclass
class ArticleFigures:
    """A period's figures: totals, and per article (slug) its counts."""

    deflections: int = 0
    shown: int = 0
    per_article: dict[str, Counter[str]] = field(default_factory=dict)  # slug -> kind -> count
    unanswered: list[tuple[str, int]] = field(default_factory=list)  # (normalized words, count), most first

    @property
    def empty(self) -> bool:
        return not (self.deflections or self.shown or self.per_article or self.unanswered)


class ArticleService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def record(self, kind: ArticleKind, source: Source, locale: str, *, slug: str | None = None,
                     customer_id: int | None = None, ticket_id: int | None = None, text: str = "") -> int:
        """One event; its id."""
        async with self.db.write(savepoint=False) as session:  # one insert, nothing that raises
            row = ArticleEvent(kind=kind.value, slug=slug, locale=locale[:8], customer_id=customer_id,
                               ticket_id=ticket_id, source=source.value, text=text[:WORDS_MAX], at=self.clock())
            session.add(row)
            await session.flush()
            return row.id

    async def no_match(self, words: str, locale: str, source: Source, customer_id: int | None = None) -> None:
        await self.record(ArticleKind.NO_MATCH, source, locale, customer_id=customer_id,
                          text=" ".join(words.split())[:WORDS_MAX])

    async def feedback(self, customer_id: int, slug: str, locale: str, *, helpful: bool) -> int | None:
        """The customer's verdict on the article they were last shown (recorded with where it was
        shown: /help, or an agent); its event's id, None when they gave one already since then
        (it is not counted twice), 0 when they were never shown it (a forged key)."""
        e = ArticleEvent
        async with self.db.write() as session:
            mine = (e.customer_id == customer_id) & (e.slug == slug)
            last = (await session.execute(select(e.id, e.source).where(mine, e.kind == ArticleKind.SHOWN.value)
                                          .order_by(e.id.desc()).limit(1))).first()
            if last is None:
                return 0
            since, source = last
            verdicts = [ArticleKind.HELPFUL.value, ArticleKind.NOT_HELPFUL.value]
            given = (await session.execute(select(func.count()).where(
                mine, e.id > since, e.kind.in_(verdicts)))).scalar_one()
            if given:
                return None
            row = ArticleEvent(kind=(ArticleKind.HELPFUL if helpful else ArticleKind.NOT_HELPFUL).value,
                               slug=slug, locale=locale[:8], customer_id=customer_id, source=source,
                               text="", at=self.clock())
            session.add(row)
            await session.flush()
            return row.id

    async def comment(self, customer_id: int, event_id: int, text: str) -> None:
        """The comment after "not helpful", kept with the customer's own verdict."""
        async with self.db.write(savepoint=False) as session:
            await session.execute(update(ArticleEvent).where(
                ArticleEvent.id == event_id, ArticleEvent.customer_id == customer_id).values(
                text=" ".join(text.split())[:COMMENT_MAX]))

    async def figures(self, start: datetime, end: datetime, *, top: int = TOP_QUESTIONS) -> ArticleFigures:
        return await article_figures(self.db, start, end, top=top)


async def article_figures(db: Database, start: datetime, end: datetime, *, top: int = TOP_QUESTIONS) -> ArticleFigures:
    """The period's figures (the report's knowledge-base section)."""
    e = ArticleEvent
    async with db.read() as session:
        counted = (await session.execute(
            select(e.kind, e.slug, func.count()).where(e.at >= start, e.at < end, e.kind != ArticleKind.NO_MATCH)
            .group_by(e.kind, e.slug))).all()
        asked = (await session.execute(select(e.text).where(
            e.at >= start, e.at < end, e.kind == ArticleKind.NO_MATCH.value))).scalars().all()
    return tally(counted, asked, top)


def tally(counted: Sequence[Any], asked: Sequence[str], top: int) -> ArticleFigures:
    figures = ArticleFigures()
    for kind, slug, n in counted:
        if kind == ArticleKind.DEFLECTED:
            figures.deflections += int(n)
        if kind == ArticleKind.SHOWN:
            figures.shown += int(n)
        if slug:
            figures.per_article.setdefault(slug, Counter())[kind] += int(n)
    questions = Counter(q for q in (question_key(text) for text in asked) if q)
    figures.unanswered = sorted(questions.items(), key=lambda item: (-item[1], item[0]))[:top]
    return figures


def question_key(words: str) -> str:
    """A question as counted: normalized digits and letters, case-folded, without punctuation."""
    kept = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in for_matching(words))
    return " ".join(kept.split())
