"""The hand-over to L3 on the agents' side: its form in the agent's language, the one-line
syntax, the questions a chat desk asks one after another, and how desks word it.

`escalate 1042` (or the card's button) on a ticket at L2 answers with a `HandoverForm`; each desk
asks for its fields its own way (a Slack modal; the console and a chat topic one question after
another) and runs `Escalate` again with the `Handover`. Typed in one line anywhere:
`escalate 1042 checked: … | reproduce: … | told: …`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.domain.handover import FIELD_MAX, FIELDS, Handover
from core.i18n import Translator, translator

# "| told:" ends the field before it; a "|" anywhere else is the field's own text.
_KEYS = re.compile(r"(?:^|\|)\s*(checked|reproduce|told)\s*:", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FormField:
    key: str  # one of core.domain.handover.FIELDS
    label: str
    hint: str


@dataclass(frozen=True, slots=True)
class HandoverForm:
    """Escalating ticket `number` to `tier` needs a hand-over: the fields to ask for, in the
    agent's language; `typed` is the one-line form as typed on this desk."""

    number: int
    tier: int
    title: str
    intro: str
    fields: tuple[FormField, ...]
    submit: str
    cancel: str
    typed: str
    how: str  # a sentence that gives `typed`, for a desk that shows the form as text
    locale: str = "en"  # the language of its texts

    def filled(self, answers: tuple[str, ...]) -> str:
        """`typed` with the answers given so far in its fields (… where none is yet): ready to retype."""
        head = self.typed.partition(" checked:")[0]
        values = [*answers, *["…"] * (len(self.fields) - len(answers))]
        pairs = zip(self.fields, values, strict=True)
        return f"{head} " + " | ".join(f"{field.key}: {value}" for field, value in pairs)


def handover_form(t: Translator, number: int, tier: int, prefix: str) -> HandoverForm:
    return HandoverForm(
        number, tier, t._("Hand-over to L{tier}", tier=tier),
        t._("Ticket {ticket} goes to L{tier}. Tell the specialists what they need to take it on; you stay "
            "the customer's contact.", ticket=t.ticket(number), tier=tier),
        field_labels(t), t._("Escalate"), t._("Cancel"),
        (typed := f"{prefix}escalate {number} checked: … | reproduce: … | told: …"),
        t._("Write the hand-over in one line: {example}", example=typed), t.locale)


def field_labels(t: Translator) -> tuple[FormField, ...]:
    return (
        FormField("checked", t._("What was checked"), t._("What you checked or tried already, and what it showed.")),
        FormField("reproduce", t._("How to reproduce"),
                  t._("The steps that show the problem, with the account, device or version.")),
        FormField("told", t._("What the customer was told"),
                  t._("What the customer has heard from us so far, and anything promised.")),
    )


def parse_handover(text: str) -> Handover | str | None:
    """The hand-over typed after `escalate 1042`: None when the text is no hand-over (a reason),
    the key of the first field missing or empty when it is incomplete."""
    found = list(_KEYS.finditer(text))
    if not found or found[0].start() != 0 and text[:found[0].start()].strip():
        return None
    values: dict[str, str] = {}
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        values.setdefault(match.group(1).lower(), text[match.end():end].strip())
    missing = next((key for key in FIELDS if not values.get(key)), None)
    return missing if missing is not None else Handover(values["checked"], values["reproduce"], values["told"])


def problems(t: Translator, values: dict[str, str]) -> dict[str, str]:
    """What is wrong with each field, by key: empty, or too long."""
    wrong = {}
    for field in field_labels(t):
        value = (values.get(field.key) or "").strip()
        if not value:
            wrong[field.key] = t._("Fill in “{field}”.", field=field.label)
        elif len(value) > FIELD_MAX:
            wrong[field.key] = t._("“{field}” takes at most {limit} characters.", field=field.label,
                                   limit=t.number(FIELD_MAX))
    return wrong


def lines(t: Translator, values: dict[str, str]) -> list[str]:
    """The hand-over's fields as labelled lines, for a desk's thread, the L3 place and `show`."""
    return [f"{field.label}: {values.get(field.key, '')}" for field in field_labels(t)]


def missing(t: Translator, key: str, example: str) -> str:
    """A one-line hand-over without one of its fields."""
    label = next(f.label for f in field_labels(t) if f.key == key)
    return t._("The hand-over needs “{field}” too. Write it like this: {example}", field=label, example=example)


@dataclass(frozen=True, slots=True)
class Questions:
    """The hand-over asked one field after another (the console, a chat desk's topic)."""

    form: HandoverForm
    answers: tuple[str, ...] = ()

    def question(self) -> str:
        field = self.form.fields[len(self.answers)]
        t = translator(self.form.locale)
        return f"({t.number(len(self.answers) + 1)}/{t.number(len(self.form.fields))}) {field.label}: {field.hint}"

    def start(self, t: Translator, cancel: str) -> str:
        """The form's intro and its first question; `cancel` is how this desk's agent cancels."""
        return "\n".join([self.form.intro, t._("Answer three questions; {cancel} or an empty first answer "
                                               "cancels.", cancel=cancel), self.question()])

    def answered(self, text: str) -> Questions:
        return Questions(self.form, (*self.answers, text.strip()))

    def handover(self) -> Handover | None:
        """The hand-over once every field is answered."""
        if len(self.answers) < len(self.form.fields):
            return None
        return Handover(*self.answers)


def step(t: Translator, asking: Questions, text: str) -> tuple[Questions | None, str, Handover | None]:
    """One answer: the questions still asked (None when done or cancelled), what to say, and the
    hand-over once complete. `cancel`, `/cancel` or an empty first answer cancels."""
    text = text.strip()
    form = asking.form
    if text.lower() in ("cancel", "/cancel") or (not text and not asking.answers):
        return None, cancelled(t, form.number, form.tier), None
    field = form.fields[len(asking.answers)]
    wrong = problems(t, {field.key: text}).get(field.key)
    if wrong:
        return asking, f"{wrong}\n{asking.question()}", None
    asking = asking.answered(text)
    done = asking.handover()
    return (None, "", done) if done is not None else (asking, asking.question(), None)


def commanded(text: str) -> bool:
    """Whether a line typed while the questions are asked is a command of its own, which leaves
    them (and then runs) rather than answering: any but cancel."""
    text = text.strip().lower()
    return text.startswith("/") and text.split()[0] != "/cancel"


def left(t: Translator, asking: Questions) -> str:
    """Said when another command leaves the questions: nothing escalated, the answers kept to retype."""
    form = asking.form
    return t._("The hand-over was left unfinished: ticket {ticket} stays at L{tier}. To escalate it later, "
               "write: {example}", ticket=t.ticket(form.number), tier=form.tier - 1,
               example=form.filled(asking.answers))


def typed_back(t: Translator, form: HandoverForm, handover: Handover) -> str:
    """Added to a refusal of the escalation after the last answer, so that nothing typed is lost."""
    values = handover.values()
    return t._("Your hand-over, to send again in one line: {example}",
               example=form.filled(tuple(values[field.key] for field in form.fields)))


def cancelled(t: Translator, number: int, tier: int) -> str:
    return t._("Escalation cancelled: ticket {ticket} stays at L{tier}.", ticket=t.ticket(number), tier=tier - 1)
