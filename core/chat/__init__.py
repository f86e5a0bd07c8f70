"""The customer conversation: one platform-neutral entry point for every adapter.

`Conversation.handle(Inbound) -> list[Reply]`; see engine.py and the state diagram in the
README.
"""

from core.chat.engine import Conversation
from core.chat.messages import Choice, Inbound, Reply

__all__ = ["Choice", "Conversation", "Inbound", "Reply"]
