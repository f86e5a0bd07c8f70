"""The agents' core: one interpreter of agent actions for every desk.

A desk (a chat channel of agents, a terminal) parses its own shapes (a command line, a button)
into an `Action`, hands it to `AgentDesk.run` with the agent's `AgentIdentity`, and renders the
`Result` it gets back: text in the agent's language, or lists and ticket views as data.
"""

from core.agents.actions import (
    Action,
    AgentIdentity,
    ArticleSearch,
    Assign,
    Claim,
    Escalate,
    HelpRequest,
    Incomplete,
    Mine,
    Org,
    Post,
    Queue,
    ReportRequest,
    SendArticle,
    SetPriority,
    SetStatus,
    Show,
    TimeLog,
    TimeMenu,
    TimeSkip,
    button,
    decode,
    parse,
)
from core.agents.interpreter import AgentDesk, Directory
from core.agents.results import (
    ArticleList,
    ArticleRow,
    Details,
    Done,
    Help,
    Offer,
    Pick,
    Refused,
    ReportView,
    Result,
    ThreadLine,
    TicketList,
    TicketRow,
    TicketView,
    as_text,
)

__all__ = [
    "Action", "AgentDesk", "AgentIdentity", "ArticleList", "ArticleRow", "ArticleSearch", "Assign", "Claim",
    "Details", "Directory", "Done", "Escalate", "Help", "HelpRequest", "Incomplete", "Mine", "Org", "Post", "Queue",
    "Refused", "ReportRequest", "ReportView", "Result", "SendArticle", "SetPriority", "SetStatus", "Show", "ThreadLine",
    "TicketList", "TicketRow", "TicketView", "TimeLog", "TimeMenu", "TimeSkip", "Offer", "Pick", "as_text",
    "button", "decode", "parse",
]
