"""Articles as the team wrote them, and the search over them.

Public API (used by core.chat, core.agents, core.services, bot): Article, KnowledgeBase.load,
KnowledgeBase.search, KnowledgeBase.get, KnowledgeBase.articles, KnowledgeBase.languages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from core.domain.textnorm import for_matching


@dataclass(frozen=True, slots=True)
class Article:
    slug: str  # the file's name without `.md`: the same article in every language
    locale: str  # the folder it is in
    title: str
    body: str  # Markdown, without the front matter
    departments: tuple[str, ...] = ()  # empty: every department
    tags: tuple[str, ...] = ()
    path: Path | None = None


@dataclass
class KnowledgeBase:
    items: list[Article] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path | None) -> KnowledgeBase:
        """Every article under `folder` (none when it is None)."""
        if folder is None:
            return cls()
        found = []
        for path in sorted(folder.glob("*/*.md")):
            text = path.read_text(encoding="utf-8")
            title = text.strip().splitlines()[0].lstrip("# ").strip() if text.strip() else path.stem
            found.append(Article(path.stem, path.parent.name, title, text, path=path))
        return cls(found)

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
        """The articles in `locale` that best answer `words`, best first; at most `limit`."""
        wanted = set(for_matching(words).split())
        scored = []
        for a in self.articles(locale):
            if department is not None and a.departments and department not in a.departments:
                continue
            score = len(wanted & set(for_matching(a.title + " " + a.body).split()))
            if score:
                scored.append((-score, a.slug, a))
        return [a for _, _, a in sorted(scored)[:limit]]
