"""A player's script over GraphQL with an off-the-shelf client (`gql`): sessions with their stats, a posted batch,
and the live state of the session pushed over a subscription (graphql-transport-ws), then tilt alerts as they come.

    pip install 'gql[httpx,websockets]'
    python docs/examples/graphql_client.py http://127.0.0.1:8000 "$TOKEN" --alerts 1 --wait 600

tests/integration/graphql/test_example.py runs this file against a live server, so it cannot rot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

SESSIONS = """
query Month($filter: StatsFilter) {
  sessions(first: 10) { edges { node { sessionId status currency profit playedSeconds } } }
  stats(filter: $filter) { summary { sessions hours profit hourly winRateCi95 } }
}"""
POST = """
mutation Post($events: [JSON!]!) {
  postEvents(events: $events) { accepted duplicate rejected results { index status reason } }
}"""
LIVE = "subscription Live($id: String!) { sessionState(id: $id) { state { stack profit status } playedSeconds } }"
ALERTS = "subscription { alerts { sessionId at score reasons kind } }"


def event(session_id: str, seq: int, type_: str, data: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "session_id": session_id, "seq": seq, "type": type_, "at": at.isoformat(),
            "data": data}  # fmt: skip


async def main(url: str, token: str, alerts: int, wait: float) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    http = HTTPXAsyncTransport(url=f"{url}/graphql", headers=headers)
    ws = WebsocketsTransport(
        url=url.replace("http", "ws", 1) + "/graphql",
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload=headers,  # browsers cannot set headers on a WebSocket; the token rides in connection_init
    )
    first_of_month = datetime.now(UTC).date().replace(day=1).isoformat()
    async with Client(transport=http) as api, Client(transport=ws) as live:
        # 1. My sessions, and my stats this month (USD cash games), in one request.
        this_month = {"from": first_of_month, "currency": "USD", "format": "cash"}
        month = await api.execute(GraphQLRequest(SESSIONS, variable_values={"filter": this_month}))
        print("sessions:", json.dumps(month["sessions"]["edges"]))
        print("this month:", json.dumps(month["stats"]["summary"]))

        # 2. A batch: a new session starts (ids and seq are the client's, so a retry is answered `duplicate`).
        session_id, now = str(uuid.uuid4()), datetime.now(UTC).astimezone()
        stakes = {"small_blind": 100, "big_blind": 200, "ante": 0}
        start = {"format": "cash", "game": "NLH", "stakes": stakes, "currency": "USD", "buy_in": 20000,
                 "location": "Home game"}  # fmt: skip
        posted = await api.execute(
            GraphQLRequest(POST, variable_values={"events": [event(session_id, 1, "session.started", start, now)]})
        )
        print("posted:", json.dumps(posted["postEvents"]))

        # 3. The session's live state now, and again after the next batch is accepted.
        states = live.subscribe(GraphQLRequest(LIVE, variable_values={"id": session_id}))
        print("live:", json.dumps((await anext(states))["sessionState"]))
        stack = event(session_id, 2, "stack.counted", {"amount": 26500}, now + timedelta(seconds=1))
        await api.execute(GraphQLRequest(POST, variable_values={"events": [stack]}))
        print("live:", json.dumps((await anext(states))["sessionState"]))
        await states.aclose()

        # 4. Tilt alerts as the tilt detector raises them (here `alerts` of them; a bot would stay subscribed).
        if alerts:
            print("waiting for tilt alerts", flush=True)
            received = 0
            async with asyncio.timeout(wait):
                async for alert in live.subscribe(GraphQLRequest(ALERTS)):
                    print("tilt alert:", json.dumps(alert["alerts"]), flush=True)
                    received += 1
                    if received == alerts:
                        break


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("token", help="a device token (`bankroll user add NAME` prints one)")
    parser.add_argument("--alerts", type=int, default=0, help="tilt alerts to wait for at the end")
    parser.add_argument("--wait", type=float, default=600, help="seconds to wait for them at most")
    args = parser.parse_args()
    asyncio.run(main(args.url, args.token, args.alerts, args.wait))
