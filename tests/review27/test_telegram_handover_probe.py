"""Review of #27 (probe): the hand-over's questions in a Telegram desk topic take the agent's
commands as answers. Fails on b60a358."""

from __future__ import annotations

from sqlalchemy import select

from core.agents.handover import Questions, handover_form
from core.i18n import translator
from core.storage.models import HandoverRecord
from tests.adapters.telegram.conftest import Running, TgUser
from tests.adapters.telegram.desk_helpers import DESK, desk_settled, say, topic_of
from tests.adapters.telegram.test_desk_handover_e2e import CUSTOMER, OLGA, desk  # noqa: F401 - the fixture


async def test_a_command_in_the_topic_is_no_answer_to_the_hand_over(desk: Running) -> None:  # noqa: F811
    """desk_updates._on_message gives every text of the asked agent in the topic to the questions
    before looking at commands: `/note …` (or `/status 1001 resolved`) becomes "What was checked",
    is escalated to L3 and posted to the L3 group. Only /cancel is meant to act there."""
    api = desk.api
    await TgUser(desk, CUSTOMER, "cs").intake("Nelze se přihlásit", "Od rána chyba 500.")
    thread = await topic_of(desk, 1001)
    await say(desk, OLGA, "/escalate", thread)
    await say(desk, OLGA, "/escalate", thread)
    asking = Questions(handover_form(translator("en"), 1001, 3, "/"))
    await api.wait_for(lambda: any(asking.question() in m.get("text", "")
                                   for m in api.topic_messages(DESK, thread)), timeout=10)
    await say(desk, OLGA, "/note ask the database team first", thread)
    await say(desk, OLGA, "Log in as jana@example.cz", thread)
    await say(desk, OLGA, "That a specialist looks today", thread)
    await desk_settled(desk)
    async with desk.desk.db.read() as session:
        checked = list((await session.execute(select(HandoverRecord.checked))).scalars())
    assert not any(c.startswith("/note") for c in checked), checked
