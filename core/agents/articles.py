"""Agents and the knowledge base: `kb [1042] words` finds articles (in ticket 1042's customer's
language, else the agent's), `kb send 1042 slug` sends one into the ticket's conversation: a
message of the ticket that the desks' threads and the customer's /ticket show, and a
notification to the customer with the article in their language (the deployment's first
language, said honestly, when it has none in theirs) ending with "Was this helpful?"."""

from __future__ import annotations

from core.agents.results import ArticleList, ArticleRow, Done, Refused, Result
from core.chat.articles import article_body, plain
from core.domain.model import MESSAGE_MAX
from core.i18n import LANGUAGE_NAMES, Translator
from core.knowledge import Article
from core.services import Services
from core.storage.models import Customer

FOUND = 5


async def customer_locale(services: Services, number: int) -> str:
    ticket = await services.queries.get(number)
    async with services.db.read() as session:
        customer = await session.get_one(Customer, ticket.customer_id)
    return customer.locale or services.config.languages[0]


async def search(services: Services, t: Translator, words: str, number: int | None, prefix: str) -> ArticleList:
    locale = await customer_locale(services, number) if number is not None else t.locale
    language = LANGUAGE_NAMES.get(locale, locale)
    found = services.knowledge.search(words, locale, limit=FOUND)
    example = f"{prefix}kb send {number if number is not None else 1042} {found[0].slug if found else 'slug'}"
    return ArticleList(
        t._("Articles in {language} for “{words}”:", language=language, words=words),
        tuple(ArticleRow(a.slug, a.title) for a in found), number,
        t._("To send one into a ticket: {example}", example=example),
        t._("No article found for “{words}” in {language}.", words=words, language=language),
        t._("Send"))


def pick(services: Services, slug: str, locale: str) -> Article | None:
    """The article in `locale`, else in the deployment's first language."""
    kb = services.knowledge
    return kb.get(slug, locale) or kb.get(slug, services.config.languages[0])


async def send(services: Services, t: Translator, agent_id: int, number: int, slug: str) -> Result:
    locale = await customer_locale(services, number)
    article = pick(services, slug, locale)
    if article is None:
        return Refused(t._("There is no article “{slug}”.", slug=slug))
    text = plain(article)
    body = article_body(article.title, text)
    if len(body) > MESSAGE_MAX:
        body = body[:MESSAGE_MAX - 1] + "…"
    await services.desk.add_agent_message(agent_id, number, body, article={
        "slug": article.slug, "locale": article.locale, "title": article.title, "text": text,
        "fallback": article.locale != locale})
    return Done(t._("The article “{title}” was sent to the customer of ticket {ticket}.", title=article.title,
                    ticket=t.ticket(number)))
