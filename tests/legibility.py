"""What a reader sees of a rendered chart: its texts, boxes and bars, measured in the browser.

Streamlit draws Altair charts with Vega's SVG renderer, so every label is an SVG text element
whose box the browser knows; a label Vega hides to avoid an overlap has opacity 0.
"""

from dataclasses import dataclass

#: The thinnest bar (or heat-map cell) that stays readable and clickable.
MIN_BAR = 12

_MEASURE = """() => {
  const box = e => {
    const b = e.getBoundingClientRect();
    return [b.left, b.top, b.right, b.bottom];
  };
  const shown = e => {
    for (let n = e; n && n.tagName !== 'svg'; n = n.parentElement) {
      if (getComputedStyle(n).opacity === '0' || n.getAttribute('opacity') === '0') return false;
    }
    return e.textContent.trim() !== '';
  };
  return [...document.querySelectorAll('[data-testid=stVegaLiteChart]')].map(chart => {
    const svg = chart.querySelector('svg.marks');
    const texts = [...svg.querySelectorAll('text')].filter(shown);
    const role = t => (t.closest('g[class*=role-]')?.getAttribute('class') || '')
      .split(' ').find(c => c.startsWith('role-') && c !== 'role-scope') || '';
    return {
      title: [...svg.querySelectorAll('.role-title-text text')].map(t => t.textContent).join(' '),
      chart: box(chart),
      svg: box(svg),
      texts: texts.map(t => ({text: t.textContent, box: box(t), role: role(t)})),
      bars: [...svg.querySelectorAll('.mark-rect path')].map(box),
    };
  });
}"""


@dataclass(frozen=True)
class Text:
    """A text of a chart as drawn: its content (lines joined), box and Vega role."""

    text: str
    box: tuple[float, float, float, float]
    role: str


@dataclass(frozen=True)
class Chart:
    """A chart as drawn: title, boxes of its element and SVG, visible texts and bars."""

    title: str
    chart: tuple[float, float, float, float]
    svg: tuple[float, float, float, float]
    texts: list[Text]
    bars: list[tuple[float, float, float, float]]

    def labels(self, role: str = "role-axis-label") -> set[str]:
        """The visible texts with `role`, whitespace removed (lines of a label are joined)."""
        return {squeeze(t.text) for t in self.texts if t.role == role}


def squeeze(text: str) -> str:
    """`text` without any whitespace, to compare a label with its wrapped rendering."""
    return "".join(text.split())


def measure(page) -> list[Chart]:
    """Every Vega chart on the page as drawn now."""
    return [
        Chart(
            title=found["title"],
            chart=tuple(found["chart"]),
            svg=tuple(found["svg"]),
            texts=[Text(t["text"], tuple(t["box"]), t["role"]) for t in found["texts"]],
            bars=[tuple(bar) for bar in found["bars"]],
        )
        for found in page.evaluate(_MEASURE)
    ]


def _overlap(a: tuple[float, ...], b: tuple[float, ...], slack: float = 1.0) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > slack and min(a[3], b[3]) - max(a[1], b[1]) > slack


def problems(chart: Chart, viewport_width: int, *, bars: str | None) -> list[str]:
    """What makes `chart` hard to read: wider than the screen, a text cut short ("…"), cut off
    by the chart's edge or on top of another, bars thinner than MIN_BAR ("horizontal" bars are
    as thick as they are high, "vertical" ones as wide, "cells" both)."""
    found = []
    if chart.chart[0] < -1 or chart.chart[2] > viewport_width + 1:
        found.append(f"{chart.title!r} spans {chart.chart[0]:.0f}..{chart.chart[2]:.0f} px")
    if chart.svg[2] - chart.svg[0] > chart.chart[2] - chart.chart[0] + 1:
        found.append(f"{chart.title!r} is drawn wider than its element")
    for text in chart.texts:
        if "…" in text.text:
            found.append(f"{chart.title!r}: {text.text!r} is cut short")
        box, edge = text.box, chart.svg
        if (
            box[0] < edge[0] - 1
            or box[2] > edge[2] + 1
            or box[1] < edge[1] - 1
            or box[3] > edge[3] + 1
        ):
            found.append(f"{chart.title!r}: {text.text!r} is cut off by the chart's edge")
    for index, text in enumerate(chart.texts):
        for other in chart.texts[index + 1 :]:
            if _overlap(text.box, other.box):
                found.append(f"{chart.title!r}: {text.text!r} overlaps {other.text!r}")
    for bar in chart.bars:
        width, height = bar[2] - bar[0], bar[3] - bar[1]
        thickness = {"horizontal": height, "vertical": width, "cells": min(width, height)}
        if bars and thickness[bars] < MIN_BAR - 0.5:
            found.append(f"{chart.title!r}: a bar of {width:.0f} x {height:.0f} px")
    return found
