"""The hand-over an agent writes when passing a ticket to the top support level (L3).

The Russian seed's handbook asks second-line agents to document every detail in the ticket and
to tell the user transparently what is being done when a problem cannot be solved at once; the
hand-over keeps exactly that with the escalation: what was checked, how to reproduce the
problem, and what the customer was told.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.model import TIERS

FIELDS = ("checked", "reproduce", "told")
FIELD_MAX = 2000  # characters per field (a Slack multiline input holds at most 3000)


@dataclass(frozen=True, slots=True)
class Handover:
    checked: str  # what the agent checked or tried already
    reproduce: str  # how to reproduce the problem
    told: str  # what the customer has been told

    def values(self) -> dict[str, str]:
        return {"checked": self.checked, "reproduce": self.reproduce, "told": self.told}


def required(current_tier: int) -> bool:
    """Whether an agent's escalation from `current_tier` needs a hand-over: the step to the top
    level. The SLA's own escalation and a customer's request never carry one."""
    return current_tier + 1 == TIERS[-1]
