"""The knowledge base: articles written by the team, one Markdown file per article and language
(`<folder>/<language>/<slug>.md`), searched in the customer's language before a ticket is opened
(core.chat) and sent by agents into a ticket's conversation (core.agents)."""

from __future__ import annotations

from core.knowledge.articles import Article, KnowledgeBase

__all__ = ["Article", "KnowledgeBase"]
