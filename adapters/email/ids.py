"""Our Message-IDs: each names its ticket and is signed with the installation's key.

A reply finds its ticket from In-Reply-To or References alone, and a forged id (a made-up
bounce naming somebody's ticket, a stranger's In-Reply-To) is told from ours by its signature.
A ticket's first mail has a fixed id (`thread`), which every later mail refers to, so that mail
programs keep them in one thread. A quote's mail names the quote too: a bare "1" answers the
quote that the mail it replies to showed, never a newer one the customer has not seen.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from secrets import token_hex

KEY_NAME = "email-message-ids"  # the install key (core.storage.keys) that signs them
_OURS = re.compile(r"hd\.(\d+)\.(t|(?:q(\d{1,18})-)?[0-9a-f]{12})\.([0-9a-f]{16})@(.+)", re.IGNORECASE)


class MessageIds:
    def __init__(self, domain: str, key: bytes) -> None:
        self.domain = domain.lower()
        self._key = key

    def new(self, number: int | None, quote: int | None = None) -> str:
        """A new id, unique, naming its ticket (0 for none) and the quote the mail shows, if any."""
        return self._make(number or 0, (f"q{quote}-" if quote is not None else "") + token_hex(6))

    def thread(self, number: int) -> str:
        """The id of a ticket's first mail (its acknowledgement), the same every time."""
        return self._make(number, "t")

    def ticket_of(self, message_id: str) -> int | None:
        """The ticket an id of ours names; None for anybody else's, a forged one, or ours about
        no ticket."""
        found = self._read(message_id)
        return (found[0] or None) if found is not None else None

    def quote_of(self, message_id: str) -> int | None:
        """The quote an id of ours names: that of a mail that showed a quote's Approve and Decline."""
        found = self._read(message_id)
        return found[1] if found is not None else None

    def ours(self, message_id: str) -> bool:
        return self._read(message_id) is not None

    def _make(self, number: int, nonce: str) -> str:
        return f"<hd.{number}.{nonce}.{self._sign(number, nonce)}@{self.domain}>"

    def _read(self, message_id: str) -> tuple[int, int | None] | None:
        """The ticket and the quote a signed id of ours names."""
        found = _OURS.fullmatch(message_id.strip().removeprefix("<").removesuffix(">"))
        if found is None or found.group(5).lower() != self.domain:
            return None
        number, nonce = int(found.group(1)), found.group(2).lower()
        if not hmac.compare_digest(self._sign(number, nonce), found.group(4).lower()):
            return None
        return number, int(found.group(3)) if found.group(3) else None

    def _sign(self, number: int, nonce: str) -> str:
        return hmac.new(self._key, f"{number}.{nonce}".encode(), hashlib.sha256).hexdigest()[:16]
