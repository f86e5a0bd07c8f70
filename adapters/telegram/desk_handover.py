"""The hand-over to L3 in a desk group's ticket topic: the Escalate button (or `/escalate` in
the topic) at L2 asks its three questions there, and the agent's next messages in that topic are
the answers (core.agents.handover). What is being asked is kept in memory per topic and agent,
for a while: a restart or a long pause forgets it, and the agent starts again."""

from __future__ import annotations

import time

from core.agents.handover import HandoverForm, Questions

ASK_SECONDS = 900.0  # how long the questions wait for the next answer
Key = tuple[int, int, str]  # the group, the topic, the agent


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
