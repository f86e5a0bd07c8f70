"""The mail servers named by EMAIL_IMAP_URL and EMAIL_SMTP_URL, read once at start-up.

A URL carries a password: it is kept out of the server's repr and out of every message about
the URL, which names the setting and the expected form instead of quoting what was given.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from core.domain.config import ConfigError

DEFAULT_PORTS = {"imaps": 993, "imap": 143, "smtps": 465, "smtp": 587}
_FORMS = {
    "EMAIL_IMAP_URL": "imaps://user:password@host:993/INBOX (or imap://user:password@host:143/INBOX with STARTTLS)",
    "EMAIL_SMTP_URL": "smtps://user:password@host:465 (or smtp://user:password@host:587 with STARTTLS)",
}


@dataclass(frozen=True, slots=True)
class MailServer:
    """Where to connect and as whom. A plain imap:// or smtp:// upgrades with STARTTLS; a
    client refuses to go on without it unless the host is loopback (`starttls` False: do not
    even try, allowed for loopback hosts only)."""

    scheme: str
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    folder: str
    implicit_tls: bool
    starttls: bool = True

    @property
    def loopback(self) -> bool:
        """The connection never leaves this machine: plain text cannot be read on the way."""
        if self.host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def address(self) -> str:
        """host:port, for messages."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def safe(self) -> str:
        """The URL without its password, for logs and errors."""
        user = f"{self.user}@" if self.user else ""
        folder = f"/{self.folder}" if self.folder else ""
        return f"{self.scheme}://{user}{self.address}{folder}"


def imap_server(url: str) -> MailServer:
    """The IMAP server of EMAIL_IMAP_URL (ConfigError naming the setting otherwise)."""
    return _parse(url, "EMAIL_IMAP_URL", ("imaps", "imap"))


def smtp_server(url: str) -> MailServer:
    """The SMTP server of EMAIL_SMTP_URL (ConfigError naming the setting otherwise)."""
    return _parse(url, "EMAIL_SMTP_URL", ("smtps", "smtp"))


def _parse(url: str, setting: str, schemes: tuple[str, str]) -> MailServer:
    def wrong(problem: str) -> ConfigError:
        # Nothing of the URL itself: a mistyped one may hold the password anywhere.
        return ConfigError(f"{setting} {problem}", f"It must look like {_FORMS[setting]}.")

    if not url.strip():
        raise wrong("is empty")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
        host = parts.hostname or ""
    except ValueError:
        raise wrong("cannot be read (a port that is no number? a password with / ? # in it must be "
                    "percent-encoded)") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise wrong(f"must start with {schemes[0]}:// or {schemes[1]}://")
    if not host:
        raise wrong("names no host")
    if port == 0:
        raise wrong("names port 0")
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    imap = scheme.startswith("imap")
    if imap and not (user and password):
        raise wrong("must carry the mailbox's user name and password")
    if bool(user) != bool(password):
        raise wrong("must carry both a user name and a password, or neither")
    path = unquote(parts.path).strip("/")
    if not imap and path:
        raise wrong("must not have a path")
    if parts.fragment:
        raise wrong("must not have a # part (a password with # in it must be percent-encoded as %23)")
    starttls = True
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key != "starttls" or value.lower() not in ("yes", "no"):
            raise wrong("understands only the query ?starttls=no")
        starttls = value.lower() == "yes"
    server = MailServer(scheme=scheme, host=host, port=port or DEFAULT_PORTS[scheme], user=user,
                        password=password, folder=(path or "INBOX") if imap else "",
                        implicit_tls=scheme.endswith("s"), starttls=starttls)
    if not starttls and (server.implicit_tls or not server.loopback):
        raise wrong("may say ?starttls=no only with a plain "
                    f"{schemes[1]}:// to a loopback host (127.0.0.1, ::1, localhost)")
    return server
