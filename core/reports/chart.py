"""The report as one picture (PNG, 1600×1200) in the reader's language: tickets opened and
resolved per day, the SLA kept per day, satisfaction, the knowledge base, time logged per agent.

Drawn on a matplotlib Figure of its own with the Agg canvas: pyplot's global state is never
touched, so pictures may be drawn in threads side by side. Drawing is long CPU work: call `draw`
in a worker thread. Matplotlib neither joins Arabic-script letters nor orders
right-to-left text, so every Persian label is shaped (arabic-reshaper) and put in visual order
(python-bidi) before it is drawn; DejaVu Sans, shipped with matplotlib, has the glyphs of every
offered language."""

from __future__ import annotations

import io
import math
import statistics
from datetime import date
from typing import Literal

import jdatetime
from babel.dates import format_skeleton
from babel.numbers import format_percent
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from core.i18n import Translator
from core.reports.daily import Daily, Day
from core.services.reports import ALL, Durations, Report

WIDTH, HEIGHT, DPI = 1600, 1200, 100
FONT = "DejaVu Sans"
MAX_AGENTS = 8  # bars in the time panel; the rest are in the text report
MAX_DAY_LABELS = 12
COLOURS = {"opened": "#4c72b0", "resolved": "#55a868", "first": "#4c72b0", "resolution": "#dd8452",
           "shown": "#8172b3", "deflected": "#55a868", "time": "#937860"}
SCORE_COLOURS = ("#c44e52", "#dd8452", "#ccb974", "#8fbc6a", "#55a868")
# Direction marks and isolates: they order text for a reader, and have no glyph to draw.
_CONTROLS = str.maketrans("", "", "\u200e\u200f\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d\u202e")
_PERSIAN_DIGITS = str.maketrans("0123456789%", "۰۱۲۳۴۵۶۷۸۹٪")


def shaped(t: Translator, text: str) -> str:
    """Text as matplotlib is given it: without the direction marks and isolates a chat needs
    (the text engine orders the runs itself, and the marks have no glyph to draw)."""
    return text.translate(_CONTROLS)


def day_label(t: Translator, day: date, *, weekday: bool) -> str:
    """A day as the reader writes it short ("Mon, Nov 30"; Solar Hijri in Persian)."""
    if t.locale == "fa":
        j = jdatetime.date.fromgregorian(date=day)
        text = f"{t.number(j.day)} {jdatetime.date.j_months_fa[j.month - 1]}"
        return f"{jdatetime.date.j_weekdays_fa[j.weekday()]} {text}" if weekday else text
    return format_skeleton("MMMEd" if weekday else "MMMd", day, locale=t.babel_locale)


def percent(t: Translator, share: float) -> str:
    text = format_percent(share, locale=t.babel_locale)
    return text.translate(_PERSIAN_DIGITS) if t.rtl else text


