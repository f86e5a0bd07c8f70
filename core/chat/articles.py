"""How a knowledge-base article reads in the chat: its text, and "Was this helpful?" under it.

Shared by the form's offer (core.chat.deflection), /help (core.chat.selfhelp) and the article an
agent sends (core.chat.notices renders it from the notification's parameters).
"""

from __future__ import annotations

from core.chat import actions as act
from core.chat.messages import Choice, Reply, clip
from core.i18n import Translator
from core.knowledge import Article

TEXT_MAX = 3500  # characters of an article's text in one chat message
TITLE_MAX = 60  # characters of a title on a button



def plain(article: Article) -> str:
    """The article's body as readable chat text (the knowledge base's rendering)."""
    return article.plain()


def button_title(article: Article) -> str:
    return clip(article.title, TITLE_MAX)


def article_body(title: str, text: str) -> str:
    return f"{title}\n\n{clip(text, TEXT_MAX)}" if text else title


def helpful_row(t: Translator, locale: str, slug: str) -> tuple[Choice, ...]:
    """Yes / No under an article shown outside the form, for the article in `locale`."""
    return (Choice(act.ArticleHelpful(locale, slug, True).encode(), t._("Yes, it helped")),
            Choice(act.ArticleHelpful(locale, slug, False).encode(), t._("No")))


def with_feedback(t: Translator, text: str, locale: str, slug: str, *, ticket: int | None = None) -> Reply:
    """An article's text ending with "Was this helpful?" and its buttons."""
    question = t._("Was this helpful?")
    return Reply(f"{text}\n\n{question}", (helpful_row(t, locale, slug),), t.locale, ticket=ticket)
