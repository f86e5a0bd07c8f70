"""Our Message-IDs: each names its ticket and is signed with the installation's key.

A reply finds its ticket from In-Reply-To or References alone, and a forged id (a made-up
bounce naming somebody's ticket, a stranger's In-Reply-To) is told from ours by its signature.
A ticket's first mail has a fixed id (`thread`), which every later mail refers to, so that mail
programs keep them in one thread.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from secrets import token_hex

KEY_NAME = "email-message-ids"  # the install key (core.storage.keys) that signs them
_OURS = re.compile(r"hd\.(\d+)\.(t|[0-9a-f]{12})\.([0-9a-f]{16})@(.+)", re.IGNORECASE)


class MessageIds:
    def __init__(self, domain: str, key: bytes) -> None:
        self.domain = domain.lower()
        self._key = key

    def new(self, number: int | None) -> str:
        """A new id, unique, naming its ticket (0 for none)."""
        return self._make(number or 0, token_hex(6))

    def thread(self, number: int) -> str:
        """The id of a ticket's first mail (its acknowledgement), the same every time."""
        return self._make(number, "t")

    def ticket_of(self, message_id: str) -> int | None:
        """The ticket an id of ours names; None for anybody else's, a forged one, or ours about
        no ticket."""
        found = self._read(message_id)
        return found or None

    def ours(self, message_id: str) -> bool:
        return self._read(message_id) is not None

    def _make(self, number: int, nonce: str) -> str:
        return f"<hd.{number}.{nonce}.{self._sign(number, nonce)}@{self.domain}>"

    def _read(self, message_id: str) -> int | None:
        found = _OURS.fullmatch(message_id.strip().removeprefix("<").removesuffix(">"))
        if found is None or found.group(4).lower() != self.domain:
            return None
        number, nonce = int(found.group(1)), found.group(2).lower()
        if not hmac.compare_digest(self._sign(number, nonce), found.group(3).lower()):
            return None
        return number

    def _sign(self, number: int, nonce: str) -> str:
        return hmac.new(self._key, f"{number}.{nonce}".encode(), hashlib.sha256).hexdigest()[:16]
