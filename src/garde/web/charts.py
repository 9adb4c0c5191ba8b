"""Charts of the dashboard, drawn on the server as SVG by pygal (PyPI, LGPL-3.0+).

A chart is an ``<img>`` of an SVG ``data:`` URL: it needs no script in the browser (an SVG
shown as an image runs none), so the pages' CSP forbids every inline script and style and the
charts still show. Each chart has a text alternative, and the page shows the same figures in a
table beside it (a screen reader reads the table; the page works without images).
"""

from __future__ import annotations

import base64
import math
import sys
from collections.abc import Mapping, Sequence

import pygal
from pygal.style import Style

# pygal appends a legacy import hook for its map plugins (``pygal.maps.*``, which garde does not
# use) that only has the old ``find_module`` API: every later import of the process would warn
# (ImportWarning) while passing it. Taken out again.
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"]

# Colours with at least 3:1 contrast on white (WCAG 1.4.11, graphical objects), told apart by
# more than hue for the common colour blindnesses (blue, orange, dark grey, purple, green).
PALETTE = ("#1f5fa8", "#c25400", "#4d4d4d", "#7a3fa0", "#2f7d32", "#a8326e")
STYLE = Style(background="#ffffff", plot_background="#ffffff", foreground="#222222",
              foreground_strong="#111111", foreground_subtle="#555555", colors=PALETTE,
              font_family="system-ui, -apple-system, 'Segoe UI', Roboto, 'Liberation Sans', sans-serif",
              label_font_size=12, major_label_font_size=12, legend_font_size=13, title_font_size=15)


def count_ticks(series: Mapping[str, Sequence[int]], stacked: bool) -> list[int]:
    """Whole numbers for the value axis (rows and consents are counted, never 0.2 of one)."""
    columns = list(zip(*series.values(), strict=False)) or [(0,)]
    top = max((sum(column) if stacked else max(column)) for column in columns)
    raw = max(1, math.ceil(top / 5))
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)  # 1, 2, 5, 10, 20, 50...
    return list(range(0, top + step, step))


def bar_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[int]], *,
              stacked: bool = True) -> str:
    """A (stacked) bar chart as a ``data:image/svg+xml`` URL."""
    chart_type = pygal.StackedBar if stacked else pygal.Bar
    chart = chart_type(style=STYLE, js=[], disable_xml_declaration=False, width=900, height=360,
                       title=title, x_label_rotation=-30 if len(labels) > 8 else 0, legend_at_bottom=True,
                       legend_at_bottom_columns=3, print_values=False, show_minor_x_labels=True,
                       truncate_legend=40, truncate_label=12, min_scale=1, max_scale=8, show_y_guides=True,
                       no_data_text="-")
    chart.x_labels = list(labels)
    chart.y_labels = count_ticks(series, stacked)
    for name, values in series.items():
        chart.add(name, list(values))
    svg: bytes = chart.render()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
