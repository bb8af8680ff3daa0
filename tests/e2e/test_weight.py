"""Weight: answers are compressed, and the service worker precaches every file the pages load (one list)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from api.accounts import Accounts
from tests.e2e.conftest import LiveServer
from tests.e2e.test_pwa import pair
from web.app import shell_urls

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("path", ["/static/pad.js", "/static/app.css", "/capture", "/app/", "/sw.js", "/schema"])
async def test_pages_scripts_and_the_api_answer_gzip_compressed(server: LiveServer, path: str) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers={"Accept-Encoding": "gzip"}) as client:
        response = await client.get(path)
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == "gzip", path
    assert int(response.headers["content-length"]) < len(response.content), "smaller on the wire than unpacked"


async def test_the_service_worker_precaches_the_one_list_and_every_file_of_it_answers(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        sw = (await client.get("/sw.js")).text
        precached = json.loads(re.search(r"const SHELL = (\[.*?\]);", sw, re.S).group(1))  # type: ignore[union-attr]
        assert precached == shell_urls()
        assert "/static/push.js" in precached, "the service worker imports push.js: it must be there offline"
        for url in precached:
            assert (await client.get(url)).status_code == 200, url


async def test_every_script_and_style_a_page_loads_is_in_the_precache(
    browser_context: Any, server: LiveServer, accounts: Accounts
) -> None:
    page, _ = await pair(browser_context, server, accounts)
    loaded: set[str] = set()

    def note(request: Any) -> None:
        url = urlsplit(request.url)
        kinds = ("script", "stylesheet", "manifest", "image", "font")
        if f"{url.scheme}://{url.netloc}" == server.url and request.resource_type in kinds:
            loaded.add(url.path)

    browser_context.on("request", note)
    for path in ["/app/", "/app/history", f"/app/live/{uuid.uuid4()}", "/capture", "/pair"]:
        await page.goto(f"{server.url}{path}")
        await page.wait_for_load_state("networkidle")
    # ReactPy's own bundle serves the server-rendered screens, which need the server anyway.
    used = {path for path in loaded if not path.startswith("/_reactpy/")}
    assert "/static/push.js" in used
    missing = used - set(shell_urls())
    assert not missing, f"loaded by a page but not precached (add them to SHELL_FILES in web/app.py): {missing}"
