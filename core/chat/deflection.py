"""The ticket form's offer of articles (a detour, like the duplicate question): after the subject
and again after the description, up to three articles of the knowledge base that match, in the
customer's language and for the chosen department. One opened shows its text with "This solved
it" (the form ends without a ticket: a deflection) and "Continue with my ticket" (on with the
form where it was). An article is offered once per form; a search that finds nothing is kept
for the report ("the questions that found nothing").

The state is `articles` (DEFLECT); its draft keeps the offer under these keys: OFFERED (every
slug offered in this form), OFFER (this offer's), AFTER (the step it follows), OPEN (the article
shown now) and SEEN (those opened, counted once as shown).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.chat import actions as act
from core.chat.articles import article_body, button_title, plain
from core.chat.messages import Choice, Reply
from core.chat.selfservice_keys import slug_fits
from core.i18n import Translator
from core.knowledge import Article
from core.services.articles import ArticleKind, Source
from core.storage.models import Customer

if TYPE_CHECKING:
    from core.chat.intake import Intake

DEFLECT = "articles"
OFFERED, OFFER, AFTER, OPEN, SEEN = "kb_offered", "kb_offer", "kb_after", "kb_open", "kb_seen"
OFFER_SIZE = 3
Data = dict[str, Any]


def locale_of(form: Intake, customer: Customer) -> str:
    return customer.locale or form.config.languages[0]


async def offer(form: Intake, customer: Customer, data: Data, after: str, words: str) -> str | None:
    """DEFLECT when there are articles to offer (kept in `data`), else None."""
    kb, locale = form.services.knowledge, locale_of(form, customer)
    if not words.strip() or not kb.articles(locale):  # no knowledge base in this language: nothing to find
        return None
    offered: list[str] = list(data.get(OFFERED, []))
    found = [a for a in kb.search(words, locale, department=data.get("department"), limit=OFFER_SIZE + len(offered))
             if slug_fits(a.slug)]
    if not found:
        if after == "subject":  # the question: a description is a customer's own story, not one to keep
            await form.services.articles.no_match(words, locale, Source.FORM, customer.id)
        return None
    new = [a.slug for a in found if a.slug not in offered][:OFFER_SIZE]
    if not new:
        return None
    data.update({OFFERED: offered + new, OFFER: new, AFTER: after})
    data.pop(OPEN, None)
    return DEFLECT


def _offered(form: Intake, locale: str, data: Data) -> list[Article]:
    found = (form.services.knowledge.get(slug, locale) for slug in data.get(OFFER, []))
    return [a for a in found if a is not None]


def prompt(form: Intake, t: Translator, data: Data, nav: tuple[Choice, ...]) -> Reply:
    """The offer's list, or the article opened from it."""
    cont = Choice(act.ArticleContinue().encode(), t._("Continue with my ticket"))
    opened = form.services.knowledge.get(data[OPEN], t.locale) if data.get(OPEN) else None
    if opened is not None:
        return Reply(article_body(opened.title, plain(opened)),
                     ((Choice(act.ArticleSolved(opened.slug).encode(), t._("This solved it")),), (cont,), nav),
                     t.locale)
    articles = _offered(form, t.locale, data)
    lines = [t._("These articles may already answer your question:")]
    lines += [t.isolate(f"{t.number(i)}. {a.title}") for i, a in enumerate(articles, 1)]
    rows = tuple((Choice(act.ArticleOpen(a.slug).encode(), button_title(a)),) for a in articles)
    return Reply("\n".join(lines), (*rows, (cont,), nav), t.locale)


async def opened(form: Intake, customer: Customer, t: Translator, data: Data, slug: str) -> bool:
    """An offered article opened: counted once as shown; False when it is not one offered now."""
    if slug not in data.get(OFFER, []) or form.services.knowledge.get(slug, t.locale) is None:
        return False
    data[OPEN] = slug
    seen: list[str] = list(data.get(SEEN, []))
    if slug not in seen:
        data[SEEN] = [*seen, slug]
        await form.services.articles.record(ArticleKind.SHOWN, Source.FORM, t.locale, slug=slug,
                                            customer_id=customer.id)
    return True


async def solved(form: Intake, customer: Customer, t: Translator, slug: str) -> list[Reply]:
    """"This solved it": no ticket; the form goes and nothing reaches the agents."""
    await form.services.articles.record(ArticleKind.DEFLECTED, Source.FORM, t.locale, slug=slug,
                                        customer_id=customer.id)
    await form.drafts.clear(customer.id)
    return [Reply(t._("We are glad the article helped! No ticket was opened. If you need us again, "
                      "simply write to us or send /new."), locale=t.locale)]


def leave(data: Data) -> str:
    """On with the form: the step the offer followed (the offer's own keys go, OFFERED stays)."""
    for key in (OFFER, OPEN):
        data.pop(key, None)
    return str(data.pop(AFTER, "subject"))
