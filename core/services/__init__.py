"""The application services: every change of a ticket, one transaction each, with its news.

`Services` bundles them for the layers above: the customers' chat (core.chat), the agents'
desks (core.agents), the timers and the command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.delivery.outbox import DeskRoutes
from core.domain.clock import Clock, utcnow
from core.domain.config import HelpdeskConfig
from core.knowledge import KnowledgeBase
from core.services.articles import ArticleService
from core.services.customers import CustomerService
from core.services.desk import DeskService
from core.services.news import News
from core.services.organisations import OrganisationService
from core.services.queries import QueryService
from core.services.quotes import QuoteService
from core.services.steps import Steps
from core.services.tickets import TicketService
from core.services.verification import VerificationService
from core.storage.db import Database


@dataclass(frozen=True, slots=True)
class Services:
    db: Database
    config: HelpdeskConfig
    clock: Clock
    customers: CustomerService
    tickets: TicketService
    desk: DeskService
    queries: QueryService
    news: News  # where every service's news goes
    steps: Steps  # the lifecycle's steps the services share (the timers too)
    knowledge: KnowledgeBase  # the articles offered before a ticket and sent by agents
    articles: ArticleService  # what happened to them: shown, deflected, helpful, not found
    organisations: OrganisationService
    verification: VerificationService  # proving an address by a code sent to it
    quotes: QuoteService  # quotes for paid work, approved by the customer

    @classmethod
    def build(cls, db: Database, config: HelpdeskConfig, clock: Clock = utcnow, *,
              desks: Mapping[str, str | None] | None = None, knowledge: KnowledgeBase | None = None,
              mail_channel: str | None = None) -> Services:
        """`desks`: the connected agents' desks (channel name -> the chat for departments that
        name none of their own); every change of a ticket is news for each desk that shows it.
        `mail_channel`: the channel that sends mail to any address (codes go through it), if any."""
        news = News(DeskRoutes(config, desks or {}))
        steps = Steps(config, news)
        return cls(db, config, clock, CustomerService(db, clock, news), TicketService(db, config, clock, steps),
                   DeskService(db, config, clock, steps), QueryService(db, config), news, steps,
                   knowledge if knowledge is not None else KnowledgeBase(), ArticleService(db, clock),
                   OrganisationService(db, clock), VerificationService(db, clock, mail_channel),
                   QuoteService(db, config, clock, steps))
