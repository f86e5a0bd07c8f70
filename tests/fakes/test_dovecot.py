"""Tests for the Dovecot test server, and the aioimaplib calls the e-mail channel is built on.

The aioimaplib tests at the end double as the reference for those calls: aioimaplib has no
STARTTLS command of its own, so ``starttls`` below shows the upgrade with asyncio's start_tls.
"""

from __future__ import annotations

import asyncio
import imaplib
import ssl
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import aioimaplib
import pytest

from . import dovecot
from .dovecot import HOST, Dovecot, live_processes, require_dovecot

# 8-bit text in three scripts, a folded header, a long line and a base64 part: all must survive.
RAW = (
    b"From: =?utf-8?q?Jana_Nov=C3=A1kov=C3=A1?= <jana@example.cz>\r\n"
    b"To: support@example.com\r\n"
    b"Subject: Nefunguje =?utf-8?q?p=C5=99ihl=C3=A1=C5=A1en=C3=AD?=\r\n"
    b"References: <a@example.cz>\r\n <b@example.cz>\r\n"
    b"Message-ID: <c@example.cz>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b1"\r\n'
    b"\r\n"
    b"--b1\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    + "Dobrý den, nejde mi přihlášení. سلام، ورود کار نمی‌کند. Не работает вход.\r\n".encode()
    + b"x" * 900 + b"\r\n"
    b"--b1\r\n"
    b"Content-Type: application/octet-stream; name=a.bin\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"AAECA/8=\r\n"
    b"--b1--\r\n"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Dovecot]:
    require_dovecot()
    with Dovecot(tmp_path) as started:
        yield started


def trusting(server: Dovecot) -> ssl.SSLContext:
    """A client context that trusts only the test server's certificate (and checks its name)."""
    assert server.cert is not None
    return ssl.create_default_context(cafile=str(server.cert))


# -- the server ----------------------------------------------------------------------------


def test_start_and_stop_leave_no_process(tmp_path: Path) -> None:
    require_dovecot()
    server = Dovecot(tmp_path)
    began = time.perf_counter()
    server.start()
    started_in = time.perf_counter() - began
    pgid = server.pid
    assert pgid is not None
    # A logged-in client has a mail process of its own: it must go too.
    client = imaplib.IMAP4(HOST, server.port, timeout=10)
    client.login(server.user, server.password)
    running = live_processes(pgid)
    server.stop()
    server.stop()
    client.shutdown()

    assert len(running) >= 3, running  # master, its helpers, the login and mail processes
    assert live_processes(pgid) == set()
    assert server.pid is None
    print(f"\ndovecot start: {started_in * 1000:.0f} ms")


def test_a_stopped_server_starts_again_with_its_mail(server: Dovecot) -> None:
    server.append(b"Subject: kept\r\n\r\nhi\r\n")
    server.stop()
    server.start()
    assert [raw for _, _, raw in server.messages()] == [b"Subject: kept\r\n\r\nhi\r\n"]


def test_an_appended_mail_keeps_its_bytes_and_flags(server: Dovecot) -> None:
    with server.session() as conn:
        assert conn.create("Quarantine")[0] == "OK"
    server.append(RAW)
    server.append(b"Subject: seen\r\n\r\nold\r\n", folder="Quarantine", flags="\\Seen \\Flagged")

    assert server.messages() == [(1, set(), RAW)]
    assert server.messages("Quarantine") == [(1, {"\\Seen", "\\Flagged"}, b"Subject: seen\r\n\r\nold\r\n")]
    assert sorted(server.folders()) == ["INBOX", "Quarantine"]
    assert (server.unseen(), server.unseen("Quarantine")) == (1, 0)
    assert server.messages() == [(1, set(), RAW)], "reading a mail must not mark it seen"


def test_login_with_the_odd_password_over_starttls(server: Dovecot) -> None:
    conn = imaplib.IMAP4(HOST, server.port, timeout=10)
    try:
        assert "STARTTLS" in conn.capabilities
        conn.starttls(ssl_context=trusting(server))
        assert conn.login(server.user, server.password)[0] == "OK"
        assert conn.select("INBOX")[0] == "OK"
    finally:
        conn.shutdown()


def test_login_over_implicit_tls(server: Dovecot) -> None:
    assert server.ssl_port is not None
    conn = imaplib.IMAP4_SSL(HOST, server.ssl_port, ssl_context=trusting(server), timeout=10)
    try:
        assert conn.login(server.user, server.password)[0] == "OK"
    finally:
        conn.shutdown()


def test_a_wrong_password_is_refused(server: Dovecot) -> None:
    conn = imaplib.IMAP4(HOST, server.port, timeout=10)
    try:
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            conn.login(server.user, server.password + "x")
    finally:
        conn.shutdown()


def test_idle_is_offered_before_and_after_login(server: Dovecot) -> None:
    conn = imaplib.IMAP4(HOST, server.port, timeout=10)
    try:
        assert "IDLE" in conn.capabilities
        conn.login(server.user, server.password)
        typ, data = conn.capability()
        assert "IDLE" in data[0].decode().split()
    finally:
        conn.shutdown()


def test_url_names_the_mailbox_with_user_and_password_encoded(server: Dovecot) -> None:
    url = urllib.parse.urlsplit(server.url())
    assert (url.scheme, url.hostname, url.port, url.path, url.query) == ("imap", HOST, server.port, "/INBOX", "")
    assert urllib.parse.unquote(url.username or "") == "support@example.com"
    assert urllib.parse.unquote(url.password or "") == "s3cret pass%word"
    assert "s3cret pass" not in server.url()
    assert urllib.parse.urlsplit(server.url(starttls=False)).query == "starttls=no"
    imaps = urllib.parse.urlsplit(server.url(scheme="imaps", folder="Support Desk"))
    assert (imaps.scheme, imaps.port, imaps.path) == ("imaps", server.ssl_port, "/Support%20Desk")


