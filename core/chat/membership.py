"""`/organisation`: a customer proves a work address with a code mailed to it, and so joins the
organisation the address belongs to (core.services.verification); with an address proven, it
shows the address and the organisation, with "Use another address" and "Remove my address".

States: `org_address` (the address is asked for), `org_code` (the code is asked for; the
address it went to in the data). The code itself is never kept, shown, nor logged here: it
goes out in the mail alone, and the customer's typed guess is handed to the service.
"""

from __future__ import annotations

from core.chat import actions as act
from core.chat.drafts import DraftState
from core.chat.flows import Flows, cancel_row
from core.chat.messages import Choice, Reply
from core.chat.views import customer_zone
from core.domain import access
from core.domain.config import HelpdeskConfig
from core.domain.textnorm import normalize
from core.i18n import Translator
from core.services import Services
from core.services.verification import CODE_VALID, VerificationRefused
from core.storage.models import Customer

ADDRESS, CODE = "org_address", "org_code"
STATES = frozenset({ADDRESS, CODE})
CODE_DIGITS = 4


def code_mail(t: Translator, code: str) -> Reply:
    """The mail that carries a code, in the customer's language."""
    minutes = int(CODE_VALID.total_seconds() // 60)
    return Reply("\n\n".join([
        t._("Your confirmation code: {code}", code=code),
        t.ngettext("Type it in your chat with our support to confirm this address. It is valid for {n} minute.",
                   "Type it in your chat with our support to confirm this address. It is valid for {n} minutes.",
                   minutes),
        t._("If you did not ask for this code, you can ignore this message: nothing changes without it."),
    ]), locale=t.locale)


class Membership:
    def __init__(self, services: Services, flows: Flows, config: HelpdeskConfig) -> None:
        self.services = services
        self.flows = flows
        self.config = config

    async def command(self, customer: Customer, t: Translator, draft: DraftState | None, args: str) -> list[Reply]:
        """`/organisation`, perhaps with an address: `/organisation name@firma.cz`."""
        if not self.services.verification.available:
            return [Reply(t._("Addresses cannot be confirmed in this chat. Our team can add your work address "
                              "to your organisation: just ask us in a ticket."), locale=t.locale)]
        if args:
            return await self.send(customer, t, draft, args)
        if customer.address:
            return [await self.shown(customer, t)]
        return await self.ask_address(customer, t, draft)

    async def ask_address(self, customer: Customer, t: Translator, draft: DraftState | None) -> list[Reply]:
        await self.flows.interrupt(customer, draft, ADDRESS, {})
        return [self.address_prompt(t)]

    def address_prompt(self, t: Translator) -> Reply:
        return Reply(t._("Please type your work mail address. We will send a code to it, and once you type "
                         "the code here, you join your organisation."), cancel_row(t), t.locale, expects_text=True)

    def code_prompt(self, t: Translator, address: str) -> Reply:
        minutes = int(CODE_VALID.total_seconds() // 60)
        return Reply("\n".join([
            t._("We have sent a code to {address}.", address=address),
            t.ngettext("Please type its four digits here. It is valid for {n} minute.",
                       "Please type its four digits here. It is valid for {n} minutes.", minutes),
        ]), ((Choice(act.SendCode().encode(), t._("Send a new code")), Choice(act.Cancel().encode(), t._("Cancel"))),),
            t.locale, expects_text=True)

    async def send(self, customer: Customer, t: Translator, draft: DraftState | None, typed: str) -> list[Reply]:
        """A code to the typed address."""
        try:
            address = await self.services.verification.send_code(customer.id, typed, lambda code: code_mail(t, code))
        except VerificationRefused as exc:
            return await self.refused(customer, t, draft, exc)
        await self.flows.interrupt(customer, draft, CODE, {"address": address})
        return [self.code_prompt(t, address)]

    async def on_text(self, customer: Customer, t: Translator, draft: DraftState, text: str) -> list[Reply]:
        if draft.state == ADDRESS or "@" in text:  # an address, or another one instead of the code
            return await self.send(customer, t, draft, text)
        code = "".join(normalize(text).split())
        if not (code.isascii() and code.isdigit() and len(code) == CODE_DIGITS):  # not a guess: not counted
            return [Reply(t._("The code is the four digits in the mail we sent you."), locale=t.locale),
                    self.code_prompt(t, draft.data.get("address", ""))]
        try:
            proven = await self.services.verification.confirm(customer.id, code)
        except VerificationRefused as exc:
            return await self.refused(customer, t, draft, exc)
        await self.flows.resume(customer, dict(draft.data))
        customer.address = proven.address
        said = t._("Thank you! Your address {address} is confirmed.", address=proven.address)
        if proven.organisation is None:
            return [Reply("\n".join([said, t._(
                "It belongs to no organisation we know. Your tickets from this address are now together here: "
                "/tickets lists them.")]), locale=t.locale)]
        return [Reply("\n".join([said, t._("You are now a member of {organisation}.", organisation=proven.organisation),
                                 await self.sharing(customer, t)]), locale=t.locale)]

    async def on_action(self, customer: Customer, t: Translator, draft: DraftState | None,
                        action: act.Action) -> list[Reply]:
        match action:
            case act.SendCode() if draft is not None and draft.state == CODE and draft.data.get("address"):
                return await self.send(customer, t, draft, draft.data["address"])
            case act.ForgetAddress():
                await self.services.verification.forget_address(customer.id)
                customer.address = customer.organisation_id = customer.organisation_role = None
                return [Reply(t._("Done: your address is no longer linked to this chat, nor is an organisation. "
                                  "Your tickets stay as they are."), locale=t.locale)]
        return await self.ask_address(customer, t, draft)

    async def shown(self, customer: Customer, t: Translator) -> Reply:
        lines = [t._("Your confirmed address: {address}", address=customer.address)]
        org = await self.services.organisations.of_customer(customer.id)
        if org is None:
            lines.append(t._("It belongs to no organisation we know."))
        else:
            lines += [t._("Your organisation: {organisation}", organisation=org.name), await self.sharing(customer, t)]
        return Reply("\n".join(lines), ((Choice(act.OtherAddress().encode(), t._("Use another address")),),
                                        (Choice(act.ForgetAddress().encode(), t._("Remove my address")),)), t.locale)

    async def sharing(self, customer: Customer, t: Translator) -> str:
        """What the customer's organisation lets them see of their colleagues' tickets."""
        org = await self.services.organisations.of_customer(customer.id)
        if org is None:
            return ""
        if await self.services.queries.sees_colleagues(customer.id):
            if org.replies:
                return t._("You can see your colleagues' tickets and write to them: /tickets lists them.")
            return t._("You can see your colleagues' tickets: /tickets lists them.")
        if org.sharing == access.Sharing.PRIMARY:
            return t._("Its primary contacts see all of its tickets; you see your own.")
        return t._("Everyone in it sees their own tickets only.")

    async def refused(self, customer: Customer, t: Translator, draft: DraftState | None,
                      exc: VerificationRefused) -> list[Reply]:
        """A refusal explained, and the question that comes next."""
        p = exc.params
        zone = customer_zone(self.config, t, customer, self.config.departments[0].code)
        data = dict(draft.data) if draft is not None and draft.state in STATES else {}
        match exc.code:
            case "bad_address":
                await self.flows.interrupt(customer, draft, ADDRESS, {})
                return [Reply(t._("“{address}” does not look like a mail address. Please check it and type it "
                                  "again.", address=str(p.get("address", ""))[:100]), cancel_row(t), t.locale,
                              expects_text=True)]
            case "wrong_code":
                left = int(p["left"])
                return [Reply(t.ngettext("That code is not right. You can try {n} more time.",
                                         "That code is not right. You can try {n} more times.", left),
                              ((Choice(act.SendCode().encode(), t._("Send a new code")),
                                Choice(act.Cancel().encode(), t._("Cancel"))),), t.locale, expects_text=True)]
            case "code_expired":
                return [Reply(t._("This code has expired. Shall we send a new one to {address}?",
                                  address=p["address"]),
                              ((Choice(act.SendCode().encode(), t._("Send a new code")),
                                Choice(act.Cancel().encode(), t._("Cancel"))),), t.locale)]
            case "verification_locked":
                await self.flows.resume(customer, data)
                return [Reply(t._("That was the wrong code too many times. For your security, you can try again "
                                  "after {when}.", when=t.datetime(p["until"], zone)), locale=t.locale)]
            case "too_many_codes":  # nothing to type until then: the conversation goes on as before
                await self.flows.resume(customer, data)
                return [Reply(t._("We have sent as many codes as we may for now. You can ask for a new one after "
                                  "{when}.", when=t.datetime(p["until"], zone)), locale=t.locale)]
            case "no_code":
                await self.flows.resume(customer, data)
                return [Reply(t._("No code is waiting for you any more. Send /organisation to ask for a new one."),
                              locale=t.locale)]
        return [Reply(t._("Addresses cannot be confirmed in this chat. Our team can add your work address "
                          "to your organisation: just ask us in a ticket."), locale=t.locale)]
