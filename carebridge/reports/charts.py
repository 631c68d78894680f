"""Bar charts drawn on the server as SVG: the geometry is worked out here, the template only places it.

No script and no style attribute, so the charts render under the Content-Security-Policy (style-src
'self'); colours are SVG presentation attributes. Every chart carries a title and a description that
says its figures in words, and the page puts the table beside it: the table is the source of truth.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

# NHS identity colours that stand out from the white page by at least 3:1 (WCAG 1.4.11 for graphics):
# NHS blue, red, dark grey, green, purple, dark pink, dark blue.
PALETTE = ("#005eb8", "#d5281b", "#425563", "#007f3b", "#330072", "#7c2855", "#003087")
AXIS_COLOUR = "#212b32"  # NHS black: the text colour of the pages
GRID_COLOUR = "#d8dde0"  # NHS pale grey

WIDTH = 640
PLOT_LEFT = 64
PLOT_RIGHT = WIDTH - 16
PLOT_TOP = 60  # room for the legend, and a figure over the tallest bar
PLOT_HEIGHT = 200
LEGEND_PER_ROW = 3


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int | None]
    none_words: str = "no figure"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    words: str  # the bar's figure in words, as its tooltip (<title>)
    value: int
    # Where its figure is written above it; None when the bar is too narrow to carry it.
    value_x: float | None


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class CategoryLabel:
    x: float
    y: float
    text: str
    rotated: bool


@dataclass(frozen=True)
class LegendItem:
    x: float
    y: float
    colour: str
    name: str


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str
    x_label: str
    y_label: str
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[CategoryLabel, ...]
    legend: tuple[LegendItem, ...]
    x_label_y: int
    y_label_x: int
    y_label_y: int
    empty: bool


def _nice_step(top: int) -> int:
    """A step of 1, 2 or 5 times a power of ten giving at most five gridlines up to `top`."""
    if top <= 5:
        return 1
    rough = top / 5
    power = 10 ** math.floor(math.log10(rough))
    for multiple in (1, 2, 5, 10):
        if multiple * power >= rough:
            return int(multiple * power)
    return int(10 * power)


def _describe(title: str, category_words: Sequence[str], series: Sequence[Series]) -> str:
    if not category_words:
        return f"{title}: nothing to show in this period."
    parts = []
    for index, words in enumerate(category_words):
        figures = []
        for one in series:
            value = one.values[index]
            shown = one.none_words if value is None else str(value)
            figures.append(shown if len(series) == 1 else f"{one.name.lower()} {shown}")
        parts.append(f"{words}: {', '.join(figures)}")
    return f"{title}. " + "; ".join(parts) + "."


def bar_chart(
    *,
    title: str,
    x_label: str,
    y_label: str,
    categories: Sequence[str],
    category_words: Sequence[str],
    series: Sequence[Series],
) -> BarChart:
    """Grouped bars: one group per category, one bar per series, a legend when there is more than one."""
    values = [value for one in series for value in one.values if value is not None]
    top_value = max(values, default=0)
    step = _nice_step(top_value)
    top = max(step * math.ceil(top_value / step), step)
    plot_bottom = PLOT_TOP + PLOT_HEIGHT
    scale = PLOT_HEIGHT / top

    count = max(len(categories), 1)
    group_width = (PLOT_RIGHT - PLOT_LEFT) / count
    bar_width = group_width * 0.8 / max(len(series), 1)
    longest = max((len(name) for name in categories), default=0)
    rotated = longest * 8 > group_width
    bars = []
    for index in range(len(categories)):
        group_left = PLOT_LEFT + index * group_width + group_width * 0.1
        for position, one in enumerate(series):
            value = one.values[index]
            if value is None:
                continue
            height = value * scale
            bars.append(
                Bar(
                    x=round(group_left + position * bar_width, 1),
                    y=round(plot_bottom - height, 1),
                    width=round(max(bar_width - 1, 1), 1),
                    height=round(height, 1),
                    colour=PALETTE[position % len(PALETTE)],
                    words=f"{category_words[index]}: {one.name.lower()} {value}",
                    value=value,
                    value_x=round(group_left + (position + 0.5) * bar_width, 1) if bar_width >= 16 else None,
                )
            )
    ticks = tuple(Tick(y=round(plot_bottom - value * scale, 1), label=str(value)) for value in range(0, top + 1, step))
    label_y = plot_bottom + 16
    labels = tuple(
        CategoryLabel(x=round(PLOT_LEFT + (index + 0.5) * group_width, 1), y=label_y, text=name, rotated=rotated)
        for index, name in enumerate(categories)
    )
    label_room = min(longest, 24) * 7 + 8 if rotated else 16
    x_label_y = plot_bottom + 24 + label_room
    legend = tuple(
        LegendItem(
            x=PLOT_LEFT + (position % LEGEND_PER_ROW) * 190,
            y=8 + (position // LEGEND_PER_ROW) * 18,
            colour=PALETTE[position % len(PALETTE)],
            name=one.name,
        )
        for position, one in enumerate(series)
    )
    return BarChart(
        title=title,
        description=_describe(title, category_words, series),
        x_label=x_label,
        y_label=y_label,
        width=WIDTH,
        height=x_label_y + 12,
        plot_left=PLOT_LEFT,
        plot_right=PLOT_RIGHT,
        plot_top=PLOT_TOP,
        plot_bottom=plot_bottom,
        bars=tuple(bars),
        ticks=ticks,
        labels=labels,
        legend=legend,
        x_label_y=x_label_y,
        y_label_x=16,
        y_label_y=PLOT_TOP + PLOT_HEIGHT // 2,
        empty=not categories,
    )
