"""The knowledge base outside the ticket form: `/help <words>` searches the articles in the
customer's language and offers up to three; an article opened from there (or sent by an agent,
core.chat.notices) ends with "Was this helpful?". Yes is thanked; No asks for an optional
comment in one message (the state `article_comment`, with a "No comment" button, keeping an
unfinished form to come back to). One verdict counts per article shown
(core.services.articles).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.chat import actions as act
from core.chat.articles import article_body, button_title, plain, with_feedback
from core.chat.drafts import DraftState
from core.chat.messages import Choice, Reply, clip
from core.chat.selfservice_keys import slug_fits
from core.i18n import Translator
from core.services import Services
from core.services.articles import WORDS_MAX, ArticleKind, Source
from core.storage.models import Customer

if TYPE_CHECKING:
    from core.chat.flows import Flows

ARTICLE_COMMENT = "article_comment"
FOUND = 3


class SelfHelp:
    def __init__(self, services: Services, flows: Flows) -> None:
        self.services = services
        self.flows = flows

    async def search(self, customer: Customer, t: Translator, words: str) -> list[Reply]:
        words = clip(" ".join(words.split()), WORDS_MAX)
        kb = self.services.knowledge
        found = [a for a in kb.search(words, t.locale, limit=FOUND) if slug_fits(a.slug)]
        new_ticket = (Choice(act.NewTicket().encode(), t._("Open a new ticket")),)
        if not found:
            if kb.articles(t.locale):  # a question the articles do not answer yet: for the report
                await self.services.articles.no_match(words, t.locale, Source.HELP, customer.id)
            return [Reply(t._("I found no article about “{words}”. Our team will gladly answer you in a ticket.",
                              words=words), (new_ticket,), t.locale)]
        lines = [t._("These articles may help:")]
        lines += [t.isolate(f"{t.number(i)}. {a.title}") for i, a in enumerate(found, 1)]
        rows = tuple((Choice(act.ArticleOpen(a.slug, offered=False).encode(), button_title(a)),) for a in found)
        return [Reply("\n".join(lines), (*rows, new_ticket), t.locale)]

    async def read(self, customer: Customer, t: Translator, slug: str) -> list[Reply]:
        article = self.services.knowledge.get(slug, t.locale)
        if article is None:
            return [Reply(t._("This article is no longer available."), locale=t.locale)]
        await self.services.articles.record(ArticleKind.SHOWN, Source.HELP, t.locale, slug=slug,
                                            customer_id=customer.id)
        return [with_feedback(t, article_body(article.title, plain(article)), t.locale, slug)]

    async def feedback(self, customer: Customer, t: Translator, draft: DraftState | None,
                       action: act.ArticleHelpful) -> list[Reply]:
        event = await self.services.articles.feedback(customer.id, action.slug, action.locale,
                                                      helpful=action.helpful)
        if event is None:
            return [Reply(t._("You have already told us about this article. Thank you!"), locale=t.locale)]
        if not event:  # never shown to them: a key of ours, not a button they were given
            return [Reply(t._("This button is no longer active."), locale=t.locale)]
        if action.helpful:
            return [Reply(t._("Thank you! We are glad it helped."), locale=t.locale)]
        await self.flows.interrupt(customer, draft, ARTICLE_COMMENT, {"event": event})
        return [self.comment_prompt(t)]

    def comment_prompt(self, t: Translator) -> Reply:
        return Reply(t._("Thank you for telling us. If you like, write in one message what was missing: "
                         "it helps us improve the article."),
                     ((Choice(act.ArticleNoComment().encode(), t._("No comment")),),), t.locale, expects_text=True)

    async def comment(self, customer: Customer, t: Translator, data: dict[str, Any], text: str) -> list[Reply]:
        await self.services.articles.comment(customer.id, int(data["event"]), text)
        return [Reply(t._("Thank you for your feedback."), locale=t.locale), *await self._resume(customer, t, data)]

    async def no_comment(self, customer: Customer, t: Translator, data: dict[str, Any]) -> list[Reply]:
        return [Reply(t._("Thank you!"), locale=t.locale), *await self._resume(customer, t, data)]

    async def _resume(self, customer: Customer, t: Translator, data: dict[str, Any]) -> list[Reply]:
        """An unfinished form interrupted by the question comes back, asking where it was."""
        await self.flows.resume(customer, data)
        again = await self.flows.current_prompt(customer, t) if data.get("resume") else None
        return [again] if again is not None else []
