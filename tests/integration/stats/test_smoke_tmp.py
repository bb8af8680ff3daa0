import asyncio
from typing import Any
from tests.conftest import Player
from tests.integration.stats.history import history, in_warehouse

async def test_smoke(client: Any, warehouse: Any, alice: Player) -> None:
    r = await client.post("/api/v1/events", json={"events": history()}, headers=alice.headers)
    print(r.json())
    await asyncio.sleep(3)
    print(await in_warehouse(warehouse, alice))
    print(await warehouse.query("SELECT session_id, status, version, currency FROM sessions FINAL WHERE user_id = {u:String}", {"u": alice.user_id}))
