"""`kabar run` and `kabar init-db` that cannot start say why in one line and exit 1."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

pytestmark = pytest.mark.slow  # each runs the CLI two times or more, 3-4 s

NGINX = "<html><head><title>Welcome to nginx!</title></head><body><h1>Welcome</h1></body></html>"


async def kabar(tmp_path: Path, config: str, *args: str) -> tuple[int, list[str]]:
    """Run the CLI as the operator does; return its exit code and the lines on stderr."""
    path = tmp_path / "config.toml"
    path.write_text(config, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KABAR_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, "--config", str(path), cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, err.decode().splitlines()


@pytest.fixture
async def html_server() -> AsyncIterator[tuple[str, list[int]]]:
    """A web server that answers every request with an HTML page (a proxy's, say)."""
    status = [200]

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=NGINX, status=status[0], content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/bot", status
    finally:
        await runner.cleanup()


def _telegram(url: str, database: str) -> str:
    return (
        f'[database]\nurl = "{database}"\n'
        f'[telegram]\nenabled = true\ntoken = "123456:ABC"\napi_base_url = "{url}"\n'
    )


@pytest.mark.parametrize("status", [200, 404, 502])
async def test_a_bot_api_answering_html_is_one_line(
    tmp_path: Path, html_server: tuple[str, list[int]], status: int
) -> None:
    url, answer = html_server
    answer[0] = status
    config = _telegram(url, f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
    assert (await kabar(tmp_path, config, "init-db"))[0] == 0
    code, lines = await kabar(tmp_path, config, "run")
    assert code == 1
    (line,) = lines
    assert line.startswith("kabar: telegram") and url in line
    assert "123456:ABC" not in line


async def test_an_unusable_sqlite_path_is_one_line(tmp_path: Path) -> None:
    where = tmp_path / "no-such-folder" / "shop.db"
    config = _telegram("http://127.0.0.1:9/bot", f"sqlite+aiosqlite:///{where}")
    for command in ("init-db", "run"):
        code, lines = await kabar(tmp_path, config, command)
        assert code == 1
        (line,) = lines
        assert line.startswith("kabar: database.url: cannot ") and str(where) in line, line
        assert "unable to open database file" in line


async def test_an_unreachable_postgresql_is_one_line_with_the_password_masked(
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    database = f"postgresql+asyncpg://kabar:hunter2@127.0.0.1:{port}/shop"
    config = _telegram("http://127.0.0.1:9/bot", database)
    for command in ("init-db", "run"):
        code, lines = await kabar(tmp_path, config, command)
        assert code == 1
        (line,) = lines
        assert line.startswith("kabar: database.url: cannot "), line
        assert f"postgresql+asyncpg://kabar:***@127.0.0.1:{port}/shop" in line
        assert "hunter2" not in line
