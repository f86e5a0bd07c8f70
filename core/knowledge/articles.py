"""Articles as the team wrote them, and the search over them.

Public API (used by core.chat, core.agents, core.services, bot): Article (with `plain()` and
`pieces()`), KnowledgeBase.load, KnowledgeBase.of, KnowledgeBase.search, KnowledgeBase.get,
KnowledgeBase.articles, KnowledgeBase.languages. Reading and checking the files is
core.knowledge.files; the search's index is core.knowledge.search.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from core.domain.model import MESSAGE_MAX
from core.knowledge import plain as markdown
from core.knowledge.search import Index

SLUG_MAX = 40  # characters of a slug (its file's name): it travels in buttons' keys, 64 bytes with a ticket number


@dataclass(frozen=True, slots=True)
class Article:
    slug: str  # the file's name without `.md`: the same article in every language
    locale: str  # the folder it is in
    title: str
    body: str  # Markdown, without the front matter
    departments: tuple[str, ...] = ()  # empty: every department
    tags: tuple[str, ...] = ()
    path: Path | None = None

    def plain(self) -> str:
        """The body as plain chat text (headings on lines of their own, «• » items, «text
        (url)» links, no emphasis markers), without the title; it may be longer than a message."""
        return markdown.plain(self.body)

    def pieces(self, limit: int = MESSAGE_MAX) -> list[str]:
        """The title and the plain body, in messages of at most `limit` characters each (cut
        between paragraphs): most articles are one."""
        return markdown.pieces(f"{self.title}\n\n{self.plain()}", limit)

    def for_department(self, department: str | None) -> bool:
        """Whether it is offered to a customer of `department` (None: any)."""
        return department is None or not self.departments or department in self.departments


@dataclass
class KnowledgeBase:
    """The articles, indexed for the search when it is made (`load`, `of`): a list changed
    afterwards is not searched as changed; make another (`KnowledgeBase.of`)."""

    items: list[Article] = field(default_factory=list)
    index: Index = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Built once: the articles are files, read at start.
        self.index = Index((a.locale, a.slug, a.title, a.tags, a.plain(), a.departments) for a in self.items)

    @classmethod
    def load(cls, folder: Path | None) -> KnowledgeBase:
        """Every article under `folder` (none when it is None); ConfigError naming the files
        that cannot be used. core.knowledge.files.load also checks departments."""
        from core.knowledge.files import load

        return load(folder)[0]

    @classmethod
    def of(cls, articles: Iterable[Article]) -> KnowledgeBase:
        return cls(list(articles))

    def languages(self) -> set[str]:
        return {a.locale for a in self.items}

    def articles(self, locale: str | None = None) -> list[Article]:
        return [a for a in self.items if locale is None or a.locale == locale]

    def get(self, slug: str, locale: str) -> Article | None:
        return next((a for a in self.items if a.slug == slug and a.locale == locale), None)

    def search(self, words: str, locale: str, *, department: str | None = None, limit: int = 3) -> list[Article]:
        """The articles in `locale` that best answer `words`, best first; at most `limit`. An
        article with departments is found only for those (`department` None: any); words with
        nothing searchable in them (only function words, punctuation) find nothing."""
        if not self.items:
            return []
        return [self.items[n] for n in self.index.search(words, locale, department, limit)]
