"""EMAIL_IMAP_URL and EMAIL_SMTP_URL read into servers, and refused with a message that names the
setting, shows the expected form and never the password."""

from __future__ import annotations

import pytest

from adapters.email.urls import MailServer, imap_server, smtp_server
from core.domain.config import ConfigError

SECRET = "Sup3r-Secr3t"


@pytest.mark.parametrize(("url", "expected"), [
    ("imaps://bot:pw@mail.example.com/INBOX", ("imaps", "mail.example.com", 993, "INBOX", True, True)),
    ("imaps://bot:pw@mail.example.com", ("imaps", "mail.example.com", 993, "INBOX", True, True)),
    ("imap://bot:pw@mail.example.com:1143/Support/New", ("imap", "mail.example.com", 1143, "Support/New", False, True)),
    ("IMAPS://bot:pw@Mail.Example.com:993/", ("imaps", "mail.example.com", 993, "INBOX", True, True)),
    ("imap://bot:pw@127.0.0.1:1430/INBOX?starttls=no", ("imap", "127.0.0.1", 1430, "INBOX", False, False)),
    ("imap://bot:pw@[::1]:1430/INBOX?starttls=no", ("imap", "::1", 1430, "INBOX", False, False)),
])
def test_imap_urls(url: str, expected: tuple[object, ...]) -> None:
    s = imap_server(url)
    assert (s.scheme, s.host, s.port, s.folder, s.implicit_tls, s.starttls) == expected
    assert (s.user, s.password) == ("bot", "pw")


@pytest.mark.parametrize(("url", "expected"), [
    ("smtps://bot:pw@smtp.example.com", ("smtps", "smtp.example.com", 465, True, True)),
    ("smtp://bot:pw@smtp.example.com", ("smtp", "smtp.example.com", 587, False, True)),
    ("smtp://bot:pw@smtp.example.com:2525/", ("smtp", "smtp.example.com", 2525, False, True)),
    ("smtp://localhost:25?starttls=no", ("smtp", "localhost", 25, False, False)),
])
def test_smtp_urls(url: str, expected: tuple[object, ...]) -> None:
    s = smtp_server(url)
    assert (s.scheme, s.host, s.port, s.implicit_tls, s.starttls) == expected
    assert s.folder == ""


def test_user_and_password_are_unquoted() -> None:
    s = imap_server("imaps://support%40example.com:p%40ss%3Aw%2Frd%23%3F@imap.example.com/Help%20desk")
    assert (s.user, s.password, s.folder) == ("support@example.com", "p@ss:w/rd#?", "Help desk")
    # An @ left unencoded in the password still reads: the host is after the last one.
    assert imap_server("imaps://bot:a@b@imap.example.com").password == "a@b"


def test_no_login_is_allowed_for_smtp_only() -> None:
    assert smtp_server("smtp://relay.example.com").user == ""
    with pytest.raises(ConfigError, match="EMAIL_IMAP_URL must carry"):
        imap_server("imaps://imap.example.com/INBOX")


def test_safe_form_and_repr_hide_the_password() -> None:
    s = imap_server(f"imaps://support%40example.com:{SECRET}@imap.example.com:993/INBOX")
    assert s.safe() == "imaps://support@example.com@imap.example.com:993/INBOX"
    assert smtp_server(f"smtp://bot:{SECRET}@[::1]:2525?starttls=no").safe() == "smtp://bot@[::1]:2525"
    assert SECRET not in repr(s) and SECRET not in str(s) and SECRET not in s.safe()
    assert s.password == SECRET


def test_loopback() -> None:
    def server(host: str) -> MailServer:
        return MailServer("smtp", host, 25, "", "", "", implicit_tls=False)
    assert [server(h).loopback for h in ("127.0.0.1", "127.1.2.3", "::1", "LOCALHOST")] == [True] * 4
    assert [server(h).loopback for h in ("10.0.0.1", "smtp.example.com", "localhost.example.com")] == [False] * 3


@pytest.mark.parametrize(("parse", "url", "problem"), [
    (imap_server, "", "EMAIL_IMAP_URL is empty"),
    (imap_server, f"https://bot:{SECRET}@imap.example.com", "EMAIL_IMAP_URL must start with imaps:// or imap://"),
    (imap_server, f"smtps://bot:{SECRET}@imap.example.com", "must start with imaps://"),
    (smtp_server, f"imaps://bot:{SECRET}@smtp.example.com", "EMAIL_SMTP_URL must start with smtps:// or smtp://"),
    (imap_server, f"imaps://bot:{SECRET}@/INBOX", "names no host"),
    (imap_server, f"imaps://bot:{SECRET}@imap.example.com:99999/INBOX", "cannot be read"),
    (imap_server, f"imaps://bot:{SECRET}@imap.example.com:0/INBOX", "port 0"),
    (imap_server, f"imaps://bot:{SECRET}@imap.example.com:imap/INBOX", "cannot be read"),
    (imap_server, "imaps://bot@imap.example.com/INBOX", "must carry the mailbox's user name and password"),
    (smtp_server, "smtp://bot@smtp.example.com", "both a user name and a password"),
    (smtp_server, f"smtp://bot:{SECRET}@smtp.example.com/somewhere", "must not have a path"),
    # A password with # or / left unencoded: cut in two, its parts must not show in the message.
    (imap_server, f"imaps://bot:{SECRET[:4]}#{SECRET[4:]}@imap.example.com/INBOX", "cannot be read"),
    (smtp_server, f"smtp://bot:{SECRET[:4]}/{SECRET[4:]}@smtp.example.com", "cannot be read"),
    (smtp_server, f"smtp://bot:1234#{SECRET}@smtp.example.com", "must not have a # part"),
    (smtp_server, f"smtp://bot:{SECRET}@smtp.example.com?tls=off", "understands only the query ?starttls=no"),
    (smtp_server, f"smtp://bot:{SECRET}@smtp.example.com?starttls=no", "loopback host"),
    (smtp_server, f"smtps://bot:{SECRET}@127.0.0.1?starttls=no", "only with a plain smtp://"),
    (imap_server, f"imap://bot:{SECRET}@imap.example.com/INBOX?starttls=no", "loopback host"),
])
def test_bad_urls_are_refused_without_the_password(parse: object, url: str, problem: str) -> None:
    assert callable(parse)
    with pytest.raises(ConfigError) as caught:
        parse(url)
    text = str(caught.value)
    assert problem in text
    assert "must look like" in text and ("imaps://user:password@host:993/INBOX" in text
                                         or "smtps://user:password@host:465" in text)
    for piece in (SECRET, SECRET[:4], SECRET[4:]):
        assert piece not in text
