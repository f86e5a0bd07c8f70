"""Typed keys of the buttons around help articles (core.chat.deflection, core.chat.selfhelp:
open, solved, continue, helpful, no comment) and around a proven address (core.chat.membership:
send a code, another address, forget it). Part of core.chat.actions, which decodes every key
(`kb:` ones here) and names these with the others."""

from __future__ import annotations

from dataclasses import dataclass

from core.knowledge.articles import SLUG_MAX

_SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz_0123456789-")


def slug_fits(slug: str) -> bool:
    """Whether a slug can go in a key (lower-case ASCII, digits, - and _); others are not offered."""
    return 0 < len(slug) <= SLUG_MAX and _SLUG_CHARS.issuperset(slug)

@dataclass(frozen=True, slots=True)
class ArticleOpen:
    slug: str
    offered: bool = True  # by the form; False: found with /help

    def encode(self) -> str:
        return f"kb:{'open' if self.offered else 'read'}:{self.slug}"


@dataclass(frozen=True, slots=True)
class ArticleSolved:
    slug: str

    def encode(self) -> str:
        return f"kb:solved:{self.slug}"


@dataclass(frozen=True, slots=True)
class ArticleContinue:
    def encode(self) -> str:
        return "kb:continue"


@dataclass(frozen=True, slots=True)
class ArticleHelpful:
    locale: str
    slug: str
    helpful: bool

    def encode(self) -> str:
        return f"kb:{'yes' if self.helpful else 'no'}:{self.locale}:{self.slug}"


@dataclass(frozen=True, slots=True)
class ArticleNoComment:
    def encode(self) -> str:
        return "kb:nocomment"


ArticleKey = ArticleOpen | ArticleSolved | ArticleContinue | ArticleHelpful | ArticleNoComment


def article_key(value: str) -> ArticleKey | None:
    """The article action of a `kb:` key's value; None for one that is none of ours."""
    what, _, rest = value.partition(":")
    locale, _, slug = rest.partition(":") if what in ("yes", "no") else ("en", "", rest)
    if not (slug_fits(slug) and locale.isascii() and locale.isalpha()):
        return None
    if what in ("yes", "no"):
        return ArticleHelpful(locale, slug, what == "yes")
    made: dict[str, ArticleKey] = {"open": ArticleOpen(slug), "read": ArticleOpen(slug, False),
                               "solved": ArticleSolved(slug)}
    return made.get(what)


# /organisation


@dataclass(frozen=True, slots=True)
class SendCode:
    """/organisation: send a new code to the address waiting for one."""

    def encode(self) -> str:
        return "org:code"


@dataclass(frozen=True, slots=True)
class OtherAddress:
    """/organisation: prove another address than the one proven."""

    def encode(self) -> str:
        return "org:other"


@dataclass(frozen=True, slots=True)
class ForgetAddress:
    """/organisation: unlink the proven address (and the organisation with it)."""

    def encode(self) -> str:
        return "org:forget"


# quotes for paid work


@dataclass(frozen=True, slots=True)
class QuoteAnswer:
    """Approve or decline quote `quote` of ticket `number` (a newer quote makes it stale)."""

    number: int
    quote: int
    approve: bool

    def encode(self) -> str:
        return f"quote:{'yes' if self.approve else 'no'}:{self.number}:{self.quote}"


def quote_key(value: str) -> QuoteAnswer | None:
    """The answer of a `quote:` key's value; None for one that is none of ours."""
    what, _, rest = value.partition(":")
    number, _, quote = rest.partition(":")
    if what not in ("yes", "no") or not (number.isascii() and number.isdigit() and 0 < len(number) <= 12
                                         and quote.isascii() and quote.isdigit() and 0 < len(quote) <= 12):
        return None
    return QuoteAnswer(int(number), int(quote), what == "yes")
