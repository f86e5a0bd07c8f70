"""The customer conversation: one platform-neutral entry point for every adapter.

`Conversation.handle(Inbound) -> list[Reply]`. engine.py dispatches, actions.py encodes and
decodes the button keys, form.py is the ticket form as a table of steps (intake.py walks it), flows.py the flows around
tickets, drafts.py the state kept between events. The form's state diagram is in
docs/how-it-works.md.
"""

from core.chat.engine import Conversation
from core.chat.messages import Choice, Inbound, Reply

__all__ = ["Choice", "Conversation", "Inbound", "Reply"]
