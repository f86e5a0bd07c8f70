"""Quoted history and signatures stripped from replies, in the mail programs of every language."""

from __future__ import annotations

import pytest

from adapters.email.reply import reply_text

QUOTE = "> Dobrý den,\n> zkuste se prosím odhlásit a znovu přihlásit.\n>\n> Podpora\n"

HISTORIES = {
    "gmail en": "On Mon, 5 Dec 2026 at 10:00, Support <support@example.com> wrote:\n",
    "gmail en wrapped": "On Mon, 5 Dec 2026 at 10:00, Help Desk of Example Company <\nsupport@example.com> wrote:\n",
    "gmail cs": "Dne 5. 12. 2026 v 10:00 Podpora <support@example.com> napsal(a):\n",
    "gmail ru": "5 дек. 2026 г., в 10:00, Поддержка <support@example.com>:\n",
    "thunderbird ru": "05.12.2026 10:00, Поддержка пишет:\n",
    "gmail pt": "Em seg., 5 de dez. de 2026 às 10:00, Suporte <support@example.com> escreveu:\n",
    "gmail fa": "در تاریخ دوشنبه ۵ دسامبر ۲۰۲۶، ساعت ۱۰:۰۰ پشتیبانی <support@example.com> نوشت:\n",
    "outlook separator": "-----Original Message-----\nFrom: Support <support@example.com>\nSent: Monday\n",
    "outlook en": "From: Support <support@example.com>\nSent: Monday, December 5, 2026 10:00 AM\nTo: Jan\n",
    "outlook ru": "От: Support <support@example.com>\nОтправлено: 5 декабря 2026 г. 10:00\nКому: Иван\n",
    "outlook pt": "De: Suporte <support@example.com>\nEnviado: segunda-feira, 5 de dezembro de 2026 10:00\nPara: Ana\n",
    "outlook cs": "Od: Podpora <support@example.com>\nOdesláno: pondělí 5. prosince 2026 10:00\nKomu: Jan\n",
}


@pytest.mark.parametrize("history", HISTORIES.values(), ids=HISTORIES.keys())
def test_history_is_stripped(history: str) -> None:
    text = f"Pořád to nejde, píše to chybu 403.\n\n{history}{QUOTE}"
    assert reply_text(text) == "Pořád to nejde, píše to chybu 403."


def test_quoted_lines_and_signature_go() -> None:
    text = "I agree, please close it.\n\n> Shall we close the ticket?\n> Support\n\n-- \nJan Novák\nACME s.r.o.\n"
    assert reply_text(text) == "I agree, please close it."


def test_closing_words_keep_what_follows_on_their_line() -> None:
    # "Thanks," starts a signature for the library; here it starts the customer's complaint.
    text = "Hello,\nThanks, but it still fails with error 500 when I press Save on the invoice form.\n"
    assert "error 500" in reply_text(text)
    assert reply_text("It works now.\n\nBest regards,\nJan Novák\n+420 777 123 456\n") == "It works now."


def test_a_list_of_steps_is_no_signature() -> None:
    text = "What I did:\n- opened the app\n- pressed Login\nNothing happens."
    assert reply_text(text) == text


def test_a_customer_quoting_a_screen_is_not_history() -> None:
    text = "Приложение пишет:\nОшибка 500, попробуйте позже."
    assert reply_text(text) == text


def test_a_top_posted_reply_left_empty_keeps_the_text() -> None:
    text = "On Mon, 5 Dec 2026 at 10:00, Support <support@example.com> wrote:\n> Is it fixed?\n"
    assert reply_text(text) == text.strip()
    assert reply_text("") == ""


@pytest.mark.timeout(10)
def test_long_lines_and_long_texts_take_no_time() -> None:
    # The library's patterns are quadratic in a line's length: a pasted log must not stall the inbox.
    history = "On Mon, 5 Dec 2026 at 10:00, Support <support@example.com> wrote:\n> Is it fixed?\n"
    line = "On " + "x " * 20_000 + "wrote"  # under the library limit: the placeholders do it
    assert reply_text(f"{line}\n\n{history}") == line
    log = "Ahoj, tady je log.\n" + "On error: retry\n" * 20_000  # over the limit: our patterns only
    assert reply_text(log + history) == log.strip()
