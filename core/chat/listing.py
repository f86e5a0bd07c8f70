"""`/tickets` and `/ticket 1042`: a customer's tickets, and one ticket with the buttons of what
they may do with it.

A customer whose organisation lets them see their colleagues' tickets (core.domain.access)
lists the organisation's, with who opened each, filtered by status (all, open, resolved and
closed) and by creator: their own ("Mine"), everyone's, or one colleague's ("By person"). A
colleague's ticket is shown with who opened it, and only the buttons their organisation allows.
"""

from __future__ import annotations

from core.chat import actions as act
from core.chat import quotes
from core.chat.messages import Choice, Reply
from core.chat.views import status_name, ticket_actions, ticket_detail, ticket_line
from core.domain.access import Deed
from core.domain.clock import Clock
from core.domain.config import HelpdeskConfig
from core.domain.model import TicketFilter
from core.i18n import Translator
from core.services import Services
from core.services.queries import Listed
from core.storage.models import Customer, Ticket

Rows = list[tuple[Choice, ...]]


class Listing:
    def __init__(self, services: Services, config: HelpdeskConfig, clock: Clock) -> None:
        self.services = services
        self.config = config
        self.clock = clock

    async def tickets(self, customer: Customer, t: Translator, view: TicketFilter,
                      by: act.Creator = None) -> list[Reply]:
        """The list: the organisation's (by `by`) where it is shared with the customer, else their own."""
        queries = self.services.queries
        if by != act.MINE:
            creator = by if isinstance(by, int) else None
            listed = await queries.organisation_tickets(customer.id, view, creator=creator, limit=20)
            if listed is not None:
                return [self._shared(t, view, by if by is not None else act.EVERYONE, listed)]
        own = await queries.list_for_customer(customer.id, view, limit=20)
        shared = by is not None and await queries.sees_colleagues(customer.id)
        return [self._own(t, view, own, act.MINE if shared else None)]

    def _own(self, t: Translator, view: TicketFilter, tickets: list[Ticket], by: act.Creator) -> Reply:
        titles = {
            TicketFilter.ALL: t._("Your tickets:"),
            TicketFilter.OPEN: t._("Your open tickets:"),
            TicketFilter.DONE: t._("Your resolved and closed tickets:"),
        }
        if tickets:
            text = "\n".join([titles[view], *(ticket_line(t, x) for x in tickets)])
        else:
            text = t._("You have no tickets here yet.")
        rows: Rows = [self._button(t, x) for x in tickets[:10]]
        rows += self._filters(t, view, by)
        return Reply(text, tuple(rows), t.locale)

    def _shared(self, t: Translator, view: TicketFilter, by: act.Creator, listed: list[Listed]) -> Reply:
        if isinstance(by, int):
            name = next((x.opened_by for x in listed), "") or t._("a colleague")
            title = {
                TicketFilter.ALL: t._("Tickets opened by {name}:", name=name),
                TicketFilter.OPEN: t._("Open tickets opened by {name}:", name=name),
                TicketFilter.DONE: t._("Resolved and closed tickets opened by {name}:", name=name),
            }[view]
        else:
            title = {
                TicketFilter.ALL: t._("Your organisation's tickets:"),
                TicketFilter.OPEN: t._("Your organisation's open tickets:"),
                TicketFilter.DONE: t._("Your organisation's resolved and closed tickets:"),
            }[view]
        if listed:
            lines = [t.isolate(f"{t.ticket(x.ticket.number)} · {x.ticket.subject} · "
                               f"{status_name(t, x.ticket.status)} · {self._who(t, x)}") for x in listed]
            text = "\n".join([title, *lines])
        else:
            text = t._("There are no tickets to show here.")
        rows: Rows = [self._button(t, x.ticket) for x in listed[:10]]
        rows += self._filters(t, view, by)
        return Reply(text, tuple(rows), t.locale)

    @staticmethod
    def _who(t: Translator, listed: Listed) -> str:
        return t._("you") if listed.mine else (listed.opened_by or t._("a colleague"))

    @staticmethod
    def _button(t: Translator, ticket: Ticket) -> tuple[Choice, ...]:
        return (Choice(act.ShowTicket(ticket.number).encode(), t.ticket(ticket.number) + " " + ticket.subject[:40]),)

    @staticmethod
    def _filters(t: Translator, view: TicketFilter, by: act.Creator) -> Rows:
        """The status filters (keeping the creator), the creator filters where the organisation's
        tickets are shared (`by` not None), a new ticket."""
        rows: Rows = [(Choice(act.ListTickets(TicketFilter.ALL, by).encode(), t._("All")),
                       Choice(act.ListTickets(TicketFilter.OPEN, by).encode(), t._("Open")),
                       Choice(act.ListTickets(TicketFilter.DONE, by).encode(), t._("Resolved and closed")))]
        if by is not None:
            rows.append((Choice(act.ListTickets(view, act.MINE).encode(), t._("Mine")),
                         Choice(act.ListTickets(view, act.EVERYONE).encode(), t._("Everyone's")),
                         Choice(act.ListCreators(view).encode(), t._("By person"))))
        rows.append((Choice(act.NewTicket().encode(), t._("Open a new ticket")),))
        return rows

    async def creators(self, customer: Customer, t: Translator, view: TicketFilter) -> list[Reply]:
        """"By person": the colleagues who have tickets, one button each."""
        people = await self.services.queries.colleagues(customer.id)
        if people is None:
            return await self.tickets(customer, t, view)
        if not people:
            text = t._("None of your colleagues has a ticket here yet.")
        else:
            text = t._("Whose tickets do you want to see?")
        rows: Rows = [(Choice(act.ListTickets(view, p.id).encode(),
                              t.isolate(f"{p.name or t._('a colleague')} ({t.number(p.tickets)})")),)
                      for p in people[:20]]
        rows.append((Choice(act.ListTickets(view, act.MINE).encode(), t._("Mine")),
                     Choice(act.ListTickets(view, act.EVERYONE).encode(), t._("Everyone's"))))
        return [Reply(text, tuple(rows), t.locale)]

    async def show(self, customer: Customer, t: Translator, number: int) -> list[Reply]:
        seen = await self.services.queries.seen(customer.id, number)
        ticket = seen.ticket
        thread = await self.services.queries.thread(ticket.id)
        files = await self.services.queries.attachments(ticket.id)
        text = ticket_detail(t, self.config, customer, ticket, thread, len(files), opened_by=seen.opened_by,
                             authors=seen.authors)
        if Deed.WRITE not in seen.deeds:
            text += "\n\n" + t._("You can read this ticket of your colleague's; only they can write to it or "
                                 "change it.")
        line, answers = quotes.shown(t, await self.services.quotes.latest(number), Deed.APPROVE in seen.deeds)
        text += f"\n\n{line}" if line else ""
        return [Reply(text, answers + ticket_actions(t, self.config, ticket, self.clock(), seen.deeds), t.locale)]
