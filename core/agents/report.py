"""A period's report as agents read it: text in their language, and CSV for a spreadsheet."""

from __future__ import annotations

import csv
import io
import statistics
from datetime import UTC, date, timedelta

from core.agents.wording import agent_status
from core.domain.config import HelpdeskConfig
from core.domain.model import OPEN_STATUSES, Status
from core.i18n import Translator
from core.knowledge import KnowledgeBase
from core.services.articles import ArticleKind
from core.services.reports import ALL, Durations, Report
from core.services.timelog import TOP_TICKETS, EntryRow


def _span(t: Translator, hours: float | None) -> str:
    return "—" if hours is None else t.duration(hours)


def _minutes(hours: float | None) -> str:
    """A CSV cell: minutes, to a tenth; empty when there is nothing to measure."""
    return "" if hours is None else f"{hours * 60:.1f}"


def render_text(t: Translator, config: HelpdeskConfig, report: Report, knowledge: KnowledgeBase | None = None) -> str:
    def name(dep: str) -> str:
        if dep == ALL:
            return t._("All departments")
        d = config.department(dep)
        return d.name.get(t.locale) if d else dep

    lines = [t._("Report for the period: {start} – {end}", start=t.date(report.start.date()),
                 end=t.date(_last_day(report)))]
    if report.organisation is not None:
        lines.append(t._("Only the tickets of the organisation {name}", name=report.organisation))
    lines += ["", t._("Open tickets now:")]
    for department in config.departments:
        counts = [(s, report.open_now.get((department.code, s.value), 0)) for s in Status if s in OPEN_STATUSES]
        lines.append(f"  {name(department.code)}: " + ", ".join(f"{agent_status(t, s)} {n}" for s, n in counts))
    deps = [ALL, *(d.code for d in config.departments)]
    for dep in deps:
        first, res = report.first_response.get(dep, Durations()), report.resolution.get(dep, Durations())
        breach = report.breaches.get(dep, [0, 0])
        scores = report.ratings.get(dep, [])
        if not (first.count or res.count or any(breach) or scores) and dep != ALL:
            continue
        lines += ["", name(dep) + ":",
                  "  " + t._("First response (business hours): median {median}, 90th percentile {p90}, "
                             "tickets: {count}", median=_span(t, first.median), p90=_span(t, first.p90),
                             count=t.number(first.count)),
                  "  " + t._("Resolution (business hours): median {median}, 90th percentile {p90}, "
                             "tickets: {count}", median=_span(t, res.median), p90=_span(t, res.p90),
                             count=t.number(res.count)),
                  "  " + t._("SLA breaches: first response {first}, resolution {resolution}",
                             first=t.number(breach[0]), resolution=t.number(breach[1])),
                  "  " + t._("Satisfaction: {average} on average, ratings: {count}",
                             average=t.decimal(statistics.mean(scores), "0.00") if scores else "—",
                             count=t.number(len(scores)))]
    if report.per_organisation:
        lines += ["", t._("Tickets opened per organisation:")]
        lines += [f"  {name}: {t.number(n)}" for name, n in report.per_organisation]
    lines += _time(t, config, report)
    lines += _quotes(t, report)
    lines += ["", t._("Recurring subjects:")]
    if not report.recurring:
        lines.append("  —")
    for subject, numbers in report.recurring:
        lines.append(f"  {t.number(len(numbers))}× {subject} (" + ", ".join(t.ticket(n) for n in numbers[:8]) + ")")
    if report.organisation is not None:  # the knowledge base's figures are the whole desk's
        return "\n".join(lines)
    return "\n".join(lines + _articles(t, report, knowledge or KnowledgeBase()))


def _time(t: Translator, config: HelpdeskConfig, report: Report) -> list[str]:
    """Time logged in the period: the total, then per ticket (the first 20), agent, customer,
    organisation and department, the most first."""
    figures = report.time
    lines = ["", t._("Time logged: {duration}", duration=t.duration(figures.total / 60) if figures.total else "—")]
    if not figures.total:
        return lines
    department = {d.code: d.name.get(t.locale) for d in config.departments}
    tables = [(t._("Per ticket (the first {n}):", n=t.number(TOP_TICKETS)),
               [(f"{t.ticket(n)} {subject}", m) for n, subject, m in figures.per_ticket]),
              (t._("Per agent:"), figures.per_agent), (t._("Per customer:"), figures.per_customer),
              (t._("Per organisation:"), figures.per_organisation),
              (t._("Per department:"), [(department.get(d, d), m) for d, m in figures.per_department])]
    for title, rows in tables:
        if rows:
            lines += ["  " + title, *(f"    {name}: {t.duration(m / 60)}" for name, m in rows)]
    return lines


def _quotes(t: Translator, report: Report) -> list[str]:
    """Quotes sent, approved, declined in the period and pending now; what was approved."""
    q = report.quotes
    if not (q.sent or q.approved or q.declined or q.pending):
        return []
    approved = [t.duration(q.approved_minutes / 60)] if q.approved_minutes else []
    approved += [t.isolate(t.money(amount, currency)) for currency, amount in q.approved_amounts.items()]
    return ["", t._("Quotes: sent {sent}, approved {approved}, declined {declined}, awaiting approval now {pending}",
                    sent=t.number(q.sent), approved=t.number(q.approved), declined=t.number(q.declined),
                    pending=t.number(q.pending)),
            "  " + t._("Approved: {terms}", terms=", ".join(approved) or "—")]


