"""The server-drawn charts: every point read back through the chart's own scale is the number it was given."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from shared.stats import CalendarDay
from web.charts import HEAT_WEEKS, Bar, LinePoint, bar_chart, heat_map, interval_chart, line_chart, thin, value_ticks

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for child in node.get("children", []):
            yield from walk(child)


def having(chart: dict[str, Any], css: str) -> list[dict[str, Any]]:
    return [n for n in walk(chart) if css in str(n.get("attributes", {}).get("class_name", "")).split()]


def scale(chart: dict[str, Any], axis: str) -> tuple[float, float, float, float]:
    a = chart["attributes"]
    p, v = ("x", "t") if axis == "x" else ("y", "v")
    return float(a[f"data_{p}0"]), float(a[f"data_{p}1"]), float(a[f"data_{v}0"]), float(a[f"data_{v}1"])


def back(pixel: float, p0: float, p1: float, v0: float, v1: float) -> float:
    return v0 + (pixel - p0) / (p1 - p0) * (v1 - v0)


def test_each_vertex_of_a_line_reads_back_as_its_time_and_value() -> None:
    points = [LinePoint(T0 + timedelta(days=i), (i * 7919) % 50000 - 20000) for i in range(200)]
    chart = line_chart(points, "USD", "balance")
    (line,) = having(chart, "line")
    vertices = [tuple(map(float, v.split(","))) for v in line["attributes"]["points"].split()]
    assert len(vertices) == len(points)
    x0, x1, t0, t1 = scale(chart, "x")
    y0, y1, v0, v1 = scale(chart, "y")
    for (x, y), p in zip(vertices, points, strict=True):
        assert back(x, x0, x1, t0, t1) == pytest.approx(p.at.timestamp(), abs=(t1 - t0) / (x1 - x0) / 10)
        assert back(y, y0, y1, v0, v1) == pytest.approx(p.value, abs=abs(v1 - v0) / abs(y1 - y0) / 10)


def test_marked_points_carry_their_kind_and_balance() -> None:
    points = [
        LinePoint(T0, 0),
        LinePoint(T0 + timedelta(days=1), 5000, "deposit"),
        LinePoint(T0 + timedelta(days=2), 4000),
    ]
    marks = having(line_chart(points, "USD", "balance"), "mark")
    assert [(m["attributes"]["data_kind"], m["attributes"]["data_value"]) for m in marks] == [("deposit", "5000")]


def test_a_long_line_keeps_each_columns_extremes_and_every_mark() -> None:
    points = [
        LinePoint(T0 + timedelta(hours=i), (i * 37) % 1000, "expense" if i == 777 else "plain") for i in range(5200)
    ]
    kept = thin(points, 300)
    assert len(kept) <= 3 * 300 + 1 and kept[0] is points[0]
    assert min(p.value for p in kept) == 0 and max(p.value for p in kept) == 999
    assert any(p.kind == "expense" for p in kept)
    assert [p.at for p in kept] == sorted(p.at for p in kept)


def test_bars_carry_their_values_and_links_and_start_at_zero() -> None:
    bars = [Bar("NLH 1/2", 12000, "/app/stats?group=stakes%3ANLH+1%2F2"), Bar("PLO 1/2", -3000, "/x")]
    chart = bar_chart(bars, "USD", "by stakes")
    rows = having(chart, "bar-row")
    a = chart["attributes"]  # bars grow along x: their pixels data-x0/x1 hold the values data-v0/v1
    assert [(r["attributes"]["data_label"], int(r["attributes"]["data_value"])) for r in rows] == [
        ("NLH 1/2", 12000),
        ("PLO 1/2", -3000),
    ]
    x0, x1, v0, v1 = (float(a[f"data_{n}"]) for n in ("x0", "x1", "v0", "v1"))
    for rect, bar in zip(having(chart, "bar"), bars, strict=True):
        left, width = float(rect["attributes"]["x"]), float(rect["attributes"]["width"])
        ends = sorted((back(left, x0, x1, v0, v1), back(left + width, x0, x1, v0, v1)))
        assert ends == pytest.approx(sorted((0, bar.value)), abs=(v1 - v0) / (x1 - x0))
    links = [n["attributes"]["href"] for n in walk(chart) if n.get("tagName") == "a"]
    assert links == [b.href for b in bars]


def test_the_interval_band_spans_its_bounds_on_a_money_axis_with_zero() -> None:
    chart = interval_chart(-1500, 4200, 1350, "USD", "win rate")
    (band,) = having(chart, "band")
    x0, x1, v0, v1 = scale(chart, "x")
    left, width = float(band["attributes"]["x"]), float(band["attributes"]["width"])
    assert back(left, x0, x1, v0, v1) == pytest.approx(-1500, abs=(v1 - v0) / (x1 - x0))
    assert back(left + width, x0, x1, v0, v1) == pytest.approx(4200, abs=(v1 - v0) / (x1 - x0))
    assert v0 <= -1500 and v1 >= 4200 and having(chart, "zero")


def test_the_heat_map_shows_the_last_year_by_week_and_weekday() -> None:
    days = [CalendarDay(day=date(2025, 1, 1) + timedelta(days=3 * i), sessions=1, profit=100 * (i % 5 - 2),
                        win_rate_profit=0, hours=3.0) for i in range(300)]  # fmt: skip
    cells = having(heat_map(days, "USD", "calendar"), "day")
    last = days[-1].day
    first_monday = last - timedelta(days=last.weekday()) - timedelta(weeks=HEAT_WEEKS - 1)
    assert [c["attributes"]["data_day"] for c in cells] == [d.day.isoformat() for d in days if d.day >= first_monday]
    for cell in cells:
        day = date.fromisoformat(cell["attributes"]["data_day"])
        assert round((float(cell["attributes"]["y"]) - 14) / 6.2) == day.weekday()


@pytest.mark.parametrize(
    ("chart", "words"),
    [
        (line_chart([LinePoint(T0, 100)], "USD", "x"), "second session"),
        (bar_chart([], "USD", "x"), "No sessions"),
        (heat_map([], "USD", "x"), "No playing days"),
    ],
)
def test_a_chart_with_nothing_to_draw_says_why(chart: dict[str, Any], words: str) -> None:
    assert chart["tagName"] == "p" and words in chart["children"][0]


def test_value_ticks_are_round_and_cover_the_range() -> None:
    ticks = value_ticks(-1234, 56789)
    assert ticks[0] <= -1234 and ticks[-1] >= 56789 and 0 in ticks
    steps = {b - a for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1 and str(steps.pop()).rstrip("0") in ("1", "2", "5")
