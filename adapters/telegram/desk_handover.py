"""The hand-over to L3 in a desk group's ticket topic: the Escalate button (or `/escalate` in
the topic) at L2 asks its three questions there, and the agent's next messages in that topic are
the answers (core.agents.handover); a command other than /cancel leaves them and runs. What is
being asked is kept in memory per topic and agent, for a while: a restart or a long pause
forgets it, and the agent starts again."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from telegram import Message

from adapters.telegram.commands import result_html, result_replies
from core.agents import Action, AgentIdentity, Done, Escalate, Refused, Result
from core.agents.handover import HandoverForm, Questions, left, step, typed_back
from core.chat.messages import Reply
from core.i18n import translator

ASK_SECONDS = 900.0  # how long the questions wait for the next answer
Key = tuple[int, int, str]  # the group, the topic, the agent


def handover_key(message: Message, user_id: str) -> Key:
    return (message.chat_id, message.message_thread_id or 0, user_id)


class PendingHandovers:
    def __init__(self) -> None:
        self.asking: dict[Key, tuple[float, Questions]] = {}

    def start(self, key: Key, form: HandoverForm) -> Questions:
        self.asking[key] = (time.monotonic(), Questions(form))
        return self.asking[key][1]

    def get(self, key: Key) -> Questions | None:
        """The questions being asked there, unless they waited too long."""
        now = time.monotonic()
        for old in [k for k, (at, _) in self.asking.items() if now - at > ASK_SECONDS]:
            del self.asking[old]
        found = self.asking.get(key)
        return found[1] if found else None

    def keep(self, key: Key, asking: Questions | None) -> None:
        """The questions after an answer: still asking (the wait starts again), or done."""
        if asking is None:
            self.asking.pop(key, None)
        else:
            self.asking[key] = (time.monotonic(), asking)

    def leave(self, key: Key, asking: Questions, locale: str) -> str:
        """Another command was sent there: the questions are left, and this is said."""
        self.keep(key, None)
        return left(translator(locale), asking)

    def ask(self, key: Key, form: HandoverForm, locale: str) -> list[Reply]:
        """The first question, asked in the topic."""
        asking = self.start(key, form)
        return [Reply(part, locale=locale) for part in result_html(Done(asking.start(translator(locale), "/cancel")))]

    def answering(self, key: Key, who: AgentIdentity, answer: str,
                  run: Callable[[Action], Awaitable[Result]]) -> Callable[[], Awaitable[list[Reply]]]:
        """The work of one answer: the next question, or the escalation (`run`) after the last."""
        t = translator(who.locale)

        async def work() -> list[Reply]:
            asking = self.get(key)
            if asking is None:  # pragma: no cover - it timed out between the two looks
                return []
            left, said, handover = step(t, asking, answer)
            self.keep(key, left)
            if handover is None:
                return [Reply(part, locale=t.locale) for part in result_html(Done(said))]
            result = await run(Escalate(asking.form.number, "", handover))
            if isinstance(result, Refused):  # escalated meanwhile, say: the answers are not lost
                result = Refused(f"{result.text}\n{typed_back(t, asking.form, handover)}")
            return result_replies(result, who.locale)

        return work
