"""Property-based tests of the conversation core: random texts, buttons (stale and forged
ones included), files, commands and restarts never raise, never leave a draft in an impossible
state, and always answer in the customer's language."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.chat import Conversation, Inbound
from core.chat import form as steps
from core.chat.drafts import DraftStore
from core.chat.engine import LANGUAGE, LINK, PICK, RATE_COMMENT, REPLY, WITHDRAW
from core.delivery.attachments import AttachmentStore, IncomingFile
from core.domain.config import load_config
from core.services import Services
from core.storage.db import Database
from tests.conftest import FakeClock

CONFIG = load_config()
KEYS = ["lang:cs", "lang:fa", "nav:back", "nav:cancel", "new", "resume:continue", "resume:restart",
        "list:all", "list:open", "t:1001", "t:1002", "reply:1001", "confirm:1001", "dispute:1001",
        "withdraw:1001", "withdraw_yes:1001", "withdraw_no", "pick:1001", "pick:new", "link:1001",
        "dup:new", "dup:add:1001", "att:done", "rev:submit", "rev:edit:subject", "rev:edit:request_type",
        "rate:1001:5", "rate:1001:9", "rate_done", "escalate:1001", "tz:Asia/Tehran", "tz:Nowhere/Bogus", "tz:",
        "x" * 64, "",
        *(f"dep:{d.code}" for d in CONFIG.departments), *(f"rt:{r.code}" for r in CONFIG.request_types),
        *(f"pri:{p.code}" for p in CONFIG.priorities)]
COMMANDS = ["/start", "/new", "/tickets", "/tickets open", "/ticket 1001", "/ticket ۱۰۰۱", "/reply 1001",
            "/confirm 1001", "/notsolved 1001", "/withdraw 1001", "/escalate 1001", "/language", "/timezone",
            "/timezone Praha", "/timezone ?!", "/help",
            "/cancel", "/back", "/nonsense"]
FILES = [("shot.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40), ("evil.pdf", b"MZ\x90\x00" + b"\x00" * 40),
         ("../../etc/passwd", b"root:x:0:0\n"), ("empty.txt", b"")]

action = st.one_of(
    st.tuples(st.just("text"), st.text(min_size=0, max_size=300)),
    st.tuples(st.just("text"), st.sampled_from(["Login fails", "Nelze se přihlásit", "\u202e<b>x</b> <!channel>",
                                                 "x" * 5000, "1", "2", "3"])),
    st.tuples(st.just("press"), st.sampled_from(KEYS)),
    st.tuples(st.just("command"), st.sampled_from(COMMANDS)),
    st.tuples(st.just("file"), st.sampled_from(range(len(FILES)))),
    st.tuples(st.just("restart"), st.just(None)),
    st.tuples(st.just("wait"), st.sampled_from([1, 30, 60 * 25])),
)
KNOWN_STATES = steps.STATES | {LANGUAGE, REPLY, PICK, LINK, WITHDRAW, RATE_COMMENT, "resume"}
REQUIRED = {steps.REVIEW: ("department", "request_type", "subject", "priority", "description"),
            steps.PRIORITY: ("department", "request_type", "subject"),
            steps.SUBJECT: ("department", "request_type"), steps.REQUEST_TYPE: ("department",)}


async def _scenario(actions: list[tuple[str, object]], language_code: str, template: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copyfile(template, Path(tmp) / "p.db")  # migrated once per run (tests/conftest.py)
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'p.db'}")
        clock = FakeClock()

        def build() -> Conversation:
            tickets = Services.build(db, CONFIG, clock)
            return Conversation(tickets, DraftStore(db, clock), AttachmentStore(Path(tmp) / "files"), CONFIG,
                                clock=clock)

        conversation = build()
        chosen: str | None = None
        try:
            for kind, value in actions:
                event = None
                if kind == "text":
                    event = Inbound("telegram", "7", "7", "P", language_code, text=str(value))
                elif kind == "command":
                    event = Inbound("telegram", "7", "7", "P", language_code, text=str(value))
                elif kind == "press":
                    event = Inbound("telegram", "7", "7", "P", language_code, choice=str(value))
                elif kind == "file":
                    name, data = FILES[int(value)]  # type: ignore[call-overload]

                    async def fetch(data: bytes = data) -> bytes:
                        return data

                    event = Inbound("telegram", "7", "7", "P", language_code,
                                    file=IncomingFile(name, len(data), fetch))
                elif kind == "restart":
                    conversation = build()
                elif kind == "wait":
                    clock.advance(minutes=int(value))  # type: ignore[call-overload]
                if event is None:
                    continue
                if kind == "press" and str(value).startswith("lang:") and str(value)[5:] in ("cs", "fa"):
                    chosen = str(value)[5:]
                replies = await conversation.handle(event)
                assert replies, f"no answer to {kind} {value!r}"
                customer = await conversation.services.customers.customer("telegram", "7", "7")
                expected = customer.locale or chosen or (language_code if language_code in ("cs", "fa", "ru") else "en")
                assert {r.locale for r in replies} == {expected}, (kind, value, [r.text[:40] for r in replies])
                for reply in replies:
                    assert all(1 <= len(c.key.encode()) <= 64 for c in reply.flat_choices)
                draft = await conversation.drafts.get(customer.id)
                if draft is not None:
                    assert draft.state in KNOWN_STATES, draft.state
                    for field in REQUIRED.get(draft.state, ()):
                        assert draft.data.get(field), (draft.state, field, draft.data)
        finally:
            await db.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=st.lists(action, min_size=1, max_size=25), language_code=st.sampled_from(["cs", "fa", "ru", None]))
def test_any_sequence_is_handled(actions: list[tuple[str, object]], language_code: str | None,
                                 sqlite_template: Path) -> None:
    asyncio.run(_scenario(actions, language_code or "xx", sqlite_template))
