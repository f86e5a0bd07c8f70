"""A stray message: written outside any step and added to the customer's only open ticket. The
customer is told where it went, with Undo and Move for a short while (UNDO_WINDOW).

The buttons carry the message's id and the window runs from the message's own time in the
ticket, so nothing is kept between the press and the message: a press after a restart, or
handled by another process, finds everything in the database.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from core.chat import actions as act
from core.chat import form as steps
from core.chat.drafts import DraftState
from core.chat.intake import Intake
from core.chat.messages import Choice, Reply
from core.domain.clock import Clock
from core.domain.errors import UndoWindowPassed
from core.domain.model import TicketFilter
from core.i18n import Translator
from core.services import Services
from core.storage.models import Customer, Ticket

UNDO_WINDOW = timedelta(minutes=1)


def added_notice(t: Translator, ticket: Ticket) -> Reply:
    """Where a stray message went, with the buttons that take it back or move it."""
    message = ticket.added_message
    text = "\n".join([
        t._("Your message was added to ticket {ticket}: {subject}",
            ticket=t.ticket(ticket.number), subject=ticket.subject),
        t._("Not the right ticket? Within a minute you can undo this or move the message."),
    ])
    return Reply(text, ((Choice(act.UndoAdded(message).encode(), t._("Undo")),
                         Choice(act.MoveAdded(message).encode(), t._("Move to another ticket"))),), t.locale)


class Strays:
    def __init__(self, services: Services, intake: Intake, clock: Clock) -> None:
        self.services = services
        self.intake = intake
        self.clock = clock

    async def on_action(
        self, customer: Customer, t: Translator, draft: DraftState | None, action: act.Action
    ) -> list[Reply] | None:
        """Undo, Move and Move's answers; None when the message is not there to take back."""
        match action:
            case act.UndoAdded(message=message):
                taken = await self.services.tickets.take_back_message(customer.id, message, UNDO_WINDOW)
                if taken is None:
                    return None
                said = [t._("Done: your message has been taken out of ticket {ticket}.", ticket=t.ticket(taken.number))]
                if taken.status_kept:  # an agent may have acted on it already: the ticket is not put back
                    said.append(t._("The ticket stays in progress."))
                return [Reply("\n".join(said), locale=t.locale)]
            case act.MoveAdded(message=message):
                return await self._ask_where(customer, t, message)
            case act.MoveAddedTo(message=message, number=None):
                return await self._to_new(customer, t, draft, message)
            case act.MoveAddedTo(message=message, number=int(number)):
                taken = await self.services.tickets.take_back_message(customer.id, message, UNDO_WINDOW, to=number)
                if taken is None or taken.moved_to is None:
                    return None
                return [Reply(t._("Done: your message has been moved from ticket {old} to ticket {new}: {subject}",
                                  old=t.ticket(taken.number), new=t.ticket(number), subject=taken.moved_to.subject),
                              locale=t.locale)]
        return None

    async def _ask_where(self, customer: Customer, t: Translator, message: int) -> list[Reply] | None:
        found = await self.services.queries.customer_message(customer.id, message)
        if found is None:
            return None
        ticket, msg = found
        if self.clock() - msg.created_at > UNDO_WINDOW:  # said now, not after the customer chose
            raise UndoWindowPassed(ticket.number)
        others = [x for x in await self.services.queries.list_for_customer(customer.id, TicketFilter.OPEN)
                  if x.id != ticket.id]
        rows: list[tuple[Choice, ...]] = [
            (Choice(act.MoveAddedTo(message, x.number).encode(), f"{t.ticket(x.number)} {x.subject[:40]}"),)
            for x in others[:10]]
        rows.append((Choice(act.MoveAddedTo(message, None).encode(), t._("Open a new ticket")),))
        return [Reply(t._("Move the message from ticket {ticket} to:", ticket=t.ticket(ticket.number)),
                      tuple(rows), t.locale)]

    async def _to_new(
        self, customer: Customer, t: Translator, draft: DraftState | None, message: int
    ) -> list[Reply] | None:
        """The message starts the form of a new ticket as its description; it stays in its ticket
        until the new one is submitted (steps.MOVING), so a cancelled form loses nothing."""
        if draft is not None and draft.state in steps.STATES:
            return [Reply(t._("Please first finish or cancel the ticket you have started."), locale=t.locale),
                    self.intake.prompt(t, draft.state, draft.data)]
        found = await self.services.queries.customer_message(customer.id, message)
        if found is None:
            return None
        ticket, msg = found
        if self.clock() - msg.created_at > UNDO_WINDOW:
            raise UndoWindowPassed(ticket.number)
        files = await self.services.queries.message_files(msg.id)
        form: dict[str, object] = {steps.MOVING: msg.id, steps.MOVING_FROM: ticket.number}
        if msg.body.strip():
            form["description"] = msg.body.strip()
        if files:
            form["attachments"] = [asdict(f) for f in files]
        said = Reply(t._("Your message will be the description of the new ticket: it stays in ticket {ticket} "
                         "until you send the new one.", ticket=t.ticket(ticket.number)), locale=t.locale)
        return [said, *await self.intake.start(customer, t, form)]
