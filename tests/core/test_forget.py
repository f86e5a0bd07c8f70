"""Forgetting a customer: what identifies them goes in one transaction, anonymous statistics stay."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

import core.services.forget
from core.chat.drafts import DraftStore
from core.chat.messages import Reply
from core.domain.config import HelpdeskConfig
from core.domain.model import NewAttachment
from core.services import Services
from core.services.forget import ERASED, find_customer, forget_customer
from core.storage.db import Database
from core.storage.models import (
    Attachment,
    Customer,
    Draft,
    InboundEvent,
    OrganisationMember,
    OutboxMessage,
    Rating,
    StatusChange,
    Ticket,
    TicketMessage,
    Verification,
)
from tests.conftest import FakeClock


def _file(tmp_path: Path, name: str) -> NewAttachment:
    path = tmp_path / "files" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(name.encode())
    return NewAttachment(name, "text/plain", path.stat().st_size, name.encode().hex().ljust(64, "0")[:64], str(path))


async def _setting(db: Database, config: HelpdeskConfig, clock: FakeClock, tmp_path: Path) -> dict[str, object]:
    """Jana (to forget) and Petr (to keep), each with a ticket, messages, files and notifications."""
    service = Services.build(db, config, clock, desks={"board": "C1"})
    jana = await service.customers.customer("telegram", "42", "42", "Jana Nováková", "cs")
    petr = await service.customers.customer("telegram", "43", "43", "Petr Novák", "cs")
    await service.customers.set_timezone(jana.id, "Europe/Berlin")  # where she lives, roughly: hers too
    agent = await service.desk.agent("slack", "U1", "Eva")
    shared, own = _file(tmp_path, "shared.txt"), _file(tmp_path, "jana.txt")
    mine = await service.tickets.open_ticket(jana.id, department="technical", request_type="bug",
                                             subject="Jana's login", description="My phone is +420 777 123 456.",
                                             attachments=[shared, own])
    theirs = await service.tickets.open_ticket(petr.id, department="technical", request_type="bug",
                                               subject="Petr's login", description="Petr's text.", attachments=[shared])
    await service.desk.add_agent_message(agent.id, mine.number, "Hello Jana, which browser?")
    await service.tickets.add_customer_message(jana.id, mine.number, "Firefox, Jana")
    await service.desk.add_agent_message(agent.id, theirs.number, "Hello Petr")
    await DraftStore(db, clock).put(jana.id, "subject", {"subject": "half-written"})
    await DraftStore(db, clock).put(petr.id, "subject", {"subject": "Petr's draft"})
    async with db.write() as session:
        session.add(Rating(ticket_id=mine.id, agent_id=agent.id, score=4, comment="Thanks, Jana", rated_at=clock()))
        session.add(InboundEvent(platform="telegram", event_id="1", state="done", at=clock(),
                                 replies=[{"text": "Your ticket, Jana"}]))
        session.add(InboundEvent(platform="telegram", event_id="2", state="replying", at=clock(),
                                 replies=[{"text": "not sent yet"}]))
        session.add(OutboxMessage(idempotency_key="desk-rated", platform="desk:board", chat_id="C1", ticket_id=mine.id,
                                  event="rated", params={"score": 4, "comment": "Thanks, Jana"}, status="pending",
                                  attempts=0, next_attempt_at=clock(), created_at=clock()))
    return {"jana": jana, "petr": petr, "mine": mine, "theirs": theirs, "shared": shared, "own": own}


async def _count(db: Database, model: type, *where: object) -> int:
    async with db.read() as session:
        return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())


async def test_forget_erases_the_customer_and_keeps_statistics(
    db: Database, config: HelpdeskConfig, clock: FakeClock, tmp_path: Path
) -> None:
    s = await _setting(db, config, clock, tmp_path)
    jana, petr, mine, theirs = s["jana"], s["petr"], s["mine"], s["theirs"]
    assert await _count(db, OutboxMessage, OutboxMessage.customer_id == jana.id) > 0
    history_before = await _count(db, StatusChange)

    done = await forget_customer(db, "telegram", "42")

    assert done is not None
    assert (done.tickets, done.messages, done.attachments, done.files, done.ratings, done.drafts) == (1, 2, 2, 1, 1, 1)
    assert done.notifications_deleted > 0 and done.notifications_cleared == 1 and done.inbound_replies_cleared == 1
    async with db.read() as session:
        customer = await session.get(Customer, jana.id)
        assert (customer.platform_user_id, customer.chat_id, customer.display_name, customer.locale,
                customer.timezone, customer.reachable) == (f"forgotten-{jana.id}", "", "", None, None, False)
        ticket = await session.get(Ticket, mine.id)
        # The statistics stay: the ticket, its department, times and status history.
        assert (ticket.subject, ticket.description, ticket.department, ticket.created_at) == \
            (ERASED, ERASED, "technical", mine.created_at)
        bodies = (await session.execute(select(TicketMessage.body).where(TicketMessage.ticket_id == mine.id))).scalars()
        assert set(bodies) == {ERASED}
        assert (await session.get(Rating, mine.id)).comment == ""
        assert (await session.get(Rating, mine.id)).score == 4
        assert (await session.get(Draft, jana.id)) is None
        desk = (await session.execute(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == "desk-rated"))).scalar_one()
        assert desk.params == {"score": 4}
        kept = {e.event_id: e.replies for e in (await session.execute(select(InboundEvent))).scalars()}
        assert kept == {"1": None, "2": [{"text": "not sent yet"}]}  # a claim still sending keeps its replies
        # Petr is untouched.
        other = await session.get(Ticket, theirs.id)
        assert (other.subject, other.description) == ("Petr's login", "Petr's text.")
        assert (await session.get(Customer, petr.id)).display_name == "Petr Novák"
        assert (await session.get(Draft, petr.id)) is not None
    assert await _count(db, OutboxMessage, OutboxMessage.customer_id == jana.id) == 0
    assert await _count(db, OutboxMessage, OutboxMessage.customer_id == petr.id) > 0
    assert await _count(db, Attachment, Attachment.ticket_id == mine.id) == 0
    assert await _count(db, Attachment, Attachment.ticket_id == theirs.id) == 1
    assert await _count(db, StatusChange) == history_before
    assert Path(s["shared"].stored_path).exists()  # Petr's attachment names the same file
    assert not Path(s["own"].stored_path).exists()
    assert await find_customer(db, "telegram", "42") is None
    assert await forget_customer(db, "telegram", "42") is None
    # Writing again, Jana is a new customer.
    again = await Services.build(db, config, clock).customers.customer("telegram", "42", "42", "Jana", "cs")
    assert again.id != jana.id


async def test_forget_is_one_transaction(
    db: Database, config: HelpdeskConfig, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = await _setting(db, config, clock, tmp_path)

    def broken() -> object:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(core.services.forget, "null", broken)  # fails after the first changes were made
    with pytest.raises(RuntimeError):
        await forget_customer(db, "telegram", "42")
    async with db.read() as session:
        assert (await session.get(Ticket, s["mine"].id)).subject == "Jana's login"
        assert (await session.get(Customer, s["jana"].id)).display_name == "Jana Nováková"
    assert await _count(db, Attachment, Attachment.ticket_id == s["mine"].id) == 2
    assert await _count(db, TicketMessage, TicketMessage.body == ERASED) == 0
    assert Path(s["own"].stored_path).exists()


async def test_forget_takes_the_proven_address_and_its_organisation(
    db: Database, config: HelpdeskConfig, clock: FakeClock
) -> None:
    """The address a customer proved names them: it goes, with the membership it gave, the member
    row an agent added for it, and any code pending."""
    service = Services.build(db, config, clock, mail_channel="email")
    org = await service.organisations.create("Firma s.r.o.", "everybody")
    await service.organisations.add_member(org.name, "jana@firma.cz", "primary")
    jana = await service.customers.customer("telegram", "42", "42", "Jana", "cs")
    sent: list[str] = []

    def mail(code: str) -> Reply:
        sent.append(code)
        return Reply(f"code {code}")

    await service.verification.send_code(jana.id, "Jana@Firma.cz", mail)
    proven = await service.verification.confirm(jana.id, sent[0])
    assert (proven.address, proven.organisation) == ("jana@firma.cz", "Firma s.r.o.")
    await service.verification.send_code(jana.id, "jana@elsewhere.cz", mail)

    assert await forget_customer(db, "telegram", "42") is not None
    async with db.read() as session:
        forgotten = await session.get_one(Customer, jana.id)
        assert (forgotten.address, forgotten.organisation_id, forgotten.organisation_role) == (None, None, None)
        assert await session.get(OrganisationMember, "jana@firma.cz") is None
        assert await session.get(Verification, jana.id) is None
    assert (await service.organisations.view(org.name)).customers == 0
