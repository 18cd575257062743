"""The home page's picture: items and changes per month, as inline SVG made here.

No script and no image request: the chart is markup in the page, so it shows with
scripts off and under the reading room's Content-Security-Policy. Each bar carries a
``<title>`` (a tooltip, and what a screen reader says), and a table beside the chart
holds the same numbers for those who would rather read them.
"""

from __future__ import annotations

from html import escape

#: At most this many months are drawn (the newest ones).
MAX_MONTHS = 48
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 760, 220, 44, 36, 12


def months_between(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


def bar_chart(series: dict[str, dict[str, int]], labels: dict[str, str]) -> str:
    """Grouped bars, one group per month; ``series`` maps a name to {YYYY-MM: count}."""
    keys = sorted({m for values in series.values() for m in values if len(m) == 7})
    if not keys:
        return '<p class="empty">Nothing to chart yet.</p>'
    months = months_between(keys[0], keys[-1])[-MAX_MONTHS:]
    top = max(1, *(values.get(m, 0) for values in series.values() for m in months))
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    group_w = plot_w / len(months)
    bar_w = max(1.0, group_w / (len(series) + 1))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="chart-title" class="chart">',
        f'<title id="chart-title">{escape(" and ".join(labels.values()))} per month, '
        f"{months[0]} to {months[-1]}</title>",
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{WIDTH - 8}" '
        f'y2="{PAD_TOP + plot_h}" class="axis"/>',
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + 4}" text-anchor="end" class="tick">{top}</text>',
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + plot_h}" text-anchor="end" class="tick">0</text>',
    ]
    for i, month in enumerate(months):
        x0 = PAD_LEFT + i * group_w
        for j, (name, values) in enumerate(series.items()):
            n = values.get(month, 0)
            h = plot_h * n / top
            x = x0 + bar_w * (j + 0.5)
            parts.append(
                f'<rect x="{x:.1f}" y="{PAD_TOP + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" class="bar s{j}"><title>{escape(labels[name])}, '
                f"{month}: {n}</title></rect>"
            )
        if i % max(1, len(months) // 8) == 0:
            parts.append(
                f'<text x="{x0:.1f}" y="{HEIGHT - PAD_BOTTOM + 16}" class="tick">{month}</text>'
            )
    for j, name in enumerate(series):
        x = PAD_LEFT + 170 * j
        parts.append(
            f'<rect x="{x}" y="{HEIGHT - 12}" width="10" height="10" class="bar s{j}"/>'
            f'<text x="{x + 14}" y="{HEIGHT - 3}" class="tick">{escape(labels[name])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
