"""axe-core in the page: a screen or dialog fails its test on any critical or serious accessibility violation.

axe-core comes from npm through the project's own ``tests/e2e/package.json`` and lockfile (``make test`` runs
``npm ci`` there). Under CI=true a missing axe-core fails the run; elsewhere the check is skipped.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from tests.conftest import need

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("critical", "serious")
# Moderate in axe's scale, but the team's rule for every screen: one h1, everything inside a landmark, one main.
ALWAYS = ("page-has-heading-one", "region", "landmark-one-main", "heading-order", "landmark-unique")

# WCAG 2.x A and AA plus axe's best practices (one h1, landmarks, region).
RUN = """async (context) => {
    const result = await axe.run(context || document, {
        runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
        resultTypes: ["violations"],
    });
    return result.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
    }));
}"""


@cache
def axe_source() -> str:
    need(None if AXE.exists() else f"axe-core is not installed at {AXE} (npm ci --prefix tests/e2e)")
    return AXE.read_text()


def describe(violations: list[dict[str, Any]]) -> str:
    """One readable block per violation: rule, impact, what it asks, and each element with why it fails."""
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"]:
            summary = " ".join(str(node["summary"]).split())
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


async def violations(page: Any, within: str | None = None) -> list[dict[str, Any]]:
    """axe-core's critical and serious violations on the page (or inside the ``within`` selector)."""
    if not await page.evaluate("typeof axe !== 'undefined'"):
        # Evaluated by DevTools, not as a <script>: the app's Content-Security-Policy stays as strict as it is.
        await page.evaluate(axe_source())
    found: list[dict[str, Any]] = await page.evaluate(RUN, within)
    h1s = await page.evaluate(
        "(sel) => (sel ? document.querySelector(sel) : document).querySelectorAll('h1').length", within
    )
    if within is None and h1s != 1:
        found.append(
            {"id": "one-h1", "impact": "serious", "help": f"A screen has exactly one h1 (found {h1s})", "nodes": []}
        )
    return [v for v in found if v["impact"] in BLOCKING or v["id"] in ALWAYS]


async def assert_accessible(page: Any, name: str, within: str | None = None) -> None:
    """Fail naming the screen (or dialog) ``name`` when axe-core finds a critical or serious violation.

    Args:
        page: a Playwright page showing the screen.
        name: what is checked, for the failure message ("live", "start dialog").
        within: a CSS selector to check only part of the page (an open dialog, say).
    """
    found = await violations(page, within)
    assert not found, f"axe-core: {len(found)} critical/serious violation(s) on {name}:\n{describe(found)}"