class Picture:
    """One report's figure, panel by panel."""

    def __init__(self, t: Translator, report: Report, daily: Daily) -> None:
        self.t = t
        self.report = report
        self.daily = daily
        self.days = list(daily.days)
        self.figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, layout="constrained")
        FigureCanvasAgg(self.figure)
        self.side: Literal["left", "right"] = "right" if t.rtl else "left"

    def draw(self) -> bytes:
        t, report = self.t, self.report
        title = t._("Report for the period: {start} – {end}", start=t.date(self.days[0]), end=t.date(self.days[-1]))
        if report.organisation is not None:
            title += "\n" + t._("Only the tickets of the organisation {name}", name=report.organisation)
        self.figure.suptitle(shaped(t, title), fontsize=24, fontweight="bold", family=FONT,
                             x=0.99 if t.rtl else 0.01, ha=self.side)
        grid = self.figure.add_gridspec(3, 2)
        self.tickets(self.figure.add_subplot(grid[0, :]))
        self.sla(self.figure.add_subplot(grid[1, 0]))
        self.satisfaction(self.figure.add_subplot(grid[1, 1]))
        self.knowledge(self.figure.add_subplot(grid[2, 0]))
        self.time(self.figure.add_subplot(grid[2, 1]))
        out = io.BytesIO()
        self.figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
        return out.getvalue()

    # -- helpers -------------------------------------------------------------------------

    def title(self, ax: Axes, text: str) -> None:
        ax.set_title(shaped(self.t, text), loc=self.side, fontsize=17, family=FONT, pad=10)

    def empty(self, ax: Axes, text: str) -> None:
        ax.set_axis_off()
        ax.text(0.5, 0.5, shaped(self.t, text), ha="center", va="center", fontsize=15, color="#777777",
                family=FONT, transform=ax.transAxes)

    def frame(self, ax: Axes) -> None:
        """Light grid, no box; the values' axis on the reader's side."""
        ax.grid(axis="y", color="#dddddd", linewidth=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        if self.t.rtl:
            ax.yaxis.tick_right()
        ax.tick_params(labelsize=13, length=0)

    def counts(self, ax: Axes, axis: str = "y") -> None:
        """Whole numbers on an axis, in the reader's digits."""
        which = ax.yaxis if axis == "y" else ax.xaxis
        which.set_major_locator(MaxNLocator(integer=True, min_n_ticks=3))
        which.set_major_formatter(FuncFormatter(lambda v, _: shaped(self.t, self.t.number(int(v)))))

    def day_axis(self, ax: Axes, *, wide: bool = False) -> None:
        """The days under a panel: a week's each (with its weekday under a wide panel), a longer
        period's as many as fit."""
        weekday = wide and len(self.days) <= 8
        step = math.ceil(len(self.days) / (MAX_DAY_LABELS if wide else MAX_DAY_LABELS // 2 + 1))
        ticks = list(range(0, len(self.days), step))
        ax.set_xticks(ticks, [shaped(self.t, day_label(self.t, self.days[i], weekday=weekday)) for i in ticks])
        ax.set_xlim(-0.6, len(self.days) - 0.4)

    def legend(self, ax: Axes, *, above: bool = False) -> None:
        """Inside the panel, on the reader's side (its limits leave room); `above`: over the panel,
        on the side away from its title."""
        if above:
            ax.legend(loc="lower left" if self.t.rtl else "lower right", ncols=2, frameon=False,
                      bbox_to_anchor=(0, 1) if self.t.rtl else (1, 1), prop={"family": FONT, "size": 13})
            return
        ax.legend(loc="upper right" if self.t.rtl else "upper left", frameon=False, prop={"family": FONT, "size": 13})

    def labels(self, ax: Axes, x: list[float], values: list[int]) -> None:
        """The value over each bar, while there is room for it."""
        if len(self.days) > 16:
            return
        for xi, v in zip(x, values, strict=True):
            if v:
                ax.annotate(shaped(self.t, self.t.number(v)), (xi, v), xytext=(0, 3), textcoords="offset points",
                            ha="center", va="bottom", fontsize=11, family=FONT)

    def series(self, pick: str) -> list[int]:
        return [getattr(day, pick) for day in self.daily.days.values()]

    # -- the panels ----------------------------------------------------------------------

    def tickets(self, ax: Axes) -> None:
        t = self.t
        opened, resolved = self.series("opened"), self.series("resolved")
        self.title(ax, t._("Tickets opened and resolved per day: {opened} opened, {resolved} resolved",
                           opened=t.number(sum(opened)), resolved=t.number(sum(resolved))))
        x = list(range(len(self.days)))
        left, right = [i - 0.2 for i in x], [i + 0.2 for i in x]
        ax.bar(left, opened, 0.4, color=COLOURS["opened"], label=shaped(t, t._("Opened")))
        ax.bar(right, resolved, 0.4, color=COLOURS["resolved"], label=shaped(t, t._("Resolved")))
        self.labels(ax, left, opened)
        self.labels(ax, right, resolved)
        self.frame(ax)
        self.counts(ax)
        self.day_axis(ax, wide=True)
        ax.set_ylim(0, max([*opened, *resolved, 1]) * 1.1)
        self.legend(ax, above=True)

    def sla(self, ax: Axes) -> None:
        t, report = self.t, self.report
        self.title(ax, t._("Within the SLA, by the day the ticket was opened"))
        kept = False
        for kind, label, median in (
                ("first", t._("First response"), report.first_response.get(ALL, Durations()).median),
                ("resolution", t._("Resolution"), report.resolution.get(ALL, Durations()).median)):
            met, late = self.series(f"{kind}_met"), self.series(f"{kind}_late")
            shares = [m / (m + n) if m + n else math.nan for m, n in zip(met, late, strict=True)]
            if sum(met) + sum(late) == 0:
                continue
            kept = True
            overall = percent(t, sum(met) / (sum(met) + sum(late)))
            text = t._("{what}: {share} within the SLA, median {median}", what=label, share=overall,
                       median=t.duration(median) if median is not None else "—")
            ax.plot(range(len(self.days)), [s * 100 for s in shares], marker="o", linewidth=2.5,
                    color=COLOURS[kind], label=shaped(t, text))
        if not kept:
            self.empty(ax, t._("No ticket opened in this period has been answered yet."))
            return
        ax.axhline(100, color="#999999", linewidth=1, linestyle="--")
        self.frame(ax)
        ax.set_ylim(0, 135)  # room above the 100% line for the legend
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: shaped(t, percent(t, v / 100))))
        self.day_axis(ax)
        self.legend(ax)

    def satisfaction(self, ax: Axes) -> None:
        t = self.t
        scores = self.report.ratings.get(ALL, [])
        self.title(ax, t._("Satisfaction: {average} on average, ratings: {count}",
                           average=t.decimal(statistics.mean(scores), "0.00") if scores else "—",
                           count=t.number(len(scores))))
        if not scores:
            self.empty(ax, t._("No ratings in this period."))
            return
        counts = [scores.count(score) for score in range(1, 6)]
        ax.bar(range(1, 6), counts, 0.6, color=SCORE_COLOURS)
        ax.set_xticks(range(1, 6), [shaped(t, f"{t.number(score)} ★") for score in range(1, 6)])
        for score, n in zip(range(1, 6), counts, strict=True):
            ax.annotate(shaped(t, t.number(n)), (score, n), xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", fontsize=12, family=FONT)
        self.frame(ax)
        self.counts(ax)
        ax.set_ylim(0, max(counts) * 1.2)

    def knowledge(self, ax: Axes) -> None:
        t, figures = self.t, self.report.articles
        self.title(ax, t._("Knowledge base per day"))
        if self.report.organisation is not None:
            self.empty(ax, t._("The knowledge base's figures are the whole desk's, not an organisation's."))
            return
        shown, deflected = self.series("shown"), self.series("deflected")
        if not (sum(shown) or sum(deflected)):
            self.empty(ax, t._("No article was shown in this period."))
            return
        x = list(range(len(self.days)))
        ax.bar([i - 0.2 for i in x], shown, 0.4, color=COLOURS["shown"],
               label=shaped(t, t._("Articles shown: {n}", n=t.number(figures.shown))))
        ax.bar([i + 0.2 for i in x], deflected, 0.4, color=COLOURS["deflected"],
               label=shaped(t, t._("Tickets not opened thanks to an article: {n}", n=t.number(figures.deflections))))
        self.frame(ax)
        self.counts(ax)
        self.day_axis(ax)
        ax.set_ylim(0, max([*shown, *deflected, 1]) * 1.45)  # room for the legend
        self.legend(ax)

    def time(self, ax: Axes) -> None:
        t, figures = self.t, self.report.time
        self.title(ax, t._("Time logged per agent, {duration} in all",
                           duration=t.duration(figures.total / 60) if figures.total else "—"))
        rows = figures.per_agent[:MAX_AGENTS]
        if not rows:
            self.empty(ax, t._("No time logged in this period."))
            return
        names = [shaped(t, name if len(name) <= 24 else name[:23] + "…") for name, _ in rows]
        hours = [minutes / 60 for _, minutes in rows]
        y = list(range(len(rows)))
        ax.barh(y, hours, 0.6, color=COLOURS["time"])
        ax.set_yticks(y, names)
        ax.invert_yaxis()  # the most first, at the top
        if t.rtl:  # bars grow from the right, the names beside them
            ax.invert_xaxis()
        for yi, (_, minutes) in zip(y, rows, strict=True):
            ax.annotate(shaped(t, t.duration(minutes / 60)), (minutes / 60, yi), xytext=(-6 if t.rtl else 6, 0),
                        textcoords="offset points", ha="right" if t.rtl else "left", va="center",
                        fontsize=12, family=FONT)
        self.frame(ax)
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x", color="#dddddd", linewidth=0.8)
        ax.set_xlim(0, max(hours) * 1.35) if not t.rtl else ax.set_xlim(max(hours) * 1.35, 0)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, min_n_ticks=3))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: shaped(t, t.decimal(v, "0.#"))))
        ax.set_xlabel(shaped(t, t._("Hours")), fontsize=13, family=FONT)


def draw(t: Translator, report: Report, daily: Daily) -> bytes:
    """The picture of a report, as PNG bytes (CPU-bound: call it in a worker thread)."""
    if not daily.days:
        daily = Daily({report.start.date(): Day()})
    return Picture(t, report, daily).draw()
