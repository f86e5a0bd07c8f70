"""A period's report as agents read it: text in their language, and CSV for a spreadsheet."""

from __future__ import annotations

import csv
import io
import statistics
from datetime import timedelta

from core.agents.wording import agent_status
from core.domain.config import HelpdeskConfig
from core.domain.model import OPEN_STATUSES, Status
from core.i18n import Translator
from core.services.reports import ALL, Durations, Report


def _hours(value: float | None, t: Translator | None = None) -> str:
    if value is None:
        return "—"
    return t.decimal(value) if t is not None else f"{value:.1f}"


def render_text(t: Translator, config: HelpdeskConfig, report: Report) -> str:
    def name(dep: str) -> str:
        if dep == ALL:
            return t._("All departments")
        d = config.department(dep)
        return d.name.get(t.locale) if d else dep

    lines = [t._("Report from {start} to {end}", start=report.start.date().isoformat(),
                 end=(report.end - timedelta(microseconds=1)).date().isoformat()),
             "", t._("Open tickets now:")]
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
                             "tickets: {count}", median=_hours(first.median, t), p90=_hours(first.p90, t),
                             count=t.number(first.count)),
                  "  " + t._("Resolution (business hours): median {median}, 90th percentile {p90}, "
                             "tickets: {count}", median=_hours(res.median, t), p90=_hours(res.p90, t),
                             count=t.number(res.count)),
                  "  " + t._("SLA breaches: first response {first}, resolution {resolution}",
                             first=t.number(breach[0]), resolution=t.number(breach[1])),
                  "  " + t._("Satisfaction: {average} on average, ratings: {count}",
                             average=t.decimal(statistics.mean(scores), "0.00") if scores else "—",
                             count=t.number(len(scores)))]
    lines += ["", t._("Recurring subjects:")]
    if not report.recurring:
        lines.append("  —")
    for subject, numbers in report.recurring:
        lines.append(f"  {len(numbers)}× {subject} (" + ", ".join(f"#{n}" for n in numbers[:8]) + ")")
    return "\n".join(lines)


def render_csv(config: HelpdeskConfig, report: Report) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "department", "metric", "value"])
    for (dep, status), n in sorted(report.open_now.items()):
        w.writerow(["open_now", dep, status, n])
    for section, table in (("first_response_hours", report.first_response), ("resolution_hours", report.resolution)):
        for dep, d in sorted(table.items()):
            w.writerow([section, dep, "count", d.count])
            w.writerow([section, dep, "median", _hours(d.median) if d.median is not None else ""])
            w.writerow([section, dep, "p90", _hours(d.p90) if d.p90 is not None else ""])
    for dep, (first, resolution) in sorted(report.breaches.items()):
        w.writerow(["sla_breaches", dep, "first_response", first])
        w.writerow(["sla_breaches", dep, "resolution", resolution])
    for dep, scores in sorted(report.ratings.items()):
        w.writerow(["satisfaction", dep, "count", len(scores)])
        w.writerow(["satisfaction", dep, "average", f"{statistics.mean(scores):.2f}"])
    for subject, numbers in report.recurring:
        w.writerow(["recurring_subject", ALL, subject, " ".join(f"#{n}" for n in numbers)])
    return out.getvalue()
