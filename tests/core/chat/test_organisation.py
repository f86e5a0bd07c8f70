"""/organisation through the conversation: a work address proven by a code mailed to it (read
here from the mail channel's outbox row), the refusals (wrong, locked, expired, used, too many),
strangers who guess numbers and codes, and the organisation's tickets listed by creator."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from core.chat import Conversation
from core.chat.drafts import DraftStore
from core.chat.letters import Letter, Letters
from core.chat.membership import code_mail
from core.chat.messages import Reply
from core.delivery.attachments import AttachmentStore
from core.delivery.outbox import SECRET_REPLY
from core.delivery.relay import Relay
from core.domain.config import Delivery, HelpdeskConfig, Limits
from core.domain.model import Status, Who
from core.i18n import translator
from core.services import Services
from core.services.verification import VerificationRefused
from core.storage.models import Customer as CustomerRow
from core.storage.models import OutboxMessage, TicketMessage
from tests.conftest import FakeClock, Line
from tests.core.chat.harness import Customer, make_conversation, open_ticket
from tests.core.test_relay import Recorder

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
CODE = re.compile(r"(?<![0-9])([0-9]{4})(?![0-9])")


@pytest.fixture
def mailing(db: object, config: HelpdeskConfig, clock: FakeClock) -> Services:
    """The services of a deployment with a mail channel, which codes go through."""
    return Services.build(db, config, clock, mail_channel="email")  # type: ignore[arg-type]


@pytest.fixture
def talk(mailing: Services, config: HelpdeskConfig, tmp_path: Path) -> Conversation:
    relaxed = config.model_copy(update={"limits": Limits(messages_per_minute=10_000)})
    return make_conversation(mailing, relaxed, tmp_path / "files")


async def speaking(conversation: Conversation, language: str, user: str) -> Customer:
    c = Customer(conversation, user_id=user, language_code=language)
    await c.say("/start")
    await c.press(f"lang:{language}")
    await c.press("nav:cancel")
    return c


async def firma(service: Services, sharing: str = "everybody", *, replies: bool = False) -> None:
    await service.organisations.create("Firma", sharing, replies=replies)
    await service.organisations.add_domain("Firma", "firma.cz")


async def mailed(service: Services, address: str) -> OutboxMessage:
    """The last code mail queued for `address`."""
    async with service.db.read() as s:
        rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.chat_id == address)
                                .order_by(OutboxMessage.id.desc()))).scalars().all()
    assert rows, f"no mail queued for {address}"
    return rows[0]


async def code_for(service: Services, address: str) -> str:
    row = await mailed(service, address)
    found = CODE.search(row.params["reply"]["text"])
    assert found is not None
    return found.group(1)


async def row_of(service: Services, c: Customer) -> CustomerRow:
    async with service.db.read() as s:
        return (await s.execute(select(CustomerRow).where(CustomerRow.platform_user_id == c.user_id))).scalar_one()


async def by_mail(service: Services, address: str, name: str, subject: str = "Faktura") -> tuple[int, int]:
    """A mail channel's customer at `address` opens a ticket: (their id, the ticket's number)."""
    who = await service.customers.customer("email", address, address, name, "cs", address=address)
    ticket = await service.tickets.open_ticket(who.id, department="technical", request_type="bug",
                                               subject=subject, description="Chyba 500")
    return who.id, ticket.number


def wrong(code: str, k: int) -> str:
    return f"{(int(code) + k) % 10_000:04d}"


# -- proving an address -----------------------------------------------------------------


async def test_persian_customer_proves_an_address_and_joins_the_organisation(
        talk: Conversation, mailing: Services, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await firma(mailing)
    c = await speaking(talk, "fa", "fa1")
    await c.say("/organisation")
    assert "nav:cancel" in c.keys() and c.last[-1].expects_text
    assert "ایمیل" in c.text  # asked for the work e-mail, in Persian
    await c.say("ali@firma.cz")
    assert "ali@firma.cz" in c.text and "org:code" in c.keys()
    row = await mailed(mailing, "ali@firma.cz")
    assert (row.platform, row.chat_id, row.event) == ("email", "ali@firma.cz", SECRET_REPLY)
    mail = row.params["reply"]
    assert mail["locale"] == "fa" and "۱۰" in mail["text"]  # valid for 10 minutes, said in Persian
    code = await code_for(mailing, "ali@firma.cz")

    await c.say(code.translate(PERSIAN_DIGITS))  # typed in Persian digits
    assert "Firma" in c.text and "ali@firma.cz" in c.text and "/tickets" in c.text
    me = await row_of(mailing, c)
    assert me.address == "ali@firma.cz" and me.organisation_id is not None
    assert all(code not in r.text for r in c.transcript)  # the code never appears in the chat

    sender = Recorder()
    await Relay(mailing.db, {"email": Line("email", sender)}, delivery=Delivery(), clock=clock).flush()
    assert [to for to, _ in sender.sent] == ["ali@firma.cz"] and code in sender.sent[0][1]
    assert (await mailed(mailing, "ali@firma.cz")).params == {}  # the mail's words erased once sent

    with pytest.raises(VerificationRefused) as used:  # single use
        await mailing.verification.confirm(me.id, code)
    assert used.value.code == "no_code"

    await c.say("/organisation")  # the address and the organisation shown
    assert "ali@firma.cz" in c.text and "Firma" in c.text
    assert c.keys() == ["org:other", "org:forget"]
    assert code not in caplog.text  # no log line carries it


async def test_czech_customer_unites_the_tickets_written_from_their_address(
        talk: Conversation, mailing: Services) -> None:
    _, mailed_number = await by_mail(mailing, "jana@seznam.cz", "Jana Nováková")  # no organisation
    c = await speaking(talk, "cs", "cs1")
    own = await open_ticket(c)
    await c.say(f"/ticket {mailed_number}")
    assert "nenašli" in c.text  # not hers yet
    await c.say("/organisation jana@")  # started directly, with a typo
    assert "jana@" in c.text and "e-mail" in c.text
    await c.say("jana@seznam.cz")
    await c.say("12")  # not four digits: said, not counted
    assert "čtyři" in c.text
    code = await code_for(mailing, "jana@seznam.cz")
    await c.say(wrong(code, 1))
    assert "ještě 2" in c.text  # two tries left, in Czech plural
    await c.say(code)
    assert "jana@seznam.cz" in c.text and "/tickets" in c.text
    await c.say("/tickets")
    assert f"#{mailed_number}" in c.text and f"#{own}" in c.text  # the same person's tickets together
    assert "people:all" not in c.keys()  # no organisation: nothing to filter by person
    await c.say(f"/ticket {mailed_number}")
    assert f"reply:{mailed_number}" in c.keys() and f"withdraw:{mailed_number}" in c.keys()  # all hers


async def test_three_wrong_codes_lock_for_an_hour(talk: Conversation, mailing: Services, clock: FakeClock) -> None:
    await firma(mailing)
    c = await speaking(talk, "en", "en1")
    await c.say("/organisation petr@firma.cz")
    code = await code_for(mailing, "petr@firma.cz")
    await c.say(wrong(code, 1))
    assert "try 2 more times" in c.text
    await c.say(wrong(code, 2))
    assert "try 1 more time." in c.text
    await c.say(wrong(code, 3))
    assert "too many times" in c.text and "9:00" in c.text  # until 9:00 Prague time (8:00 UTC + 1 h)
    await c.say("/organisation petr@firma.cz")  # a new code while locked: refused
    assert "too many times" in c.text
    await c.say(code)  # outside any step now: a message, not a guess
    assert (await row_of(mailing, c)).address is None
    clock.advance(hours=1, minutes=1)
    await c.say("/organisation petr@firma.cz")
    await c.say(await code_for(mailing, "petr@firma.cz"))
    assert (await row_of(mailing, c)).address == "petr@firma.cz"


async def test_an_expired_code_offers_a_new_one(talk: Conversation, mailing: Services, clock: FakeClock) -> None:
    c = await speaking(talk, "en", "en2")
    await c.say("/organisation")
    await c.say("eva@firma.cz")
    first = await code_for(mailing, "eva@firma.cz")
    clock.advance(minutes=10, seconds=1)
    await c.say(first)
    assert "expired" in c.text and "eva@firma.cz" in c.text and "org:code" in c.keys()
    await c.press("org:code")
    assert "We have sent a code to eva@firma.cz" in c.text
    await c.say(await code_for(mailing, "eva@firma.cz"))
    assert "is confirmed" in c.text


async def test_too_many_codes_an_hour(talk: Conversation, mailing: Services, clock: FakeClock) -> None:
    c = await speaking(talk, "en", "en3")
    await c.say("/organisation ida@firma.cz")
    await c.press("org:code")
    await c.press("org:code")
    async with mailing.db.read() as s:
        assert len((await s.execute(select(OutboxMessage).where(OutboxMessage.chat_id == "ida@firma.cz")))
                   .scalars().all()) == 3
    await c.press("org:code")
    assert "as many codes as we may" in c.text and "9:00" in c.text
    await c.say("/organisation other@firma.cz")  # another address does not reset the count
    assert "as many codes as we may" in c.text
    await c.say("Hello, my printer is broken")  # not read as an address: nothing is asked until then
    assert "does not look like a mail address" not in c.text
    clock.advance(hours=1)
    await c.say("/organisation ida@firma.cz")
    await c.say(await code_for(mailing, "ida@firma.cz"))
    assert "is confirmed" in c.text


async def test_a_customer_removes_their_address(talk: Conversation, mailing: Services) -> None:
    await firma(mailing)
    c = await speaking(talk, "en", "en4")
    await c.say("/organisation jan@firma.cz")
    await c.say(await code_for(mailing, "jan@firma.cz"))
    await c.say("/organisation")
    await c.press("org:forget")
    me = await row_of(mailing, c)
    assert (me.address, me.organisation_id) == (None, None)
    await c.say("/organisation")
    assert c.last[-1].expects_text  # asked for an address again
    await c.press("nav:cancel")
    await c.say("/organisation jan@firma.cz")
    await c.say(await code_for(mailing, "jan@firma.cz"))
    await c.say("/organisation")
    await c.press("org:other")
    assert c.last[-1].expects_text


async def test_without_a_mail_channel_an_agent_adds_addresses(customer: Customer) -> None:
    await customer.say("/organisation")
    assert "cannot be confirmed" in customer.text and "team can add" in customer.text
    await customer.say("/help")
    assert "/organisation" in customer.text


# -- strangers ----------------------------------------------------------------------------


def _neutral(text: str, number: int) -> str:
    return text.replace(f"#{number}", "#N")


async def test_a_stranger_learns_nothing_by_guessing_ticket_numbers(talk: Conversation, mailing: Services) -> None:
    await firma(mailing, "none")
    numbers = [(await by_mail(mailing, "jana@firma.cz", "Jana", subject=f"Tajné {i}"))[1] for i in range(3)]
    agent = (await mailing.desk.agent("slack", "U1")).id
    await mailing.desk.change_status(numbers[1], Status.RESOLVED, Who.agent(agent))
    missing = max(numbers) + 50
    colleague = await speaking(talk, "en", "petr")  # a member of an organisation that shares nothing
    await colleague.say("/organisation petr@firma.cz")
    await colleague.say(await code_for(mailing, "petr@firma.cz"))
    outsider = await speaking(talk, "en", "eve")
    for who in (colleague, outsider):
        answers: dict[str, set[str]] = {}
        for number in [*numbers, missing]:
            kind = "missing" if number == missing else "existing"
            for said in (f"/ticket {number}", f"/reply {number}", f"/withdraw {number}", f"/confirm {number}",
                         f"/notsolved {number}", f"/escalate {number}"):
                answers.setdefault(kind + said.split()[0], set()).add(_neutral((await who.say(said))[0].text, number))
                await who.say("/cancel")
            for key in (f"t:{number}", f"reply:{number}", f"confirm:{number}", f"rate:{number}:5",
                        f"withdraw_yes:{number}", f"link:{number}"):
                answers.setdefault(kind + key.split(":")[0], set()).add(
                    _neutral((await who.press_any(key))[0].text, number))
        for key in [k for k in answers if k.startswith("missing")]:
            assert answers[key.replace("missing", "existing")] == answers[key], key  # identical to "not found"
        await who.say("/tickets")
        assert "no tickets" in who.text and not any(k.startswith("t:") for k in who.keys())
    async with mailing.db.read() as s:  # and nothing was written to Jana's tickets
        assert not (await s.execute(select(TicketMessage).where(TicketMessage.author_customer_id.in_(
            [(await row_of(mailing, colleague)).id, (await row_of(mailing, outsider)).id])))).scalars().all()


async def test_guessing_codes_locks_after_three(talk: Conversation, mailing: Services, clock: FakeClock) -> None:
    """Somebody claims the boss's address: they never see the mail, and guessing is hopeless. In
    the code's 10 minutes three guesses are weighed, then everything is refused for an hour,
    the right code too; 10 000 guesses would take more than 3 000 hours."""
    await firma(mailing, "everybody")
    eve = await speaking(talk, "en", "eve")
    await eve.say("/organisation boss@firma.cz")
    code = await code_for(mailing, "boss@firma.cz")
    weighed = 0
    guesses = [wrong(code, k) for k in range(1, 40)] + [code]
    for guess in guesses:
        try:
            await mailing.verification.confirm((await row_of(mailing, eve)).id, guess)
        except VerificationRefused as exc:
            weighed += exc.code == "wrong_code"
            assert exc.code in ("wrong_code", "verification_locked")
        else:
            pytest.fail("a guess was taken")
    assert weighed == 2  # the third wrong one locks
    clock.advance(minutes=59)
    await eve.say(code)  # not in the code step any more, and still locked
    assert (await row_of(mailing, eve)).address is None
    # Within an hour at most three codes are sent and three guesses weighed, whatever is tried.
    eve_id = (await row_of(mailing, eve)).id
    clock.advance(minutes=2)
    tried = 0
    for _ in range(5):
        try:
            await mailing.verification.send_code(eve_id, "boss@firma.cz", lambda c: code_mail(translator("en"), c))
        except VerificationRefused:
            pass
        for k in range(1, 5):
            try:
                await mailing.verification.confirm(eve_id, wrong(await code_for(mailing, "boss@firma.cz"), k))
            except VerificationRefused as exc:
                tried += exc.code == "wrong_code"
    assert tried <= 3
    assert (await row_of(mailing, eve)).organisation_id is None


# -- the organisation's tickets ---------------------------------------------------------------


async def test_an_everybody_member_lists_a_colleagues_tickets_by_creator(
        talk: Conversation, mailing: Services) -> None:
    await firma(mailing, "everybody")
    jana, first = await by_mail(mailing, "jana@firma.cz", "Jana Nováková", "Faktura za listopad")
    _, second = await by_mail(mailing, "jana@firma.cz", "Jana Nováková", "Tiskárna")
    agent = (await mailing.desk.agent("slack", "U1")).id
    await mailing.desk.change_status(second, Status.RESOLVED, Who.agent(agent))
    _, petrs = await by_mail(mailing, "petr@firma.cz", "Petr Svoboda", "VPN")
    await by_mail(mailing, "eve@elsewhere.net", "Eve", "Not theirs")
    c = await speaking(talk, "en", "ali")
    await c.say("/organisation ali@firma.cz")
    await c.say(await code_for(mailing, "ali@firma.cz"))
    mine = await open_ticket(c, subject="My own")

    await c.say("/tickets")
    assert "organisation's tickets" in c.text
    assert {f"t:{n}" for n in (first, second, petrs, mine)} <= set(c.keys())
    assert "Not theirs" not in c.text
    assert "Jana Nováková" in c.text and "Petr Svoboda" in c.text and "· you" in c.text
    assert {"list:all:mine", "list:all:everyone", "people:all"} <= set(c.keys())

    await c.press("people:all")
    assert f"list:all:{jana}" in c.keys() and any("Jana Nováková (2)" == ch.label for r in c.last
                                                    for ch in r.flat_choices)
    assert len([k for k in c.keys() if re.fullmatch(r"list:all:\d+", k)]) == 2  # Jana and Petr, not Ali
    await c.press(f"list:all:{jana}")
    assert "Tickets opened by Jana Nováková" in c.text
    assert {k for k in c.keys() if k.startswith("t:")} == {f"t:{first}", f"t:{second}"}
    await c.press(f"list:open:{jana}")
    assert {k for k in c.keys() if k.startswith("t:")} == {f"t:{first}"}
    await c.press(f"list:done:{jana}")
    assert {k for k in c.keys() if k.startswith("t:")} == {f"t:{second}"}
    await c.press("list:done:mine")
    assert not any(k.startswith("t:") for k in c.keys())
    await c.say("/tickets open")
    assert {k for k in c.keys() if k.startswith("t:")} == {f"t:{first}", f"t:{petrs}", f"t:{mine}"}
    await c.say("/tickets done")
    assert {k for k in c.keys() if k.startswith("t:")} == {f"t:{second}"}

    await c.say(f"/ticket {second}")  # a colleague's, read-only (replies not allowed)
    assert "Opened by: Jana Nováková" in c.text and "Jana Nováková wrote:" in c.text
    assert c.keys() == ["list:all"]  # no Answer, Confirm, Withdraw...
    for key in (f"reply:{second}", f"confirm:{second}", f"withdraw:{second}"):
        await c.press_any(key)
        assert "opened by a colleague" in c.text
    await c.say(f"/withdraw {first}")
    assert "opened by a colleague" in c.text
    assert (await mailing.queries.get(first)).status == Status.NEW


async def test_replies_allowed_let_a_colleague_write_but_not_withdraw(talk: Conversation, mailing: Services) -> None:
    await firma(mailing, "everybody", replies=True)
    _, number = await by_mail(mailing, "jana@firma.cz", "Jana Nováková")
    c = await speaking(talk, "en", "ali")
    await c.say("/organisation ali@firma.cz")
    await c.say(await code_for(mailing, "ali@firma.cz"))
    await c.say(f"/ticket {number}")
    assert f"reply:{number}" in c.keys() and f"withdraw:{number}" not in c.keys()
    await c.press(f"reply:{number}")
    await c.say("Jana is away: the invoice number is 2026-117.")
    assert f"added to ticket #{number}" in c.text
    await c.say(f"/ticket {number}")
    assert "You, " in c.text  # the message is shown as theirs
    await c.press_any(f"withdraw:{number}")
    assert "opened by a colleague" in c.text


async def test_primary_sharing_shows_all_to_primary_contacts_only(talk: Conversation, mailing: Services) -> None:
    await firma(mailing, "primary")
    await mailing.organisations.add_member("Firma", "boss@firma.cz", "primary")
    _, number = await by_mail(mailing, "jana@firma.cz", "Jana Nováková")
    member, boss = await speaking(talk, "en", "member"), await speaking(talk, "en", "boss")
    for c, address in ((member, "ali@firma.cz"), (boss, "boss@firma.cz")):
        await c.say(f"/organisation {address}")
        await c.say(await code_for(mailing, address))
    assert "primary contacts" in member.text
    await member.say("/tickets")
    assert "people:all" not in member.keys() and "no tickets" in member.text
    await member.say(f"/ticket {number}")
    assert "not found" in member.text
    await boss.say("/tickets")
    assert f"t:{number}" in boss.keys() and "people:all" in boss.keys()


async def test_a_letter_never_acts_on_a_colleagues_ticket(
        mailing: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    await firma(mailing, "everybody")
    _, number = await by_mail(mailing, "jana@firma.cz", "Jana Nováková")
    letters = Letters(mailing, DraftStore(mailing.db, mailing.clock), AttachmentStore(tmp_path / "files"), config)

    def letter(text: str) -> Letter:
        return Letter("email", "petr@firma.cz", "Petr", f"Re: [#{number}]", text, ticket=number, address=True)

    janas = (await mailing.queries.get(number)).id

    async def added() -> list[str]:
        async with mailing.db.read() as s:
            return list((await s.execute(select(TicketMessage.body).where(
                TicketMessage.ticket_id == janas, TicketMessage.kind == "customer"))).scalars())

    await letters.take(letter("Read-only: this opens my own ticket."))
    assert await added() == []  # nothing added to Jana's
    async with mailing.db.read() as s:
        petr = (await s.execute(select(CustomerRow).where(CustomerRow.address == "petr@firma.cz"))).scalar_one()
    [own] = await mailing.queries.list_for_customer(petr.id)
    assert own.number != number and own.description.startswith("Read-only")
    # Even where colleagues may write: a mail's From line can be forged, so a letter acts only on
    # tickets opened from its own address (a colleague writes to Jana's ticket from a chat).
    await mailing.organisations.set_sharing("Firma", "everybody", replies=True)
    await letters.take(letter("Still my own ticket."))
    assert await added() == []
    assert len(await mailing.queries.list_for_customer(petr.id)) == 2


async def test_a_forged_sender_is_not_the_person_who_proved_the_address(
        mailing: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    """Ali proved ali@firma.cz in a chat; a letter claiming to be from that address is not Ali."""
    ali = await mailing.customers.customer("telegram", "77", "77", "Ali", "cs")
    async with mailing.db.write() as s:
        row = await s.get_one(CustomerRow, ali.id)
        row.address, row.address_proven = "ali@firma.cz", True
    number = (await mailing.tickets.open_ticket(ali.id, department="technical", request_type="bug",
                                                subject="Faktura", description="Chyba")).number
    letters = Letters(mailing, DraftStore(mailing.db, mailing.clock), AttachmentStore(tmp_path / "files"), config)
    await letters.take(Letter("email", "ali@firma.cz", "Ali?", f"Re: [#{number}]", "forged", ticket=number,
                              address=True))
    async with mailing.db.read() as s:
        bodies = list((await s.execute(select(TicketMessage.body).where(
            TicketMessage.ticket_id == (await mailing.queries.get(number)).id,
            TicketMessage.kind == "customer"))).scalars())
    assert "forged" not in bodies
    # The other way round holds: Ali, who proved the address, sees what was mailed from it.
    mine = {t.number for t in await mailing.queries.list_for_customer(ali.id)}
    assert number in mine and len(mine) == 2


async def test_many_identities_get_no_more_codes_or_guesses_for_one_address(
        mailing: Services, clock: FakeClock) -> None:
    """The limits hold per address too: several chat identities together flood no inbox and
    guess no faster than one."""
    people = [(await mailing.customers.customer("telegram", f"6{i}", f"6{i}", f"P{i}", "cs")).id for i in range(5)]
    codes: dict[int, str] = {}

    def keep(who: int) -> Callable[[str], Reply]:
        def mail(code: str) -> Reply:
            codes[who] = code
            return Reply(f"code {code}")
        return mail

    for who in people[:3]:
        await mailing.verification.send_code(who, "boss@firma.cz", keep(who))
    with pytest.raises(VerificationRefused) as refused:
        await mailing.verification.send_code(people[3], "boss@firma.cz", keep(people[3]))
    assert refused.value.code == "too_many_codes"
    # Three wrong codes, one from each identity, lock the address for all of them.
    for who in people[:3]:
        with pytest.raises(VerificationRefused):
            await mailing.verification.confirm(who, wrong(codes[who], 1))
    with pytest.raises(VerificationRefused) as refused:
        await mailing.verification.confirm(people[0], wrong(codes[people[0]], 2))
    assert refused.value.code == "verification_locked"
    clock.advance(minutes=61)
    with pytest.raises(VerificationRefused) as refused:  # the lock ended; the old codes expired
        await mailing.verification.confirm(people[0], codes[people[0]])
    assert refused.value.code in ("code_expired", "no_code")
