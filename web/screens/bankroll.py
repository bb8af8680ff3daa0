"""Bankroll: the balance over time per currency (sessions, deposits, withdrawals and expenses marked), the balance
now, buy-ins held at each stake played, and the stake guidance in one sentence with the numbers behind it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import parse_qsl

from reactpy import component, html
from reactpy.core.types import VdomChild, VdomDict

from shared.stats import BankrollGuidance, BankrollPoint, cash_stake_label
from web.charts import LinePoint, line_chart
from web.client import ApiError, BankrollClient, SessionRow
from web.filters import Filters
from web.hooks import use_load
from web.widgets import chance, money, notice, page, stat, tone, unpaired_help

DEFAULT_RULE = "30"  # buy-ins to hold for the stake played, the API's default too
MARKED = {"deposit": "Deposit", "withdrawal": "Withdrawal", "expense": "Expense"}


@dataclass(frozen=True)
class Advice:
    """The guidance of one currency, or why there is none."""

    guidance: BankrollGuidance | None
    why_not: str = ""


@dataclass(frozen=True)
class BankrollData:
    curves: dict[str, list[BankrollPoint]]
    advice: dict[str, Advice]


def current_stake(sessions: list[SessionRow], currency: str) -> tuple[str, str] | None:
    """(format, stake label) the player plays now in ``currency``: the newest finished cash game's stake, else
    ("tournament", "") when only tournaments were played; None with no finished session."""
    ended = [s for s in sessions if s.currency == currency and s.status == "ended"]
    cash = next((s for s in ended if s.format == "cash" and s.big_blind), None)
    if cash is not None:
        return "cash", cash_stake_label(cash.game, cash.small_blind, cash.big_blind, cash.currency)
    return ("tournament", "") if ended else None


async def load_bankroll(
    client: BankrollClient, filters: Filters, rule: str, target_risk: str, stake: str = ""
) -> BankrollData:
    """The curves, and per currency the guidance at ``stake`` (a cash stake the player names in the address), else
    at the stake of the newest cash game."""
    curves, sessions = await asyncio.gather(client.bankroll(filters.api()), client.sessions(50))

    async def advise(currency: str) -> Advice:
        playing = ("cash", stake) if stake else current_stake(sessions, currency)
        if playing is None:
            return Advice(None, "No finished session in this currency yet: guidance needs the stakes you play.")
        fmt, label = playing
        params = filters.api(
            currency=currency,
            format=filters.format or fmt,
            rule=rule,
            current_stake=label or None,
            target_risk=target_risk or None,
        )
        try:
            return Advice(await client.guidance(params))
        except ApiError as exc:
            return Advice(None, str(exc))

    currencies = sorted(curves)
    found = await asyncio.gather(*(advise(c) for c in currencies))
    return BankrollData(curves, dict(zip(currencies, found, strict=True)))


def guidance_sentence(g: BankrollGuidance, currency: str) -> str:
    """The advice in one sentence, with the buy-ins, the rule and its band."""
    up, down = g.rule_buy_ins * (1 + g.hysteresis), g.rule_buy_ins * (1 - g.hysteresis)
    held = {a.stake: a.buy_ins_held for a in g.stakes}
    band = f"your rule is {g.rule_buy_ins:g} buy-ins: move up from {up:g}, down below {down:g}"
    if g.current_stake is None:
        return (
            f"With {money(g.balance, currency)} the highest stake your rule covers is {g.recommended_stake} ({band})."
        )
    now = f"With {money(g.balance, currency)} you hold {held[g.current_stake]:.1f} buy-ins of {g.current_stake}"
    if g.action == "move_up":
        return (
            f"{now}: move up to {g.recommended_stake}, where you hold {held[g.recommended_stake or '']:.1f} ({band})."
        )
    if g.action == "move_down":
        return (
            f"{now}: move down to {g.recommended_stake}, where you hold {held[g.recommended_stake or '']:.1f} ({band})."
        )
    return f"{now}: stay at {g.current_stake} ({band})."


def risk_sentence(g: BankrollGuidance, currency: str) -> str:
    if g.risk_of_ruin is None:
        return "Risk of ruin needs your win rate and SD: at least two sessions with played time."
    words = f"Risk of losing it all at your measured win rate and SD: {chance(g.risk_of_ruin)}."
    if g.target_risk is not None:
        needed = g.bankroll_for_target_risk
        words += (
            f" For a {g.target_risk * 100:g} % risk you need {money(needed, currency)}."
            if needed is not None
            else f" No bankroll gives a {g.target_risk * 100:g} % risk while your win rate is not above zero."
        )
    return words


def guidance_card(advice: Advice, currency: str) -> VdomDict:
    if advice.guidance is None:
        return html.section(
            {"class_name": "card", "data_testid": "guidance"},
            html.h2("Stakes"),
            html.p({"class_name": "muted small"}, advice.why_not),
        )
    g = advice.guidance
    rows = [
        html.tr(
            {"key": a.stake, "data_stake": a.stake, "class_name": "now" if a.stake == g.current_stake else ""},
            html.th({"scope": "row"}, a.stake),
            html.td(money(a.buy_in, currency)),
            html.td({"data_testid": "buy-ins-held"}, f"{a.buy_ins_held:.1f}"),
            html.td({"class_name": a.status}, a.status),
        )
        for a in g.stakes
    ]
    return html.section(
        {"class_name": "card", "data_testid": "guidance"},
        html.h2("Stakes"),
        html.p({"data_testid": "guidance-text", "data_action": g.action or ""}, guidance_sentence(g, currency)),
        html.p({"class_name": "small muted", "data_testid": "risk-text"}, risk_sentence(g, currency)),
        html.table(
            {"class_name": "table"},
            html.caption({"class_name": "visually-hidden"}, "Buy-ins held at each stake"),
            html.thead(
                html.tr(
                    html.th({"scope": "col"}, "Stake"),
                    html.th({"scope": "col"}, "Buy-in"),
                    html.th({"scope": "col"}, "Held"),
                    html.th({"scope": "col"}, ""),
                )
            ),
            html.tbody(*rows),
        ),
    )


def curve_card(currency: str, points: list[BankrollPoint]) -> VdomDict:
    line = [LinePoint(p.at, p.balance, "plain" if p.kind == "session" else p.kind) for p in points]
    balance = points[-1].balance if points else 0
    counts = {kind: sum(1 for p in points if p.kind == kind) for kind in ("session", *MARKED)}
    label = (
        f"Bankroll in {currency} over time: {len(points)} changes from "
        f"{points[0].at:%d %b %Y} to {points[-1].at:%d %b %Y}, now {money(balance, currency)}"
        if points
        else f"Bankroll in {currency}: no changes"
    )
    legend = [
        html.li({"key": kind, "class_name": f"key {kind}"}, f"{name} ({counts[kind]})")
        for kind, name in MARKED.items()
        if counts[kind]
    ]
    return html.section(
        {"class_name": "card", "data_testid": f"bankroll-{currency}", "key": currency},
        html.h2(f"Bankroll · {currency}"),
        html.div(
            {"class_name": "stats"},
            stat("Balance now", money(balance, currency), tone(balance), "balance"),
            stat("Sessions", f"{counts['session']:,}", "", "bankroll-sessions"),
        ),
        line_chart(line, currency, label, f"bankroll-chart-{currency}"),
        html.ul({"class_name": "legend small"}, html.li({"class_name": "key session"}, "Sessions (line)"), *legend),
    )


@component
def bankroll_screen(client: BankrollClient, search: str) -> VdomDict:
    filters = Filters.parse(search)
    here = "/app/bankroll"
    query = dict(parse_qsl(search.lstrip("?")))
    rule, target_risk, stake = query.get("rule", DEFAULT_RULE), query.get("target_risk", ""), query.get("stake", "")
    data = use_load(lambda: load_bankroll(client, filters, rule, target_risk, stake), search)
    if data.error is not None:
        return page("bankroll", here, notice("Cannot load your bankroll", str(data.error), unpaired_help()))
    if data.value is None:
        return page("bankroll", here, html.h1("Bankroll"), html.p({"class_name": "muted"}, "Loading…"))
    curves, advice = data.value.curves, data.value.advice
    if not curves:
        return page(
            "bankroll",
            here,
            html.h1("Bankroll"),
            notice("Nothing recorded yet", "Your balance starts with your first session or deposit."),
        )
    blocks: list[VdomChild] = []
    for currency in sorted(curves):
        blocks += [curve_card(currency, curves[currency]), guidance_card(advice[currency], currency)]
    return page("bankroll", here, html.h1("Bankroll"), *blocks)
