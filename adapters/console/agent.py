"""`/agent ...` in the console: the agent's side of the desk, for trying the whole loop.

The commands are the agents' core's own (core.agents): this module only names the console's
one agent and prints the results as plain text. A question the core answers with buttons
elsewhere (the time spent on a ticket just resolved) is asked here as a line to type; a
hand-over to L3 (`/agent escalate 1042` at L2) one question after another: the next lines are
its answers, but for a command (other than /cancel), which leaves the questions and runs.
"""

from __future__ import annotations

from core.agents import Action, AgentDesk, AgentIdentity, Escalate, Offer, Refused, Result, TimeLog, as_text, parse
from core.agents.handover import HandoverForm, Questions, commanded, left, step, typed_back
from core.domain.timelog import parse_duration
from core.i18n import translator
from core.services import Services

AGENT_ID = "console-agent"
PREFIX = "/agent "
EXAMPLE = "25m"
CANCEL = "/cancel"


class ConsoleDirectory:
    """The console has one agent, the person at the terminal; nobody else can be named."""

    async def is_agent(self, user_id: str) -> bool:
        return True

    async def lookup(self, ref: str) -> AgentIdentity | None:
        return None


class AgentConsole:
    def __init__(self, services: Services) -> None:
        self.agents = AgentDesk(services)
        self.directory = ConsoleDirectory()
        self.asked: Offer | None = None  # the question the next line answers (a duration, or Enter)
        self.questions: Questions | None = None  # the hand-over being asked for, if any

    @property
    def asking(self) -> bool:
        return self.asked is not None or self.questions is not None

    def takes(self, line: str) -> bool:
        """Whether the line answers what is asked: any line but a command; a hand-over's `/cancel` too."""
        if self.questions is not None:
            return not commanded(line)
        return not line.strip().startswith("/")

    def forget(self, locale: str) -> str:
        """Another command was typed: the question is left unanswered (nothing is logged or
        escalated); what to say of a hand-over left so."""
        self.asked = None
        asking, self.questions = self.questions, None
        return left(translator(locale), asking) if asking is not None else ""

    def who(self, locale: str) -> AgentIdentity:
        return AgentIdentity("console", AGENT_ID, "Console agent", locale)

    async def handle(self, line: str, locale: str) -> str:
        """One `/agent` line, answered in `locale`: the console user's language, whichever side
        of the desk they are playing."""
        self.asked = None
        return self._shown(await self._run(parse(line), locale), locale)

    async def answer(self, line: str, locale: str) -> str:
        """The line typed after a question: the next answer of a hand-over (the last one
        escalates), or the time spent, a duration or nothing to skip."""
        if self.questions is not None:
            return await self._hand_over(line, locale)
        asked, self.asked = self.asked, None
        if asked is None or asked.skip is None:
            return ""
        typed = line.strip()
        if not typed:
            return self._shown(await self._run(asked.skip.action, locale), locale)
        minutes = parse_duration(typed)
        if minutes is None:  # asked again
            self.asked = asked
            t = translator(locale)
            return "\n".join([t._("“{given}” is not a duration. Write it as 25m, 1h30, 1:30 or in minutes (90).",
                                  given=typed), self._question(asked, locale)])
        return self._shown(await self._run(TimeLog("log", asked.number, minutes), locale), locale)

    async def _hand_over(self, line: str, locale: str) -> str:
        assert self.questions is not None
        form = self.questions.form
        self.questions, said, handover = step(translator(locale), self.questions, line)
        if handover is None:
            return said
        result = await self._run(Escalate(form.number, "", handover), locale)
        if isinstance(result, Refused):  # escalated meanwhile, say: the answers are not lost
            result = Refused(f"{result.text}\n{typed_back(translator(locale), form, handover)}")
        return self._shown(result, locale)

    async def _run(self, action: Action, locale: str) -> Result:
        return await self.agents.run(self.who(locale), action, self.directory, prefix=PREFIX)

    def _shown(self, result: Result, locale: str) -> str:
        if isinstance(result, HandoverForm):
            self.questions = Questions(result)
            return self.questions.start(translator(locale), CANCEL)
        if isinstance(result, Offer) and result.duration and result.skip is not None:
            self.asked = result
            return "\n".join([*([result.done] if result.done else []), self._question(result, locale)])
        return as_text(result)

    @staticmethod
    def _question(asked: Offer, locale: str) -> str:
        t = translator(locale)
        return f"{asked.question} " + t._("({example}, Enter to skip)", example=EXAMPLE)