def _title(knowledge: KnowledgeBase, slug: str, locale: str) -> str:
    """An article's title in the reader's language, else in any; the slug when it is gone."""
    found = knowledge.get(slug, locale) or next((a for a in knowledge.articles() if a.slug == slug), None)
    return found.title if found is not None else slug


def _articles(t: Translator, report: Report, knowledge: KnowledgeBase) -> list[str]:
    """The knowledge base's section: deflections, articles shown, the verdicts per article, and
    the questions that found nothing (what to write next)."""
    a = report.articles
    lines = ["", t._("Knowledge base:"),
             "  " + t._("Tickets not opened thanks to an article: {n}", n=t.number(a.deflections)),
             "  " + t._("Articles shown: {n}", n=t.number(a.shown)), "  " + t._("Per article:")]
    if not a.per_article:
        lines.append("    —")
    for slug, kinds in sorted(a.per_article.items(), key=lambda item: (-item[1][ArticleKind.SHOWN], item[0])):
        lines.append("    " + t._("{title} ({slug}): shown {shown}, helpful {helpful}, not helpful {unhelpful}",
                                    title=_title(knowledge, slug, t.locale), slug=slug,
                                    shown=t.number(kinds[ArticleKind.SHOWN]),
                                    helpful=t.number(kinds[ArticleKind.HELPFUL]),
                                    unhelpful=t.number(kinds[ArticleKind.NOT_HELPFUL])))
    lines.append("  " + t._("Questions that found nothing:"))
    if not a.unanswered:
        lines.append("    —")
    lines += [f"    {t.number(n)}× {question}" for question, n in a.unanswered]
    return lines


def _last_day(report: Report) -> date:
    return (report.end - timedelta(microseconds=1)).date()


def render_csv(config: HelpdeskConfig, report: Report) -> str:
    """For a spreadsheet: ISO dates and minutes as plain numbers, the unit in the section's name."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "department", "metric", "value"])
    w.writerow(["period", ALL, "first_day_iso", report.start.date().isoformat()])
    w.writerow(["period", ALL, "last_day_iso", _last_day(report).isoformat()])
    if report.organisation is not None:
        w.writerow(["period", ALL, "organisation", report.organisation])
    for (dep, status), n in sorted(report.open_now.items()):
        w.writerow(["open_now", dep, status, n])
    for section, table in (("first_response_minutes", report.first_response),
                           ("resolution_minutes", report.resolution)):
        for dep, d in sorted(table.items()):
            w.writerow([section, dep, "count", d.count])
            w.writerow([section, dep, "median", _minutes(d.median)])
            w.writerow([section, dep, "p90", _minutes(d.p90)])
    for dep, (first, resolution) in sorted(report.breaches.items()):
        w.writerow(["sla_breaches", dep, "first_response", first])
        w.writerow(["sla_breaches", dep, "resolution", resolution])
    for dep, scores in sorted(report.ratings.items()):
        w.writerow(["satisfaction", dep, "count", len(scores)])
        w.writerow(["satisfaction", dep, "average", f"{statistics.mean(scores):.2f}"])
    for name, n in report.per_organisation:
        w.writerow(["opened_per_organisation", ALL, name, n])
    time = report.time
    w.writerow(["time_minutes", ALL, "total", time.total])
    for dep, minutes in time.per_department:
        w.writerow(["time_minutes", dep, "total", minutes])
    for number, _subject, minutes in time.per_ticket:
        w.writerow(["time_minutes_per_ticket", ALL, f"#{number}", minutes])
    for section, rows in (("agent", time.per_agent), ("customer", time.per_customer),
                          ("organisation", time.per_organisation)):
        for name, minutes in rows:
            w.writerow([f"time_minutes_per_{section}", ALL, name, minutes])
    quotes = report.quotes
    for metric, n in (("sent", quotes.sent), ("approved", quotes.approved), ("declined", quotes.declined),
                      ("pending_now", quotes.pending), ("approved_minutes", quotes.approved_minutes)):
        w.writerow(["quotes", ALL, metric, n])
    for currency, amount in quotes.approved_amounts.items():  # in the currency's minor units (cents)
        w.writerow(["quotes_approved_minor_units", ALL, currency, amount])
    for subject, numbers in report.recurring:
        w.writerow(["recurring_subject", ALL, subject, " ".join(f"#{n}" for n in numbers)])
    if report.organisation is None:  # the knowledge base's figures are the whole desk's
        w.writerow(["articles", ALL, "deflections", report.articles.deflections])
        w.writerow(["articles", ALL, "shown", report.articles.shown])
        for slug, kinds in sorted(report.articles.per_article.items()):
            for kind in (ArticleKind.SHOWN, ArticleKind.DEFLECTED, ArticleKind.HELPFUL, ArticleKind.NOT_HELPFUL):
                w.writerow(["article", slug, kind.value, kinds[kind]])
        for question, n in report.articles.unanswered:
            w.writerow(["unanswered_question", ALL, question, n])
    return out.getvalue()


def time_csv(entries: list[EntryRow]) -> str:
    """Time entries as a time tracker imports them: one row each, the day (ISO, UTC) it was
    logged, the agent, the ticket's number, the activity's code (empty for none), minutes, note."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["date", "agent", "ticket", "activity", "minutes", "note"])
    for e in entries:
        w.writerow([e.at.astimezone(UTC).date().isoformat(), e.agent, e.number, e.activity, e.minutes, e.note])
    return out.getvalue()
