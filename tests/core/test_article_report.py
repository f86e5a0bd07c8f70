"""The report's knowledge-base section: deflections, articles shown, the verdicts per article
(titled in the reader's language), the questions that found nothing; as text and as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from core.agents.report import render_csv, render_text
from core.domain.config import HelpdeskConfig
from core.i18n import translator
from core.services import Services
from core.services.articles import ArticleKind, Source, question_key
from core.services.reports import build_report
from tests.conftest import FakeClock
from tests.core.kb_samples import sample_kb


async def test_the_report_counts_what_happened_to_the_articles(
        service: Services, clock: FakeClock, config: HelpdeskConfig) -> None:
    customer = await service.customers.customer("telegram", "1", "1", "C", "fa")
    rec = service.articles.record
    await rec(ArticleKind.SHOWN, Source.FORM, "fa", slug="reset-password", customer_id=customer.id)
    await rec(ArticleKind.DEFLECTED, Source.FORM, "fa", slug="reset-password", customer_id=customer.id)
    await rec(ArticleKind.SHOWN, Source.HELP, "en", slug="login-errors", customer_id=customer.id)
    await service.articles.feedback(customer.id, "login-errors", "en", helpful=False)
    for words in ("Printer jams!", "printer  JAMS", "VPN ۱۲"):
        await service.articles.no_match(words, "en", Source.HELP, customer.id)
    clock.advance(days=40)  # outside the period
    await rec(ArticleKind.DEFLECTED, Source.FORM, "fa", slug="reset-password", customer_id=customer.id)
    report = await build_report(service.db, config, datetime(2026, 11, 1, tzinfo=UTC),
                                datetime(2026, 12, 1, tzinfo=UTC))
    assert (report.articles.deflections, report.articles.shown) == (1, 2)
    assert report.articles.unanswered == [("printer jams", 2), ("vpn 12", 1)]
    english = render_text(translator("en"), config, report, sample_kb())
    assert "Tickets not opened thanks to an article: 1" in english and "Articles shown: 2" in english
    assert "Reset your password (reset-password): shown 1, helpful 0, not helpful 0" in english
    assert "Login errors explained (login-errors): shown 1, helpful 0, not helpful 1" in english
    assert "2× printer jams" in english
    persian = render_text(translator("fa"), config, report, sample_kb())
    assert "بازیابی رمز عبور" in persian and "۲× printer jams" in persian
    czech = render_text(translator("cs"), config, report, sample_kb())
    assert "Obnovení hesla (reset-password)" in czech
    assert "Login errors explained (login-errors)" in czech  # no Czech version: the title there is
    rows = list(csv.reader(io.StringIO(render_csv(config, report))))
    assert ["articles", "*", "deflections", "1"] in rows and ["articles", "*", "shown", "2"] in rows
    assert ["article", "login-errors", "not_helpful", "1"] in rows
    assert ["unanswered_question", "*", "printer jams", "2"] in rows


async def test_an_empty_period_says_so(service: Services, config: HelpdeskConfig) -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    report = await build_report(service.db, config, now - timedelta(days=30), now)
    text = render_text(translator("en"), config, report)
    assert "Per article:\n    —" in text and "Questions that found nothing:\n    —" in text


def test_questions_are_counted_normalized() -> None:
    assert question_key("  Přihlášení   NEJDE?! ") == "přihlášení nejde"
    assert question_key("رمز ورود ۱۲۳") == question_key("رمز ورود 123")


async def test_forgetting_a_customer_keeps_the_counts_and_drops_their_words(
        service: Services, clock: FakeClock) -> None:
    from core.services.forget import forget_customer

    customer = await service.customers.customer("telegram", "42", "42", "Jana", "cs")
    await service.articles.no_match("moje heslo k účtu jana@example.com", "cs", Source.HELP, customer.id)
    await service.articles.record(ArticleKind.SHOWN, Source.HELP, "cs", slug="reset-password", customer_id=customer.id)
    event = await service.articles.feedback(customer.id, "reset-password", "cs", helpful=False)
    assert event is not None
    await service.articles.comment(customer.id, event, "Volejte mi na 777 123 456")
    await forget_customer(service.db, "telegram", "42")
    found = await service.articles.figures(clock() - timedelta(days=1), clock() + timedelta(days=1))
    assert found.shown == 1 and found.per_article["reset-password"]["not_helpful"] == 1
    assert found.unanswered == []  # the words went with the person
