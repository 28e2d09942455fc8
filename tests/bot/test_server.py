"""The HTTP server's limits: slow clients cut off, a concurrency cap, descriptors to spare."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.web import SECRET_HEADER
from models.storage import Database
from tests.fakes.twilio import FakeTwilio
from tests.support.webhooks import SECRET, Served, served, server_config

SLOW = 50
ACCEPT_FAILED = (b"cannot accept connections", b"socket.accept() out of system resource")


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as fake:
        yield fake


async def _slow_headers(web: Served) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A client that starts a request and sends its headers one byte now and then."""
    reader, writer = await web.connect()
    writer.write(b"POST /telegram/webhook HTTP/1.1\r\nHost: shop.example\r\nX-Slow: ")
    await writer.drain()
    return reader, writer


async def _slow_body(web: Served) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A client whose headers are complete and whose body never is."""
    reader, writer = await web.connect()
    writer.write(
        b"POST /telegram/webhook HTTP/1.1\r\nHost: shop.example\r\n"
        + f"{SECRET_HEADER}: {SECRET}\r\nContent-Length: 500\r\n\r\n".encode()
        + b'{"update_id": '
    )
    await writer.drain()
    return reader, writer


async def _trickle_until_cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    """Send a byte whenever there is time; return what the server said before it hung up."""
    said = b""
    with contextlib.suppress(ConnectionError):
        while True:
            try:
                chunk = await asyncio.wait_for(reader.read(1024), timeout=0.3)
            except TimeoutError:
                writer.write(b"x")
                await writer.drain()
                continue
            if not chunk:
                break
            said += chunk
    writer.close()
    return said


async def test_slow_clients_are_cut_off_and_health_answers_meanwhile(
    sqlite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    config = server_config(read_timeout_seconds=1.5, limit_concurrency=500)
    async with served(sqlite_db, config) as web:
        headers = [await _slow_headers(web) for _ in range(SLOW)]
        bodies = [await _slow_body(web) for _ in range(10)]
        trickling = [
            asyncio.create_task(_trickle_until_cut(*client)) for client in headers + bodies
        ]
        async with httpx.AsyncClient() as client:
            health = await client.get(f"{web.url}/healthz")
        assert health.status_code == 200  # while they all hang on
        async with asyncio.timeout(60):  # a guard: each must be cut off at all
            said = await asyncio.gather(*trickling)
    assert said[:SLOW] == [b""] * SLOW  # headers never done: the connection is just closed
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in said[SLOW:])
    cut = [r for r in caplog.records if "cut off" in r.getMessage()]
    assert len(cut) == 10 and all("\n" not in r.getMessage() for r in cut)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_past_the_concurrency_limit_a_request_gets_503_and_one_warning(
    sqlite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async with served(sqlite_db, server_config(limit_concurrency=20)) as web:
        idle = [await web.connect() for _ in range(25)]
        async with httpx.AsyncClient() as client:
            answers = [(await client.get(f"{web.url}/healthz")).status_code for _ in range(5)]
            assert answers == [503] * 5
            for _, writer in idle:
                writer.close()
            async with asyncio.timeout(30):  # a guard: the server sees them go
                while (await client.get(f"{web.url}/healthz")).status_code != 200:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
    warned = [r for r in caplog.records if "Exceeded concurrency limit" in r.getMessage()]
    assert len(warned) == 1  # not one per refused request


def test_the_open_files_limit_is_raised_toward_the_hard_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 256:
        pytest.skip(f"the hard limit here ({hard}) leaves nothing to raise")
    script = (
        "import resource\n"
        "from bot.server import raise_fd_limit\n"
        "_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))\n"
        "print(raise_fd_limit(), resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    returned, soft = (int(n) for n in done.stdout.split())
    assert returned == soft > 256


def _few_descriptors() -> None:
    """In the child before exec: 128 files at most, hard limit included (nothing to raise)."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))


@pytest.mark.slow
async def test_running_out_of_descriptors_is_one_log_line_not_a_flood(
    tmp_path: Path, twilio: FakeTwilio
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "config.toml").write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "shop.db"}"\n'
        f'[whatsapp]\nenabled = true\naccount_sid = "{twilio.account_sid}"\n'
        'from_number = "+6281100001111"\npublic_url = "https://shop.example"\n'
        f'api_base_url = "{twilio.base_url}"\n'
        f'[server]\nhost = "127.0.0.1"\nport = {port}\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KABAR_")}
    env["KABAR_WHATSAPP__AUTH_TOKEN"] = twilio.auth_token
    log = tmp_path / "kabar.log"

    async def kabar(*args: str) -> asyncio.subprocess.Process:
        with log.open("ab") as err:
            return await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", *args, cwd=tmp_path, env=env,
                stdout=asyncio.subprocess.DEVNULL, stderr=err, preexec_fn=_few_descriptors,
            )  # fmt: skip

    assert await (await kabar("init-db")).wait() == 0
    run = await kabar("run")
    held: list[asyncio.StreamWriter] = []
    try:
        async with httpx.AsyncClient() as client, asyncio.timeout(30):
            while True:
                with contextlib.suppress(httpx.TransportError):
                    await client.get(f"http://127.0.0.1:{port}/healthz")
                    break
                await asyncio.sleep(0.1)
        for _ in range(300):  # more than the server has descriptors for
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            held.append(writer)
        async with asyncio.timeout(30):  # a guard: the server must run out at all
            # asyncio says it (with a traceback) up to 2,048 times in one go, then every second
            while not any(w in log.read_bytes() for w in ACCEPT_FAILED):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    finally:
        for writer in held:
            writer.close()
        run.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            await run.wait()
    text = log.read_text()
    assert text.count("cannot accept connections") == 1, text[-2000:]
    assert "Traceback" not in text
    assert "limit_concurrency: 2048 is more than this process may open (128 files)" in text
