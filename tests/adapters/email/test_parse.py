"""Whole mails, as mail programs and mail servers write them, read into a Mail."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.email.parse import Mail, Unreadable, parse_mail
from tests.adapters.email.mails import PERSON, PLAIN_BOUNCE, RETURNED_MESSAGE, b64, dsn, mail, qp

GMAIL_CS = mail(f"""
Delivered-To: support@example.com
Return-Path: <jan.novak@gmail.com>
MIME-Version: 1.0
References: <hd.1001.abc@support.example.com>
In-Reply-To: <hd.1001.abc@support.example.com>
From: =?UTF-8?Q?Jan_Nov=C3=A1k?= <Jan.Novak@Gmail.com>
Date: Mon, 5 Dec 2026 11:02:13 +0100
Message-ID: <CAF3x9=abc123@MAIL.GMAIL.COM>
Subject: =?UTF-8?Q?Re:_[#1001]_Nemohu_se_p=C5=99ihl=C3=A1sit?=
To: Podpora <support@example.com>
Content-Type: multipart/alternative; boundary="000000000000a1b2c3"

--000000000000a1b2c3
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

{qp('''Pořád se nemohu přihlásit, aplikace píše chybu 403.

Dne 5. 12. 2026 v 10:00 Podpora <support@example.com> napsal(a):
> Dobrý den,
> zkuste se prosím odhlásit a znovu přihlásit.
>
> Podpora
''')}
--000000000000a1b2c3
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

{qp('<div dir="ltr">Pořád se nemohu přihlásit, aplikace píše chybu 403.</div><br><div class="gmail_quote">…</div>')}
--000000000000a1b2c3--
""")


def test_gmail_reply_in_czech() -> None:
    m = parse_mail(GMAIL_CS)
    assert m.event_id == "CAF3x9=abc123@mail.gmail.com"
    assert m.message_id == "<CAF3x9=abc123@MAIL.GMAIL.COM>"
    assert (m.sender, m.sender_name) == ("jan.novak@gmail.com", "Jan Novák")
    assert m.subject == "Re: [#1001] Nemohu se přihlásit"
    assert m.in_reply_to == m.references == ("<hd.1001.abc@support.example.com>",)
    assert m.recipients == ("support@example.com",)
    assert "> Dobrý den," in m.text and "gmail_quote" not in m.text
    assert m.reply_text == "Pořád se nemohu přihlásit, aplikace píše chybu 403."
    assert m.language == "cs" and m.content_language is None
    assert m.files == () and m.automatic is None and m.bounce is None
    assert m.size == len(GMAIL_CS) and m.reply_to is None


OUTLOOK_RU = mail(f"""
Received: from mail.example.ru by mx.example.com; Mon, 5 Dec 2026 12:00:00 +0300
From: =?koi8-r?B?6dfBziDwxdTSz9c=?= <ivan@example.ru>
To: "support@example.com" <support@example.com>
CC: Boss <BOSS@example.ru>
Reply-To: Ivan Petrov <ivan.p@example.ru>
Subject: =?windows-1251?B?{base64.b64encode("Не работает".encode("windows-1251")).decode()}?= [#1002]
Date: Mon, 5 Dec 2026 09:00:00 +0000
Message-ID: <AM0PR01MB1234@AM0PR01MB1234.eurprd01.prod.outlook.com>
In-Reply-To: <hd.1002.x@support.example.com>
References: <hd.1002.w@support.example.com> <hd.1002.x@support.example.com>
Content-Language: ru-RU
X-MS-Has-Attach:
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="_000_AM0PR01_"

--_000_AM0PR01_
Content-Type: text/plain; charset="windows-1251"
Content-Transfer-Encoding: base64

{b64('''Всё ещё не работает, проверьте, пожалуйста.

С уважением,
Иван

От: Support <support@example.com>
Отправлено: 5 декабря 2026 г. 10:00
Кому: Иван Петров <ivan@example.ru>
Тема: [#1002] Не работает вход

Здравствуйте, попробуйте ещё раз.
''', 'windows-1251')}
--_000_AM0PR01_
Content-Type: text/html; charset="windows-1251"
Content-Transfer-Encoding: base64

{b64('<html><body><p>Всё ещё не работает</p></body></html>', 'windows-1251')}
--_000_AM0PR01_--
""")


def test_outlook_reply_in_russian() -> None:
    m = parse_mail(OUTLOOK_RU)
    assert (m.sender, m.sender_name) == ("ivan@example.ru", "Иван Петров")
    assert m.subject == "Не работает [#1002]"
    assert m.reply_to == "ivan.p@example.ru"
    assert m.recipients == ("support@example.com", "boss@example.ru")
    assert m.references == ("<hd.1002.w@support.example.com>", "<hd.1002.x@support.example.com>")
    assert m.reply_text.startswith("Всё ещё не работает, проверьте, пожалуйста.")
    assert "Отправлено" not in m.reply_text and "попробуйте ещё раз" not in m.reply_text
    assert m.content_language == "ru-ru" and m.language == "ru"


SP = " "  # a flowed line's trailing space, which editors would strip
THUNDERBIRD_PT = mail(f"""
From: Ana Souza <ana@example.com.br>
To: support@example.com
Subject: Re: [#1003] Fatura em dobro
Message-ID: <5e1a2b3c-4d5e@example.com.br>
In-Reply-To: <hd.1003.a@support.example.com>
User-Agent: Mozilla Thunderbird
Content-Language: pt-BR
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

Olá, a fatura de dezembro ainda aparece duas vezes na minha conta e o{SP}
valor foi cobrado duas vezes no cartão.

Em seg., 5 de dez. de 2026 às 10:00, Suporte escreveu:
> Olá, pode enviar uma captura de tela?

--{SP}
Ana Souza
""")


def test_thunderbird_flowed_reply_in_portuguese() -> None:
    m = parse_mail(THUNDERBIRD_PT)
    assert m.reply_text == (
        "Olá, a fatura de dezembro ainda aparece duas vezes na minha conta e o valor foi cobrado duas vezes no cartão."
    )
    assert m.language == "pt" and m.content_language == "pt-br"
    assert m.text.endswith("-- \nAna Souza")  # the separator is no flowed line


PERSIAN_HTML = mail(f"""
From: =?UTF-8?B?{base64.b64encode("علی رضایی".encode()).decode()}?= <ali@example.ir>
To: support@example.com
Subject: =?UTF-8?B?{base64.b64encode("مشکل ورود".encode()).decode()}?=
Message-ID: <fa.1@example.ir>
MIME-Version: 1.0
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: base64

{b64('<html dir="rtl"><body><p>سلام، نمی‌توانم وارد حساب کاربری خود شوم.</p><p>با تشکر</p></body></html>')}
""")


def test_persian_html_only_mail() -> None:
    m = parse_mail(PERSIAN_HTML)
    assert (m.sender_name, m.subject) == ("علی رضایی", "مشکل ورود")
    assert m.text == "سلام، نمی‌توانم وارد حساب کاربری خود شوم.\n\nبا تشکر"
    assert "<p>" not in m.reply_text and m.language == "fa" and m.files == ()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"

WITH_FILES = mail(f"""
From: Jan <jan@example.cz>
To: support@example.com
Subject: Faktura a screenshot
Message-ID: <files.1@example.cz>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="M"

--M
Content-Type: multipart/related; boundary="R"

--R
Content-Type: multipart/alternative; boundary="A"

--A
Content-Type: text/plain; charset=iso-8859-2
Content-Transfer-Encoding: quoted-printable

{qp('Posílám fakturu a snímek obrazovky.', 'iso-8859-2')}
--A
Content-Type: text/html; charset=utf-8

<p>Posílám fakturu a snímek obrazovky.<img src="cid:img1@x"></p>
--A--
--R
Content-Type: image/png
Content-Disposition: inline
Content-ID: <img1@x>
Content-Transfer-Encoding: base64

{base64.encodebytes(PNG).decode()}
--R--
--M
Content-Type: application/pdf; name="=?utf-8?B?ZmFrdHVyYS5wZGY=?="
Content-Disposition: attachment; filename*=utf-8''faktura%20%C4%8D.%201.pdf
Content-Transfer-Encoding: base64

{base64.encodebytes(PDF).decode()}
--M--
""")


def test_pdf_attachment_and_inline_image() -> None:
    m = parse_mail(WITH_FILES)
    assert m.text == "Posílám fakturu a snímek obrazovky."
    assert [(f.name, f.content_type, f.data) for f in m.files] == [
        ("", "image/png", PNG),
        ("faktura č. 1.pdf", "application/pdf", PDF),
    ]


FORWARDED = mail("""
From: Jan <jan@example.cz>
To: support@example.com
Subject: Fwd: Faktura 2026/12
Message-ID: <fwd.1@example.cz>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="F"

--F
Content-Type: text/plain; charset=utf-8

Přeposílám fakturu, která přišla dvakrát.
--F
Content-Type: message/rfc822

From: Billing <billing@shop.example>
To: jan@example.cz
Subject: Faktura 2026/12
Message-ID: <inv.99@shop.example>
Content-Type: text/plain; charset=utf-8

Faktura je v příloze.
--F--
""")


def test_forwarded_message_is_one_file() -> None:
    m = parse_mail(FORWARDED)
    assert m.text == "Přeposílám fakturu, která přišla dvakrát."
    (file,) = m.files
    assert (file.name, file.content_type) == ("Faktura 2026/12.eml", "message/rfc822")
    assert b"Message-ID: <inv.99@shop.example>" in file.data and b"Faktura je v p" in file.data


def test_apple_mail_body_split_around_an_image_stays_one_text() -> None:
    raw = mail(PERSON + 'Content-Type: multipart/mixed; boundary="S"\n\n'
               "--S\nContent-Type: text/plain\n\nBefore the picture.\n"
               f"--S\nContent-Type: image/png\nContent-Disposition: inline; filename=shot.png\n"
               f"Content-Transfer-Encoding: base64\n\n{base64.encodebytes(PNG).decode()}"
               "--S\nContent-Type: text/plain\n\nAfter the picture.\n--S--\n")
    m = parse_mail(raw)
    assert m.text == "Before the picture.\n\nAfter the picture."
    assert [f.name for f in m.files] == ["shot.png"]


def test_a_second_text_in_two_renderings_is_taken_once() -> None:
    raw = mail(PERSON + 'Content-Type: multipart/mixed; boundary="S"\n\n'
               "--S\nContent-Type: text/plain\n\nIntro.\n"
               '--S\nContent-Type: multipart/alternative; boundary="A"\n\n'
               "--A\nContent-Type: text/plain\n\nSecond.\n--A\nContent-Type: text/html\n\n<p>Second.</p>\n--A--\n"
               "--S--\n")
    assert parse_mail(raw).text == "Intro.\n\nSecond."


def test_a_multipart_without_its_boundary_still_gives_its_text() -> None:
    raw = mail(PERSON + 'Content-Type: multipart/mixed; boundary="S"\n\n'
               '--S\nContent-Type: multipart/alternative; boundary="missing"\n\nThe words are still here.\n--S--\n')
    assert "The words are still here." in parse_mail(raw).text


NO_ID = mail("From: jan@example.cz\nTo: support@example.com\nSubject: Hi\n\nNo id here.\n")


def test_hash_id_without_message_id() -> None:
    m = parse_mail(NO_ID)
    assert m.message_id is None and m.event_id.startswith("sha256:") and len(m.event_id) == 7 + 64
    assert parse_mail(NO_ID).event_id == m.event_id
    assert parse_mail(NO_ID.replace(b"No id", b"No ID")).event_id != m.event_id


def test_an_overlong_message_id_still_fits_the_events_table() -> None:
    m = parse_mail(mail(f"From: a@b.cz\nMessage-ID: <{'x' * 300}@b.cz>\n\nx\n"))
    assert m.event_id.startswith("sha256:") and m.message_id == f"<{'x' * 300}@b.cz>"


SAMPLES = {
    "cs": "Dobrý den, nemohu se přihlásit do aplikace. Žluťoučký kůň úpěl ďábelské ódy.",
    "ru": "Здравствуйте, не могу войти в приложение. Съешь же ещё этих мягких французских булок.",
    "fa": "سلام، نمی‌توانم وارد برنامه شوم. پژوهش گچ ژاله کیک",
}


@pytest.mark.parametrize("encoding", ["quoted-printable", "base64"])
@pytest.mark.parametrize("language", SAMPLES)
def test_languages_round_trip(language: str, encoding: str) -> None:
    text = SAMPLES[language]
    body = qp(text) if encoding == "quoted-printable" else b64(text)
    raw = mail(f"From: x@example.com\nSubject: t\nContent-Type: text/plain; charset=utf-8\n"
               f"Content-Transfer-Encoding: {encoding}\n\n{body}")
    m = parse_mail(raw)
    assert m.text.strip() == text and m.language == language


@pytest.mark.parametrize(
    ("declared", "data", "expected"),
    [
        ("windows-1250", "Příliš žluťoučký kůň".encode("windows-1250"), "Příliš žluťoučký kůň"),
        ("iso-8859-2", "Příliš žluťoučký kůň".encode("iso-8859-2"), "Příliš žluťoučký kůň"),
        ("koi8-r", "Съешь ещё булок".encode("koi8-r"), "Съешь ещё булок"),
        ("utf-8", b"ok \xff\xfe konec", "ok \ufffd\ufffd konec"),
        ("x-no-such-charset", "Příliš".encode(), "Příliš"),
        ("us-ascii", "Příliš".encode(), "Příliš"),  # 8-bit UTF-8 labelled ASCII
        ("base64", b"plain", "plain"),  # a codec, but no text encoding
    ],
)
def test_bad_or_odd_charsets_never_raise(declared: str, data: bytes, expected: str) -> None:
    raw = mail(f"From: x@example.com\nSubject: t\nContent-Type: text/plain; charset={declared}\n"
               "Content-Transfer-Encoding: 8bit\n\n").replace(b"\r\n\r\n", b"\r\n\r\n" + data, 1)
    assert parse_mail(raw).text.strip() == expected


def test_html_too_deep_for_the_parser_still_gives_its_words() -> None:
    m = parse_mail(b"From: a@b.cz\nContent-Type: text/html\n\n" + b"<div>" * 50_000 + b"Pomoc prosim")
    assert m.text == "Pomoc prosim"


def test_malformed_headers_fall_back_to_their_text() -> None:
    raw = mail("""
From: "Jan Nov <jan@example.cz>, =?utf-8?Q?broken
To: <<<@>>>, Ivan <IVAN@example.ru>,, @@@
Subject: =?utf-8?B?!!!notbase64?= =?unknown-charset?Q?x?= and   more
Message-ID: <<>>
Date: not a date
Content-Language: ,,,
""") + "Raw 8-bit: Příliš\r\n".encode()
    m = parse_mail(raw)
    assert isinstance(m, Mail)
    assert "and more" in m.subject
    assert "ivan@example.ru" in m.recipients
    assert m.content_language is None


def test_raw_utf8_headers() -> None:
    raw = "From: Иван Петров <ivan@example.ru>\nSubject: Не работает вход\n\nТекст\n".encode()
    m = parse_mail(raw)
    assert (m.sender_name, m.subject, m.text.strip()) == ("Иван Петров", "Не работает вход", "Текст")


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"", "empty"),
        (b"   \r\n", "empty"),
        (b"\x00\x01\x02garbage", "no header block"),
        (b"just some words\nover two lines\n", "no header block"),
        (b"Subject: no sender\n\nHello\n", "no From"),
        (b"To: a@b.cz\nMessage-ID: <x@y>\n\nHello\n", "no From"),
    ],
)
def test_unreadable(raw: bytes, why: str) -> None:
    with pytest.raises(Unreadable, match=why):
        parse_mail(raw)


REAL = [GMAIL_CS, OUTLOOK_RU, THUNDERBIRD_PT, PERSIAN_HTML, WITH_FILES, FORWARDED, PLAIN_BOUNCE,
        dsn("5.1.1", "failed", RETURNED_MESSAGE)]


def _parses_or_unreadable(raw: bytes) -> None:
    try:
        assert isinstance(parse_mail(raw), Mail)
    except Unreadable as exc:
        assert str(exc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_fuzz_random_bytes(raw: bytes) -> None:
    _parses_or_unreadable(raw)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(REAL), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 40), st.binary(max_size=12)),
                                       min_size=1, max_size=6))
def test_fuzz_mutated_mails(raw: bytes, edits: list[tuple[int, int, bytes]]) -> None:
    for at, cut, insert in edits:
        at %= len(raw) + 1
        raw = raw[:at] + insert + raw[at + cut:]
    _parses_or_unreadable(raw)
