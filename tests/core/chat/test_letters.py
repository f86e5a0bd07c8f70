"""Letters: a whole message opens a ticket at once, an answer continues it (only its requester's),
a bare number answers the last question, automatic letters are never answered, and a sender gets
a limited number of answers an hour."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from core.chat.drafts import DraftStore
from core.chat.letters import ASK, Letter, Letters
from core.delivery.attachments import AttachmentStore, IncomingFile
from core.domain.config import HelpdeskConfig, Limits
from core.domain.model import DESCRIPTION_MAX, MESSAGE_MAX, SUBJECT_MAX, Status, Who
from core.services import Services
from core.storage.models import Attachment, Customer, Rating, Ticket, TicketMessage

PLATFORM = "letters"


def _letters(service: Services, config: HelpdeskConfig, tmp_path: Path, **kw: object) -> Letters:
    return Letters(service, DraftStore(service.db, service.clock), AttachmentStore(tmp_path / "files"), config,
                   clock=service.clock, **kw)  # type: ignore[arg-type]


def _letter(text: str, *, sender: str = "jana@example.cz", subject: str = "Nelze se přihlásit", **kw: object) -> Letter:
    return Letter(PLATFORM, sender, "Jana", subject, text, **kw)  # type: ignore[arg-type]


def _file(name: str, data: bytes) -> IncomingFile:
    async def fetch() -> bytes:
        return data

    return IncomingFile(name, len(data), fetch)


async def _tickets(service: Services) -> list[Ticket]:
    async with service.db.read() as s:
        return list((await s.execute(select(Ticket).order_by(Ticket.number))).scalars())


async def test_a_new_letter_opens_a_ticket_and_is_answered_in_its_language(
        service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    letters = _letters(service, config, tmp_path)
    answers = await letters.take(_letter("Dobrý den, nemohu se přihlásit do systému.", language="cs"))
    [ticket] = await _tickets(service)
    assert ticket.subject == "Nelze se přihlásit" and ticket.department == config.departments[0].code
    assert ticket.description == "Dobrý den, nemohu se přihlásit do systému."
    [answer] = answers
    assert answer.ticket == ticket.number and answer.locale == "cs"
    assert f"#{ticket.number}" in answer.text and "Nelze se přihlásit" in answer.text
    async with service.db.read() as s:
        customer = (await s.execute(select(Customer))).scalar_one()
    assert (customer.platform, customer.platform_user_id, customer.locale) == (PLATFORM, "jana@example.cz", "cs")


async def test_an_answer_continues_the_ticket_of_its_requester_only(
        service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    letters = _letters(service, config, tmp_path)
    await letters.take(_letter("První zpráva", language="cs"))
    [ticket] = await _tickets(service)
    assert await letters.take(_letter("Ještě doplňuji: chyba 500.", ticket=ticket.number)) == []
    async with service.db.read() as s:
        bodies = list((await s.execute(select(TicketMessage.body))).scalars())
    assert bodies == ["Ještě doplňuji: chyba 500."]
    # A stranger naming #1001 opens a ticket of their own and learns nothing of that one.
    answers = await letters.take(_letter("I want to see it", sender="eve@example.com",
                                         subject=f"Re: [#{ticket.number}] Nelze se přihlásit", ticket=ticket.number))
    tickets = await _tickets(service)
    assert len(tickets) == 2 and tickets[1].customer_id != ticket.customer_id
    assert "První zpráva" not in answers[0].text and f"#{tickets[1].number}" in answers[0].text


async def test_a_bare_number_settles_a_resolution_and_rates_it(
        service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    letters = _letters(service, config, tmp_path)
    agent = await service.desk.agent("desk", "A1", "Eva")
    await letters.take(_letter("Nejde to.", language="cs"))
    [ticket] = await _tickets(service)
    await service.desk.change_status(ticket.number, Status.RESOLVED, Who.agent(agent.id))
    [back] = await letters.take(_letter("2 – pořád to nejde", ticket=ticket.number))
    assert "pořád" not in back.text and (await _tickets(service))[0].status == Status.ACCEPTED
    await service.desk.change_status(ticket.number, Status.RESOLVED, Who.agent(agent.id))
    [closed] = await letters.take(_letter("1", ticket=ticket.number))
    assert (await _tickets(service))[0].status == Status.CLOSED and closed.ticket == ticket.number
    [thanks] = await letters.take(_letter("4 díky za pomoc\n\n> quoted", ticket=ticket.number))
    async with service.db.read() as s:
        rating = (await s.execute(select(Rating))).scalar_one()
    assert rating.score == 4 and rating.comment.startswith("díky za pomoc") and thanks.ticket == ticket.number


async def test_a_number_that_answers_nothing_is_a_message(
        service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    letters = _letters(service, config, tmp_path)
    await letters.take(_letter("Nejde to."))
    [ticket] = await _tickets(service)
    assert await letters.take(_letter("3", ticket=ticket.number)) == []
    async with service.db.read() as s:
        assert list((await s.execute(select(TicketMessage.body))).scalars()) == ["3"]


async def test_asked_for_a_department_the_letter_waits_and_nothing_is_lost(
        service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    letters = _letters(service, config, tmp_path, default_department=ASK)
    [question] = await letters.take(_letter("Faktura je špatně.", subject="Faktura", language="cs"))
    assert await _tickets(service) == [] and "1." in question.text
    [again] = await letters.take(_letter("A ještě jedna věc."))  # not an answer: joined, asked again
    assert again.text == question.text and await _tickets(service) == []
    second = config.departments[1]
    [confirmation] = await letters.take(_letter("2"))
    [ticket] = await _tickets(service)
    assert ticket.department == second.code and ticket.subject == "Faktura"
    assert ticket.description == "Faktura je špatně.\n\nA ještě jedna věc."
    assert confirmation.ticket == ticket.number


async def test_a_claimed_address_chooses_the_department(
        service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    letters = _letters(service, config, tmp_path, default_department=ASK)
    await letters.take(_letter("Faktura je špatně.", department=config.departments[1].code))
    assert [t.department for t in await _tickets(service)] == [config.departments[1].code]


async def test_automatic_letters_open_tickets_silently(
        service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    letters = _letters(service, config, tmp_path)
    assert await letters.take(_letter("Disk full on srv1", sender="monitor@example.com", automatic=True)) == []
    assert len(await _tickets(service)) == 1


async def test_a_sender_gets_a_few_answers_an_hour_then_silence(
        service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    strict = config.model_copy(update={"limits": Limits(automatic_answers_per_hour=2, open_tickets=10,
                                                        new_tickets_per_hour=10)})
    service = Services.build(service.db, strict, service.clock)
    letters = _letters(service, strict, tmp_path)
    answered = [bool(await letters.take(_letter(f"Problém {i}", subject=f"Věc {i}"))) for i in range(4)]
    assert answered == [True, True, False, False] and len(await _tickets(service)) == 4
    service.clock.advance(minutes=61)  # type: ignore[attr-defined]
    assert await letters.take(_letter("Problém 5", subject="Věc 5"))


async def test_files_refused_are_named_and_the_letter_as_received_is_kept(
        service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    letters = _letters(service, config, tmp_path)
    answers = await letters.take(_letter(
        "Posílám log.",
        files=(_file("log.txt", b"line 1\nline 2\n"), _file("../tool.exe", b"MZ\x90\x00" + b"\x00" * 64)),
        record=_file("original.eml", b"From: jana@example.cz\r\nSubject: x\r\n\r\nPosilam log.\r\n")))
    [answer] = answers  # one letter back: the ticket's number first, then the file refused
    assert answer.ticket is not None and "tool.exe: " in answer.text
    assert answer.text.index(f"#{answer.ticket}") < answer.text.index("tool.exe: ")
    async with service.db.read() as s:
        names = sorted((await s.execute(select(Attachment.filename))).scalars())
    assert names == ["log.txt", "original.eml"]


async def test_a_long_letter_opens_its_ticket_cut_to_size(
        service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    """A pasted log or a long subject is no reason to refuse a letter: what a ticket cannot hold
    is cut off (the letter as received is kept with it), and the letter is acknowledged."""
    letters = _letters(service, config, tmp_path)
    log = "Log:\n" + "".join(f"{i:05} the printer timed out\n" for i in range(400))
    [answer] = await letters.take(_letter(log, subject="Tiskárna " * 30))
    [ticket] = await _tickets(service)
    assert answer.ticket == ticket.number
    assert DESCRIPTION_MAX - 10 < len(ticket.description) <= DESCRIPTION_MAX and ticket.description.endswith("…")
    assert ticket.description.startswith("Log:\n00000 the printer")
    assert len(ticket.subject) <= SUBJECT_MAX and ticket.subject.startswith("Tiskárna Tiskárna")
    assert await letters.take(_letter(log, ticket=ticket.number)) == []
    async with service.db.read() as s:
        [body] = (await s.execute(select(TicketMessage.body).where(TicketMessage.ticket_id == ticket.id))).scalars()
    assert MESSAGE_MAX - 10 < len(body) <= MESSAGE_MAX and body.endswith("…")
    async with service.db.read() as s:  # and the whole text beside it, with each
        kept = [(a.filename, a.size) for a in (await s.execute(select(Attachment))).scalars()]
    assert kept == [("message.txt", len(log.encode()))] * 2


async def test_a_number_in_persian_digits_is_a_choice(
        service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    letters = _letters(service, config, tmp_path)
    agent = await service.desk.agent("desk", "A1", "Eva")
    await letters.take(_letter("نمی‌توانم وارد سامانه شوم و خطای ۵۰۰ می‌بینم.", sender="ali@example.ir", language="fa"))
    [ticket] = await _tickets(service)
    await service.desk.change_status(ticket.number, Status.RESOLVED, Who.agent(agent.id))
    await letters.take(_letter("۱", sender="ali@example.ir", ticket=ticket.number))
    assert (await _tickets(service))[0].status == Status.CLOSED
    await letters.take(_letter("۵ عالی بود", sender="ali@example.ir", ticket=ticket.number))
    async with service.db.read() as s:
        rating = (await s.execute(select(Rating))).scalar_one()
    assert (rating.score, rating.comment) == (5, "عالی بود")


async def test_the_channels_word_on_the_language_serves_a_new_sender_only(
        service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    letters = _letters(service, config, tmp_path)
    [first] = await letters.take(_letter("OK", sender="petr@example.cz", language_hint="cs"))
    assert first.locale == "cs"  # nothing to tell from the text: the hint decides for a new sender
    await letters.take(_letter("Díky", sender="petr@example.cz", language_hint="en",
                               ticket=int(first.ticket or 0)))
    async with service.db.read() as s:
        assert (await s.execute(select(Customer.locale))).scalar_one() == "cs"  # a mail program's word


async def test_a_letter_in_a_language_not_offered_is_answered_in_the_default(
        service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    offered = config.model_copy(update={"languages": ("fa", "cs")})
    letters = _letters(service, offered, tmp_path)
    [answer] = await letters.take(_letter("Hello, I cannot log in.", language="en", language_hint="en"))
    assert answer.locale == "fa"
    [answer] = await letters.take(_letter("Dobrý den, stále to nefunguje.", language="cs"))
    assert answer.locale == "cs"
    async with service.db.read() as s:
        assert (await s.execute(select(Customer.locale))).scalar_one() == "cs"


async def test_a_letter_gets_a_request_type_its_department_offers(
        service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    technical = _letters(service, config, tmp_path, request_type="bug")
    await technical.take(_letter("Chyba 500 na přihlašovací stránce.", sender="a@example.cz"))
    billing = _letters(service, config, tmp_path, request_type="bug", default_department="billing")
    await billing.take(_letter("Chybí mi faktura.", sender="b@example.cz", subject="Faktura"))
    unset = _letters(service, config, tmp_path, default_department="feedback")
    await unset.take(_letter("Tmavý motiv, prosím.", sender="c@example.cz", subject="Návrh"))
    assert [(t.department, t.request_type) for t in await _tickets(service)] == [
        ("technical", "bug"), ("billing", "consultation"), ("feedback", "feedback")]


async def test_a_bare_number_answers_a_quote_as_the_mail_numbers_it(
        service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    from adapters.email.compose import options
    from core.chat.notices import render
    from core.domain.quotes import QuoteState
    from core.i18n import translator
    from core.storage.models import OutboxMessage

    letters = _letters(service, config, tmp_path)
    agent = await service.desk.agent("desk", "A1", "Eva")
    await letters.take(_letter("Chci novou sestavu.", language="cs"))
    [ticket] = await _tickets(service)
    first = await service.quotes.send(agent.id, ticket.number, minutes=120)
    async with service.db.read() as s:
        sent = (await s.execute(select(OutboxMessage).where(OutboxMessage.event == "quote"))).scalar_one()
    mail = render(translator("en"), sent.event, sent.params)
    assert options(mail) == [(1, "Approve"), (2, "Decline")]
    # A number with words after it is a message, not an answer.
    assert await letters.take(_letter("2 more columns, please", ticket=ticket.number)) == []
    assert (await service.quotes.latest(ticket.number)).state == QuoteState.PENDING  # type: ignore[union-attr]
    [answer] = await letters.take(_letter("2", ticket=ticket.number, quote=first.id))
    assert answer.ticket == ticket.number and "#" in answer.text
    assert (await service.quotes.latest(ticket.number)).state == QuoteState.DECLINED  # type: ignore[union-attr]
    second = await service.quotes.send(agent.id, ticket.number, amount=50000, currency="CZK")
    assert second.id != first.id
    [answer] = await letters.take(_letter("1", ticket=ticket.number, quote=second.id))
    assert (await service.quotes.latest(ticket.number)).state == QuoteState.APPROVED  # type: ignore[union-attr]
    assert (await service.queries.get(ticket.number)).status == Status.ACCEPTED


async def test_a_bare_1_by_mail_does_not_approve_a_quote_the_mail_did_not_show(
        service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    """The agent replaced a 1 h quote by a 40 h one: a "1" in answer to the first quote's mail
    (or to no quote's mail) approves nothing. It is kept on the ticket as a message, and the
    customer is shown the quote that awaits their answer, with its own numbered choices."""
    from adapters.email.compose import options
    from core.domain.quotes import QuoteState

    letters = _letters(service, config, tmp_path)
    agent = await service.desk.agent("desk", "A1", "Eva")
    await letters.take(_letter("Chci novou sestavu.", language="en"))
    [ticket] = await _tickets(service)
    first = await service.quotes.send(agent.id, ticket.number, minutes=60)
    dearer = await service.quotes.send(agent.id, ticket.number, minutes=40 * 60, note="The whole module.")
    for answering in (first.id, None):
        [told] = await letters.take(_letter("1", ticket=ticket.number, quote=answering))
        latest = await service.quotes.latest(ticket.number)
        assert latest is not None and (latest.id, latest.state) == (dearer.id, QuoteState.PENDING)
        assert told.ticket == ticket.number and "40 hr of work" in told.text and "The whole module." in told.text
        assert options(told) == [(1, "Approve"), (2, "Decline")]
    async with service.db.read() as s:
        bodies = list((await s.execute(select(TicketMessage.body).where(TicketMessage.ticket_id == ticket.id)
                                       .order_by(TicketMessage.id))).scalars())
    assert bodies[-2:] == ["1", "1"]  # nothing lost: the answers are on the ticket
    [approved] = await letters.take(_letter("1", ticket=ticket.number, quote=dearer.id))
    assert (await service.quotes.latest(ticket.number)).state == QuoteState.APPROVED  # type: ignore[union-attr]
