"""GraphQL queries give what REST gives: the same sessions, the same live state, the same statistics to the digit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from adapters.clickhouse import Warehouse
from tests.conftest import LiveServer, Player
from tests.factories import SessionScript, played_session
from tests.integration.graphql.client import GraphQL
from tests.integration.graphql.conftest import everything
from tests.integration.stats.history import post_history

POST = "mutation($events: [JSON!]!) { postEvents(events: $events) { accepted rejected } }"
PAGE = """query($first: Int!, $after: String) {
  sessions(first: $first, after: $after) {
    edges { cursor node { sessionId status profit } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def as_graphql(value: Any) -> Any:
    """A REST JSON value spelled as GraphQL answers it: camelCase keys, instants compared as instants."""
    if isinstance(value, dict):
        return {camel(k): as_graphql(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_graphql(v) for v in value]
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        return datetime.fromisoformat(value)
    return value


async def test_sessions_come_newest_first_in_pages_linked_by_cursors(alice_gql: GraphQL) -> None:
    scripts = [SessionScript(start=datetime.fromisoformat(f"2025-05-0{day}T19:00:00+01:00")) for day in range(1, 6)]
    assert (await alice_gql.data(POST, {"events": [s.start() for s in scripts]}))["postEvents"]["accepted"] == 5
    newest_first = [s.session_id for s in reversed(scripts)]

    seen: list[str] = []
    after = None
    pages = []
    while True:
        page = (await alice_gql.data(PAGE, {"first": 2, "after": after}))["sessions"]
        pages.append(page)
        seen += [e["node"]["sessionId"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == newest_first
    assert [len(p["edges"]) for p in pages] == [2, 2, 1]
    assert [p["pageInfo"]["hasPreviousPage"] for p in pages] == [False, True, True]
    assert pages[1]["pageInfo"]["startCursor"] == pages[1]["edges"][0]["cursor"]
    # A page can start after any cursor, not only an endCursor.
    middle = pages[0]["edges"][0]["cursor"]
    resumed = (await alice_gql.data(PAGE, {"first": 1, "after": middle}))["sessions"]
    assert [e["node"]["sessionId"] for e in resumed["edges"]] == newest_first[1:2]


async def test_a_page_of_sessions_is_the_rest_list(live_server: LiveServer, alice_gql: GraphQL, alice: Player) -> None:
    _, events = played_session()
    await alice_gql.data(POST, {"events": [*events, SessionScript().start()]})
    graphql = await alice_gql.data(f"{{ sessions {{ edges {{ node {everything('SessionSummary')} }} }} }}")
    async with httpx.AsyncClient(base_url=live_server.url) as rest:
        listed = (await rest.get("/api/v1/sessions", headers=alice.headers)).json()
    nodes = [e["node"] for e in graphql["sessions"]["edges"]]
    assert [n["status"] for n in nodes] == ["active", "ended"]
    # A running session's clock runs between the two reads; every other field is the same.
    for node, row in zip(nodes, as_graphql(listed), strict=True):
        if node["status"] != "ended":
            for clocked in ("playedSeconds", "hourly"):
                node.pop(clocked), row.pop(clocked)
        assert as_graphql(node) == row


async def test_bad_cursors_and_page_sizes_are_bad_user_input_naming_the_argument(alice_gql: GraphQL) -> None:
    for variables, words in [
        ({"first": 0}, "`first` 0 must be from 1 to 100"),
        ({"first": 101}, "`first` 101 must be from 1 to 100"),
        ({"first": 5, "after": "not-a-cursor"}, "`after` 'not-a-cursor' is not a cursor"),
    ]:
        answer = await alice_gql.run(PAGE, variables)
        assert answer.codes == ["BAD_USER_INPUT"]
        assert words in answer.errors[0]["message"]


async def test_a_session_gives_its_live_state_and_its_events_as_rest_does(
    live_server: LiveServer, alice_gql: GraphQL, alice: Player
) -> None:
    s, events = played_session()
    await alice_gql.data(POST, {"events": events})
    query = (
        f"query($id: String!) {{ session(id: $id) {{ id live {everything('LiveView')} "
        "events { id seq type at data } } }"
    )
    session = (await alice_gql.data(query, {"id": s.session_id}))["session"]
    async with httpx.AsyncClient(base_url=live_server.url) as rest:
        live = (await rest.get(f"/api/v1/sessions/{s.session_id}", headers=alice.headers)).json()
        rest_events = (await rest.get(f"/api/v1/sessions/{s.session_id}/events", headers=alice.headers)).json()
    assert session["id"] == s.session_id
    assert as_graphql(session["live"]) == as_graphql(live)  # an ended session: its clock stands still
    assert [(e["id"], e["seq"], e["type"], e["data"]) for e in session["events"]] == [
        (e["id"], e["seq"], e["type"], e["data"]) for e in rest_events
    ]
    assert [datetime.fromisoformat(e["at"]) for e in session["events"]] == [
        datetime.fromisoformat(e["at"]) for e in rest_events
    ]


# --- statistics: every figure, the same as REST -----------------------------------------------------------------

FILTERS: list[tuple[dict[str, Any], str]] = [
    ({"currency": "USD", "mixFormats": True}, "currency=USD&mix_formats=true"),
    ({"currency": "USD", "format": "cash"}, "currency=USD&format=cash"),
    ({"currency": "USD", "format": "tournament"}, "currency=USD&format=tournament"),
    (
        {"currency": "USD", "format": "cash", "from": "2025-03-04", "to": "2025-03-05"},
        "currency=USD&format=cash&from=2025-03-04&to=2025-03-05",
    ),
    ({"currency": "USD", "tags": ["deep"]}, "currency=USD&tags=deep"),
    ({"currency": "USD", "format": "cash", "dayStartsAt": 20}, "currency=USD&format=cash&day_starts_at=20"),
    ({"currency": "EUR"}, "currency=EUR"),
]
BREAKDOWNS = ("stakes", "game", "format", "location", "weekday", "hour", "length", "month")


@pytest.fixture
async def history(live_server: LiveServer, warehouse: Warehouse, alice: Player) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as rest:
        await post_history(rest, warehouse, alice)  # type: ignore[arg-type]  # httpx speaks the test client's API


def stats_query() -> str:
    breakdowns = " ".join(f"{by}: breakdown(by: {by!r}) {{ key summary {everything('Summary')} }}" for by in BREAKDOWNS)
    return f"""query($filter: StatsFilter) {{
      stats(filter: $filter) {{
        summary {everything("Summary")}
        {breakdowns.replace("'", '"')}
        calendar {everything("CalendarDay")}
        bankroll {{ currency points {everything("BankrollPoint")} }}
        guidance(rule: 30, targetRisk: 0.05) {everything("BankrollGuidance")}
        usual: guidance(rule: 40, buyIn: "usual", hysteresis: 0.1) {everything("BankrollGuidance")}
        drawdown {everything("DrawdownReport")}
      }}
    }}"""


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize(("graphql_filter", "rest_filter"), FILTERS, ids=[f for _, f in FILTERS])
async def test_every_stats_figure_equals_rest_field_by_field(
    live_server: LiveServer, alice_gql: GraphQL, alice: Player, graphql_filter: dict[str, Any], rest_filter: str
) -> None:
    stats = (await alice_gql.data(stats_query(), {"filter": graphql_filter}))["stats"]
    async with httpx.AsyncClient(base_url=live_server.url) as client:

        async def rest(path: str) -> Any:
            response = await client.get(f"/api/v1/stats/{path}", headers=alice.headers)
            assert response.status_code == 200, response.text
            return as_graphql(response.json())

        async def rest_groups(path: str) -> dict[str, Any]:  # keys are labels or currencies: kept as they are
            response = await client.get(f"/api/v1/stats/{path}", headers=alice.headers)
            assert response.status_code == 200, response.text
            return {key: as_graphql(value) for key, value in response.json().items()}

        expected = {
            "summary": await rest(f"summary?{rest_filter}"),
            **{by: await rest_groups(f"breakdown?by={by}&{rest_filter}") for by in BREAKDOWNS},
            "calendar": await rest(f"calendar?{rest_filter}"),
            "bankroll": await rest_groups(f"bankroll?{rest_filter}"),
            "guidance": await rest(f"guidance?{rest_filter}&rule=30&target_risk=0.05"),
            "usual": await rest(f"guidance?{rest_filter}&rule=40&buy_in=usual&hysteresis=0.1"),
            "drawdown": await rest(f"drawdown?{rest_filter}"),
        }
    answered = as_graphql(stats)
    for by in BREAKDOWNS:
        answered[by] = {group["key"]: group["summary"] for group in answered[by]}
    answered["bankroll"] = {curve["currency"]: curve["points"] for curve in answered["bankroll"]}
    assert answered.keys() == expected.keys()
    for figure, value in expected.items():
        assert answered[figure] == value, figure
    assert expected["summary"]["sessions"] > 0  # the comparison is over real figures, not two empty answers


@pytest.mark.usefixtures("history")
async def test_filtered_sessions_are_the_ones_the_statistics_count(alice_gql: GraphQL) -> None:
    query = """query($f: StatsFilter!) {
      sessions(filter: $f, first: 10) { edges { node { sessionId profit } } }
      stats(filter: $f) { summary { sessions profit } }
    }"""
    for graphql_filter, _ in FILTERS:
        data = await alice_gql.data(query, {"f": graphql_filter})
        nodes = [e["node"] for e in data["sessions"]["edges"]]
        assert len(nodes) == data["stats"]["summary"]["sessions"], graphql_filter
        assert sum(n["profit"] for n in nodes) == data["stats"]["summary"]["profit"], graphql_filter


@pytest.mark.usefixtures("history")
async def test_a_bad_filter_is_bad_user_input_with_the_rest_message(alice_gql: GraphQL) -> None:
    answer = await alice_gql.run('{ stats(filter: {currency: "usd"}) { summary { sessions } } }')
    assert answer.codes == ["BAD_USER_INPUT"]
    assert answer.errors[0]["message"] == "`currency` 'usd' is not an ISO 4217 currency code such as USD"
    several = await alice_gql.run("{ stats { summary { sessions } } }")  # USD and EUR: no currency, no sum
    assert several.codes == ["BAD_USER_INPUT"] and "EUR, USD" in several.errors[0]["message"]
