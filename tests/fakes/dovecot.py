"""A real Dovecot IMAP server on 127.0.0.1 for the e-mail tests, configured in a folder of its own.

``Dovecot(root)`` writes a Dovecot 2.3 configuration, a passwd-file with one user and (with
``tls``) a self-signed certificate under ``root``, and runs ``dovecot -F -c <conf>`` in the
foreground on free ports: ``port`` speaks plain IMAP and offers STARTTLS, ``ssl_port`` is
implicit TLS. Nothing outside ``root`` is read or written, so it runs beside a system Dovecot.

Usage::

    server = Dovecot(tmp_path)
    server.start()
    try:
        server.append(b"From: a@example.com\\r\\nSubject: hi\\r\\n\\r\\nhello\\r\\n")
        settings_url = server.url()          # imap://support%40example.com:...@127.0.0.1:N/INBOX
        ...
        assert server.messages()[0][1] == {"\\\\Seen"}
    finally:
        server.stop()

The synchronous helpers (``append``, ``folders``, ``messages``, ``unseen``, and ``session`` for
anything else) use imaplib over a plain loopback connection; they are for test set-up and checks,
never for the code under test.
An APPEND wakes a client waiting in IDLE by itself (Dovecot watches the maildir), so tests need
no extra nudge.

Dovecot's rules when started as root, which the configuration follows:
* the login processes refuse to run as root ("This process must not be run as root"), so they
  run as ``nobody``;
* a mail process refuses uid 0 ("userdb returned 0 as uid"), so the mailbox belongs to
  ``nobody`` too, and the mail process is chrooted into ``root/mail`` (the ``/./`` in the home):
  pytest's temporary folders sit under a directory only root may enter.
As any other user everything runs as that user, without chroot.
"""

from __future__ import annotations

import functools
import grp
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
INSTALL_HINT = "Dovecot is not installed: apt-get install dovecot-imapd"
HOST = "127.0.0.1"
# The unprivileged account that login and mail processes use when the tests run as root.
UNPRIVILEGED = "nobody"

_FETCH_UID = re.compile(rb"UID (\d+)")
_FETCH_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")
_LIST_LINE = re.compile(rb'\((?P<attrs>[^)]*)\) (?:"[^"]*"|NIL) (?P<name>.+)$')
_STATUS_UNSEEN = re.compile(rb"UNSEEN (\d+)")


@functools.cache
def missing_reason() -> str | None:
    """Why Dovecot cannot run here, or None when it can."""
    if not os.access(DOVECOT, os.X_OK):
        return INSTALL_HINT
    if shutil.which("openssl") is None:
        return "openssl is not installed (the test server's certificate is made with it): apt-get install openssl"
    try:
        version = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{DOVECOT} --version failed: {exc}"
    # Dovecot 2.4 renamed many settings; the configuration below is written for 2.3.
    if not version.startswith("2.3."):
        return f"Dovecot {version or '(unknown version)'} found; the test configuration needs 2.3"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(UNPRIVILEGED)
        except KeyError:
            return f"running as root, Dovecot needs an unprivileged user {UNPRIVILEGED!r}, which does not exist"
    return None


