"""Mail sent through aiosmtplib to a real SMTP server on 127.0.0.1 (aiosmtpd), its failures
mapped to delivery outcomes: give up (5xx for this mail) or retry (4xx, network, settings)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from urllib.parse import quote

import pytest

from adapters.email.compose import compose
from adapters.email.ids import MessageIds
from adapters.email.smtp import Smtp
from adapters.email.urls import MailServer, smtp_server
from core.chat.messages import Reply
from core.delivery.contract import DeliveryError
from core.startup import ServiceUnreachable, StartupError
from tests.conftest import SINK_PASSWORD, SINK_USER
from tests.fakes.smtp_sink import SmtpSink, free_port, self_signed

DOMAIN = "support.example.com"


def letter(to: str = "jan@example.cz", text: str = "Dobrý den", number: int = 1042) -> object:
    return compose(Reply(text, locale="cs", ticket=number), sender=f"help@{DOMAIN}", sender_name="Podpora",
                   to=to, subject=f"[#{number}] Tiskárna", message_id=MessageIds(DOMAIN, b"k" * 32).new(number))


async def send(smtp: Smtp, **kwargs: object) -> None:
    await smtp.send(letter(**kwargs))  # type: ignore[arg-type]


async def test_a_mail_is_delivered(smtp_sink: SmtpSink) -> None:
    smtp = Smtp(smtp_server(smtp_sink.url()))
    try:
        await send(smtp, text="Příliš žluťoučký kůň")
        [mail] = await smtp_sink.wait_for(1)
    finally:
        await smtp.close()
    [got] = smtp_sink.received
    assert got.sender == f"help@{DOMAIN}" and got.recipients == ("jan@example.cz",)
    assert got.login == SINK_USER and not got.tls
    assert mail["Subject"] == "[#1042] Tiskárna"
    body = mail.get_body(("plain",))
    assert body is not None and body.get_content().startswith("Příliš žluťoučký kůň")


async def test_connections_are_kept_and_reused(smtp_sink: SmtpSink) -> None:
    smtp = Smtp(smtp_server(smtp_sink.url()), connections=2)
    try:
        for n in range(3):
            await send(smtp, number=n + 1)
        await asyncio.gather(*(send(smtp, number=n) for n in range(10, 16)))
        await smtp_sink.wait_for(9)
    finally:
        await smtp.close()
    peers = [r.peer for r in smtp_sink.received]
    assert len(set(peers[:3])) == 1  # one after the other: one connection, one login
    assert len(set(peers)) == 2  # at most two at once
    assert [ok for _, ok in smtp_sink.logins] == [True, True]


async def test_a_dropped_connection_is_replaced_once(smtp_sink: SmtpSink) -> None:
    smtp = Smtp(smtp_server(smtp_sink.url()), connections=1)
    try:
        await send(smtp, number=1)
        smtp_sink.hang_up_next()
        await send(smtp, number=2)  # the kept connection dies under it: a new one takes the mail
        smtp_sink.hang_up_next(2)
        with pytest.raises(DeliveryError) as caught:
            await send(smtp, number=3)  # and the new one dies too: the outbox retries later
        await send(smtp, number=4)
    finally:
        await smtp.close()
    assert not caught.value.permanent and "EMAIL_SMTP_URL" in str(caught.value)
    assert [m["Subject"] for m in await smtp_sink.wait_for(3)] == ["[#1] Tiskárna", "[#2] Tiskárna", "[#4] Tiskárna"]
    assert len({r.peer for r in smtp_sink.received}) == 3


async def test_a_refused_recipient_is_permanent_and_the_connection_stays(smtp_sink: SmtpSink) -> None:
    smtp_sink.refuse("gone@example.cz", 550)
    smtp_sink.refuse("full@example.cz", 452)
    smtp = Smtp(smtp_server(smtp_sink.url()))
    try:
        with pytest.raises(DeliveryError) as gone:
            await send(smtp, to="gone@example.cz")
        with pytest.raises(DeliveryError) as full:
            await send(smtp, to="full@example.cz")
        await send(smtp, to="jan@example.cz")
    finally:
        await smtp.close()
    assert gone.value.permanent and "550" in str(gone.value) and "refused the recipient" in str(gone.value)
    assert not full.value.permanent and "452" in str(full.value)
    assert len(await smtp_sink.wait_for(1)) == 1 and len(smtp_sink.logins) == 1


@pytest.mark.parametrize(("code", "permanent"), [(450, False), (451, False), (552, True), (554, True)])
async def test_a_refused_message(smtp_sink: SmtpSink, code: int, permanent: bool) -> None:
    smtp_sink.fail_next(code)
    smtp = Smtp(smtp_server(smtp_sink.url()))
    try:
        with pytest.raises(DeliveryError) as caught:
            await send(smtp)
        await send(smtp)  # the next one goes through, on the same connection
    finally:
        await smtp.close()
    assert caught.value.permanent is permanent and str(code) in str(caught.value)
    assert len(await smtp_sink.wait_for(1)) == 1 and len(smtp_sink.logins) == 1


async def test_server_down_is_transient() -> None:
    url = f"smtp://bot:{quote(SINK_PASSWORD, safe='')}@127.0.0.1:{free_port()}?starttls=no"
    smtp = Smtp(smtp_server(url), timeout=5)
    with pytest.raises(DeliveryError) as caught:
        await send(smtp)
    assert not caught.value.permanent
    assert "127.0.0.1" in str(caught.value) and "connection refused" in str(caught.value)


async def test_a_wrong_password_names_the_setting_not_the_password(
        smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture) -> None:
    wrong = "Wr0ng-Pa55"
    smtp = Smtp(smtp_server(smtp_sink.url(password=wrong)))
    with caplog.at_level(logging.ERROR, logger="adapters.email.smtp"):
        for _ in range(3):
            with pytest.raises(DeliveryError) as caught:
                await send(smtp)
            reason = str(caught.value)
            assert not caught.value.permanent  # the customer is not at fault: retried once fixed
            assert "EMAIL_SMTP_URL" in reason and "user name and password" in reason
            assert wrong not in reason and SINK_PASSWORD not in reason
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "EMAIL_SMTP_URL" in errors[0].getMessage()
    assert wrong not in caplog.text
    assert smtp_sink.logins == [(SINK_USER, False)] * 3 and smtp_sink.received == []


async def test_check(smtp_sink: SmtpSink) -> None:
    await Smtp(smtp_server(smtp_sink.url())).check()
    assert smtp_sink.logins == [(SINK_USER, True)]

    with pytest.raises(StartupError) as refused:
        await Smtp(smtp_server(smtp_sink.url(password="Wr0ng-Pa55"))).check()
    assert not isinstance(refused.value, ServiceUnreachable)
    assert "EMAIL_SMTP_URL" in str(refused.value) and "Wr0ng-Pa55" not in str(refused.value)
    assert "\n  " in str(refused.value)  # a line that says what to do

    port = free_port()
    with pytest.raises(ServiceUnreachable) as down:
        await Smtp(smtp_server(f"smtp://bot:{quote(SINK_PASSWORD, safe='')}@127.0.0.1:{port}?starttls=no")).check()
    assert str(down.value).startswith(f"SMTP server 127.0.0.1:{port} (EMAIL_SMTP_URL) cannot be reached: "
                                      "connection refused")
    assert SINK_PASSWORD not in str(down.value)


async def test_check_without_login_on_a_relay() -> None:
    async with SmtpSink() as sink:
        smtp = Smtp(smtp_server(sink.url()))
        await smtp.check()
        await send(smtp)
        await smtp.close()
        assert (await sink.wait_for(1)) and sink.received[0].login is None


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


async def test_starttls_with_a_trusted_certificate(certificate: tuple[Path, Path],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    async with SmtpSink(user="bot", password="tls-pass", tls_cert=cert, tls_key=key) as sink:
        smtp = Smtp(smtp_server(sink.url(starttls=True)))
        await smtp.check()
        await send(smtp)
        await smtp.close()
        await sink.wait_for(1)
    assert sink.received[0].tls and sink.received[0].login == "bot"


async def test_starttls_with_an_untrusted_certificate(certificate: tuple[Path, Path], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = certificate
    (tmp_path / "other").mkdir()
    other, _ = self_signed(tmp_path / "other")
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    async with SmtpSink(user="bot", password="tls-pass", tls_cert=cert, tls_key=key) as sink:
        smtp = Smtp(smtp_server(sink.url(starttls=True)))
        with pytest.raises(StartupError) as caught:
            await smtp.check()
        with pytest.raises(DeliveryError) as failed:
            await send(smtp)
    assert not isinstance(caught.value, ServiceUnreachable)
    assert "certificate" in str(caught.value) and "not trusted" in str(caught.value)
    assert "tls-pass" not in str(caught.value) and "SSL_CERT_FILE" in str(caught.value)
    assert not failed.value.permanent and "not trusted" in str(failed.value)
    assert sink.received == [] and sink.logins == []


async def test_implicit_tls_to_a_plain_port_is_refused(smtp_sink: SmtpSink) -> None:
    with pytest.raises(StartupError) as caught:
        await Smtp(smtp_server(smtp_sink.url().replace("smtp://", "smtps://").removesuffix("?starttls=no"))).check()
    assert not isinstance(caught.value, ServiceUnreachable)
    assert "TLS with the SMTP server" in str(caught.value) and "smtps://" in str(caught.value)
    assert smtp_sink.logins == []


async def test_no_starttls_offered_is_refused_beyond_loopback(smtp_sink: SmtpSink,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    server = smtp_server(smtp_sink.url(starttls=True))
    await Smtp(server).check()  # loopback: nobody on the way to overhear
    monkeypatch.setattr(MailServer, "loopback", property(lambda self: False))
    with pytest.raises(StartupError) as caught:
        await Smtp(server).check()
    assert "does not offer STARTTLS" in str(caught.value)
    assert smtp_sink.logins == [(SINK_USER, True)]  # the password was not sent the second time


async def test_close_ends_the_kept_connections(smtp_sink: SmtpSink) -> None:
    smtp = Smtp(smtp_server(smtp_sink.url()))
    await send(smtp)
    await smtp_sink.wait_for(1)
    await smtp.close()
    await send(smtp)  # still usable afterwards, without keeping the connection
    assert len({r.peer for r in smtp_sink.received}) == 2