def test_without_tls_no_starttls_and_no_imaps(tmp_path: Path) -> None:
    require_dovecot()
    with Dovecot(tmp_path, tls=False) as server:
        assert (server.ssl_port, server.cert) == (None, None)
        conn = imaplib.IMAP4(HOST, server.port, timeout=10)
        try:
            assert "STARTTLS" not in conn.capabilities
            assert conn.login(server.user, server.password)[0] == "OK"
        finally:
            conn.shutdown()
        with pytest.raises(ValueError):
            server.url(scheme="imaps")


def test_without_dovecot_tests_skip_with_the_reason_and_fail_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dovecot, "DOVECOT", "/nonexistent/dovecot")
    dovecot.missing_reason.cache_clear()
    try:
        monkeypatch.delenv("CI", raising=False)
        with pytest.raises(pytest.skip.Exception, match="apt-get install dovecot-imapd"):
            require_dovecot()
        monkeypatch.setenv("CI", "true")
        with pytest.raises(pytest.fail.Exception, match="CI must run the e-mail tests: Dovecot is not installed"):
            require_dovecot()
    finally:
        dovecot.missing_reason.cache_clear()


# -- aioimaplib against it: the calls the e-mail channel makes -----------------------------


async def starttls(client: aioimaplib.IMAP4, context: ssl.SSLContext) -> None:
    """Upgrade a plain aioimaplib connection with STARTTLS (aioimaplib knows the command, not the upgrade)."""
    protocol = client.protocol
    response = await protocol.execute(aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop))
    if response.result != "OK":
        raise aioimaplib.Abort(f"STARTTLS refused: {response.lines}")
    protocol.transport = await protocol.loop.start_tls(
        protocol.transport, protocol, context, server_hostname=client.host,
    )
    # Capabilities read before TLS cannot be trusted (RFC 3501 6.2.1): ask again.
    await protocol.capability()


async def connect_starttls(server: Dovecot) -> aioimaplib.IMAP4:
    client = aioimaplib.IMAP4(host=HOST, port=server.port, timeout=10)
    await client.wait_hello_from_server()
    assert "STARTTLS" in client.protocol.capabilities
    await starttls(client, trusting(server))
    assert "STARTTLS" not in client.protocol.capabilities
    response = await client.login(server.user, server.password)
    assert response.result == "OK", response
    return client


async def test_aioimaplib_in_idle_hears_of_a_mail_appended_elsewhere(server: Dovecot) -> None:
    client = await connect_starttls(server)
    try:
        assert client.has_capability("IDLE")
        selected = await client.select("INBOX")
        assert selected.result == "OK" and b"0 EXISTS" in selected.lines

        idle = await client.idle_start(timeout=60)
        # Another connection delivers a mail; Dovecot pushes it to the idling client by itself.
        await asyncio.to_thread(server.append, RAW)
        push = await client.wait_server_push(timeout=10)
        client.idle_done()
        done = await asyncio.wait_for(idle, 10)

        assert b"1 EXISTS" in push, push
        assert done.result == "OK"
    finally:
        await client.logout()


async def test_aioimaplib_reads_marks_and_moves_mail(server: Dovecot) -> None:
    server.append(RAW)
    server.append(b"Subject: broken\r\n\r\n\xff\xfe\r\n")
    server.append(b"Subject: third\r\n\r\nx\r\n")
    assert server.ssl_port is not None
    client = aioimaplib.IMAP4_SSL(host=HOST, port=server.ssl_port, timeout=10, ssl_context=trusting(server))
    await client.wait_hello_from_server()
    await client.login(server.user, server.password)
    try:
        await client.select("INBOX")
        unseen = await client.uid_search("UNSEEN")
        assert unseen.result == "OK" and unseen.lines[0] == b"1 2 3"

        # The literal comes back as its own line (a bytearray) between the FETCH line and b")".
        fetched = await client.uid("fetch", "1", "(UID FLAGS BODY.PEEK[])")
        assert fetched.result == "OK"
        assert fetched.lines[0].startswith(b"1 FETCH (UID 1 FLAGS (")
        assert fetched.lines[0].endswith(b"BODY[] {%d}" % len(RAW))
        assert bytes(fetched.lines[1]) == RAW and fetched.lines[2] == b")"

        stored = await client.uid("store", "1", "+FLAGS.SILENT", r"(\Seen)")
        assert stored.result == "OK"

        created = await client.create("Quarantine")
        assert created.result == "OK"
        again = await client.create("Quarantine")
        assert again.result == "NO" and b"ALREADYEXISTS" in again.lines[0]

        assert client.has_capability("MOVE")
        moved = await client.uid("move", "2", "Quarantine")
        assert moved.result == "OK"

        # Without MOVE: copy, flag \Deleted, expunge just that uid (UIDPLUS).
        copied = await client.uid("copy", "3", "Quarantine")
        assert copied.result == "OK"
        await client.uid("store", "3", "+FLAGS.SILENT", r"(\Deleted)")
        expunged = await client.uid("expunge", "3")
        assert expunged.result == "OK"
    finally:
        await client.logout()

    assert server.messages() == [(1, {"\\Seen"}, RAW)]
    assert [raw for _, _, raw in server.messages("Quarantine")] == [
        b"Subject: broken\r\n\r\n\xff\xfe\r\n", b"Subject: third\r\n\r\nx\r\n",
    ]
    assert server.unseen() == 0