def require_dovecot() -> None:
    """Skip the calling test when Dovecot cannot run here, with the reason; fail it instead in CI."""
    reason = missing_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the e-mail tests: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """A port nobody listens on right now (another process may still take it before we do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Dovecot:
    """One Dovecot instance with one passwd-file user; see the module docstring."""

    start_timeout = 10.0
    # How long Dovecot's processes get to stop before they are killed (they normally need far less).
    stop_timeout = 1.0
    start_attempts = 5

    def __init__(self, root: Path, *, user: str = "support@example.com", password: str = "s3cret pass%word",
                 tls: bool = True) -> None:
        # The passwd-file is colon-separated, one user a line.
        for value in (user, password):
            if any(c in value for c in ":\r\n\0"):
                raise ValueError("user and password may not contain ':', CR, LF or NUL")
        self.root = Path(root).resolve()
        self.user = user
        self.password = password
        self.tls = tls
        self.port = 0
        self.ssl_port: int | None = None
        self.cert: Path | None = None
        self.key: Path | None = None
        self.conf = self.root / "dovecot.conf"
        self.log = self.root / "dovecot.log"
        self._stderr = self.root / "dovecot.stderr"
        self._process: subprocess.Popen[bytes] | None = None

    # -- process ---------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The master process's id while the server runs (its children share its process group)."""
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Write the configuration and start Dovecot; return once it greets on ``port``."""
        if self._process is not None:
            raise RuntimeError("Dovecot is already running")
        self._prepare()
        for _attempt in range(self.start_attempts):
            self.port = free_port()
            self.ssl_port = free_port() if self.tls else None
            self.conf.write_text(self._config())
            self.log.unlink(missing_ok=True)
            with self._stderr.open("wb") as stderr:
                self._process = subprocess.Popen(
                    [DOVECOT, "-F", "-c", str(self.conf)], stdin=subprocess.DEVNULL, stdout=stderr,
                    stderr=stderr, start_new_session=True,
                )
            try:
                ready = self._wait_ready()
            except BaseException:
                self.stop()
                raise
            if ready:
                return
            output = self._output()
            self.stop()
            # Another process took a port between free_port() and Dovecot's bind: try new ones.
            if "Address already in use" not in output:
                raise RuntimeError(f"Dovecot did not start:\n{output}")
        raise RuntimeError(f"Dovecot found no free port in {self.start_attempts} attempts")

    def stop(self) -> None:
        """Stop the server and every process it started; safe to call twice."""
        process, self._process = self._process, None
        if process is None:
            return
        # Dovecot's children share the master's process group (start_new_session): signalling the
        # group stops them all at once, where the master alone would stop them one by one.
        pgid = process.pid
        _signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while process.poll() is None and live_processes(pgid) - {pgid} and time.monotonic() < deadline:
            time.sleep(0.01)
        # Left now: a master still waiting, on a timer, for goodbyes from children already gone, or
        # a child that missed the signal (anvil blocked in a read just after start does). Nothing
        # on disk depends on them: kill them.
        _signal_group(pgid, signal.SIGKILL)
        process.wait()
        if not _group_gone(pgid, 10):
            raise RuntimeError(f"Dovecot processes {sorted(live_processes(pgid))} outlived SIGKILL")

    def __enter__(self) -> Dovecot:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_ready(self) -> bool:
        """True once the IMAP greeting arrives, False if Dovecot exits first."""
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                # The master binds the port before the login process is up: wait for the greeting.
                with socket.create_connection((HOST, self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        return True
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"Dovecot did not answer on port {self.port} in {self.start_timeout} s:\n{self._output()}")

    def _output(self) -> str:
        parts = [p.read_text(errors="replace") for p in (self._stderr, self.log) if p.exists()]
        return "\n".join(parts).strip()

    # -- configuration ---------------------------------------------------------------------

    def _prepare(self) -> None:
        # state_dir holds only the master's registry of instances, whose lock a killed master
        # leaves behind (the next master would wait for it): start each run without it.
        shutil.rmtree(self.root / "state", ignore_errors=True)
        for name in ("run", "state", "mail"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        (self.root / "passwd").chmod(0o600)
        home = self.root / "mail" / self.user
        home.mkdir(exist_ok=True)
        uid, gid = self._mail_owner()
        if os.geteuid() == 0:
            for path in (self.root / "mail", home):
                os.chown(path, uid, gid)
        if self.tls:
            self.cert, self.key = self.root / "cert.pem", self.root / "key.pem"
            cert, key = _certificate()
            self.cert.write_bytes(cert)
            self.key.write_bytes(key)
            self.key.chmod(0o600)

    @staticmethod
    def _mail_owner() -> tuple[int, int]:
        if os.geteuid() == 0:
            account = pwd.getpwnam(UNPRIVILEGED)
            return account.pw_uid, account.pw_gid
        return os.geteuid(), os.getegid()

    def _config(self) -> str:
        root = self.root
        me = pwd.getpwuid(os.geteuid()).pw_name
        my_group = grp.getgrgid(os.getegid()).gr_name
        uid, gid = self._mail_owner()
        as_root = os.geteuid() == 0
        if as_root:
            # "/./" marks the chroot: the mail process sees only root/mail.
            home = f"{root}/mail/./%u"
            chroot = f"valid_chroot_dirs = {root}/mail\n"
            no_chroot = ""
        else:
            home = f"{root}/mail/%u"
            chroot = ""
            # Only root may chroot, and Dovecot's defaults chroot anvil and imap-login.
            no_chroot = "\n  chroot ="
        if self.tls:
            assert self.cert is not None and self.key is not None
            ssl = f"ssl = yes\nssl_cert = <{self.cert}\nssl_key = <{self.key}\nssl_min_protocol = TLSv1.2\n"
            imaps = f"address = {HOST}\n    port = {self.ssl_port}\n    ssl = yes"
        else:
            ssl = "ssl = no\n"
            # Dovecot's built-in imaps listener would take port 993: switch it off.
            imaps = "port = 0"
        return f"""\
# Written by tests/fakes/dovecot.py for one test server; everything stays under {root}.
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
default_internal_user = {me}
default_internal_group = {my_group}
default_login_user = {UNPRIVILEGED if as_root else me}
first_valid_uid = 1
{chroot}protocols = imap
listen = {HOST}
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain login
# Tests try wrong passwords on purpose: no two-second delay, no penalty slowing later logins.
auth_failure_delay = 0
service anvil {{{no_chroot}
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={home}
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Quarantine {{
    auto = no
  }}
}}
service imap-login {{{no_chroot}
  inet_listener imap {{
    address = {HOST}
    port = {self.port}
  }}
  inet_listener imaps {{
    {imaps}
  }}
}}
"""

    # -- addresses -------------------------------------------------------------------------

    def url(self, *, scheme: str = "imap", folder: str = "INBOX", starttls: bool = True) -> str:
        """The mailbox as the bot's EMAIL_IMAP_URL setting names it, user and password percent-encoded."""
        if scheme == "imap":
            port = self.port
        elif scheme == "imaps":
            if self.ssl_port is None:
                raise ValueError("this server was started without TLS")
            port = self.ssl_port
        else:
            raise ValueError(f"unknown scheme {scheme!r}")
        quote = urllib.parse.quote
        url = f"{scheme}://{quote(self.user, safe='')}:{quote(self.password, safe='')}@{HOST}:{port}/{quote(folder)}"
        return url if starttls or scheme == "imaps" else url + "?starttls=no"

    # -- synchronous helpers for tests -----------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[imaplib.IMAP4]:
        """A logged-in imaplib connection (plain, on loopback)."""
        conn = imaplib.IMAP4(HOST, self.port, timeout=10)
        try:
            conn.login(self.user, self.password)
            yield conn
        finally:
            try:
                conn.logout()
            except (imaplib.IMAP4.error, OSError):
                pass

    def append(self, raw: bytes, folder: str = "INBOX", flags: str = "") -> None:
        """Put one mail into ``folder``, as a mail delivery would; ``flags`` such as ``"\\\\Seen"``.

        Lines end in CRLF on the wire: imaplib turns bare LFs into CRLF, and so does Dovecot on fetch.
        """
        with self.session() as conn:
            typ, data = conn.append(_mailbox(folder), f"({flags})" if flags else None, None, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND to {folder} failed: {data!r}")

    def folders(self) -> list[str]:
        """The names of every folder, INBOX included."""
        with self.session() as conn:
            typ, data = conn.list()
        names = []
        for line in data:
            match = _LIST_LINE.match(line) if isinstance(line, bytes) else None
            if match:
                names.append(_unquote(match["name"].decode()))
        return names

    def messages(self, folder: str = "INBOX") -> list[tuple[int, set[str], bytes]]:
        """Every mail in ``folder`` as (uid, flags without \\Recent, raw bytes), oldest first; sets no flag."""
        with self.session() as conn:
            typ, data = conn.select(_mailbox(folder), readonly=True)
            if typ != "OK":
                raise RuntimeError(f"SELECT {folder} failed: {data!r}")
            typ, data = conn.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
        result = []
        # imaplib gives (b'N FETCH (UID u FLAGS (...) BODY[] {size}', raw) followed by b')'.
        for i, item in enumerate(data):
            if not isinstance(item, tuple):
                continue
            head, raw = item
            after = data[i + 1] if i + 1 < len(data) and isinstance(data[i + 1], bytes) else b""
            uid = _FETCH_UID.search(head)
            flags = _FETCH_FLAGS.search(head) or _FETCH_FLAGS.search(after)
            if uid is None:
                raise RuntimeError(f"FETCH answer without a UID: {head!r}")
            names = set(flags[1].decode().split()) if flags else set()
            # \Recent only says which session saw the mail first (IMAP4rev2 dropped it): noise here.
            result.append((int(uid[1]), names - {"\\Recent"}, raw))
        return sorted(result, key=lambda m: m[0])

    def unseen(self, folder: str = "INBOX") -> int:
        """How many mails in ``folder`` lack the \\Seen flag."""
        with self.session() as conn:
            typ, data = conn.status(_mailbox(folder), "(UNSEEN)")
        match = _STATUS_UNSEEN.search(data[0]) if typ == "OK" and isinstance(data[0], bytes) else None
        if match is None:
            raise RuntimeError(f"STATUS {folder} failed: {data!r}")
        return int(match[1])


@functools.cache
def _certificate() -> tuple[bytes, bytes]:
    """A self-signed certificate for localhost and 127.0.0.1 and its key, made once a process (RSA keys are slow)."""
    with tempfile.TemporaryDirectory() as folder:
        cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-days", "2",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True, timeout=60,
        )
        return cert.read_bytes(), key.read_bytes()


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def live_processes(pgid: int) -> set[int]:
    """The running processes of a process group, read from /proc (zombies left out: they wait for init)."""
    members = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The fields after the command name, which is in parentheses and may hold anything.
        state, _ppid, group = stat[stat.rindex(")") + 2:].split()[:3]
        if int(group) == pgid and state != "Z":
            members.add(int(entry))
    return members


def _group_gone(pgid: int, timeout: float) -> bool:
    """Wait until no process of the group runs; False on time-out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not live_processes(pgid):
            return True
        time.sleep(0.01)
    return False


def _mailbox(name: str) -> str:
    """A folder name as an IMAP astring (imaplib sends mailbox names as given)."""
    if re.fullmatch(r"[A-Za-z0-9_./+-]+", name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return re.sub(r"\\(.)", r"\1", name[1:-1])
    return name
