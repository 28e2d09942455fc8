"""Outbound: kabar's full push path against the SDK's own ceiling, on the same fake server.

kabar: outbox rows → dispatcher → render → python-telegram-bot / twilio → fake platform.
raw: the same texts to the same chats with `Bot.send_message` / the async twilio client, as
many in flight at once as the dispatcher allows. No rate limits: this is about our overhead.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from telegram import Bot
from telegram.request import HTTPXRequest
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bench.common import Table, backends, fresh_database, run_from_command_line
from bench.fakes import fake_platform, fetch_stats
from bench.pushes import PUBLIC_URL, SHOP_NUMBER, push_all, seed_pushes
from models.enums import Channel

CONCURRENCY = 64  # the dispatcher's default number of sends in flight
POOL = 256  # python-telegram-bot's default connection pool for an Application
SIZES = {"full": (1_000, 5), "smoke": (40, 2)}  # chats, pushes per chat
TARGET = 0.85  # issue 18 (it was 0.8 in issue 7)


async def _in_parallel(calls: list[Callable[[], Awaitable[object]]]) -> float:
    """Run the calls with at most CONCURRENCY in flight; return the seconds taken."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(call: Callable[[], Awaitable[object]]) -> None:
        async with gate:
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(one(c) for c in calls))
    return time.perf_counter() - started


async def raw_telegram(fake: Mapping[str, Any], sends: list[tuple[Any, str]]) -> float:
    """python-telegram-bot alone: `Bot.send_message` for each (chat, text)."""
    request = HTTPXRequest(connection_pool_size=POOL)
    async with Bot(fake["token"], base_url=fake["base_url"], request=request) as bot:

        def call(chat: Any, text: str) -> Callable[[], Awaitable[object]]:
            return lambda: bot.send_message(int(chat), text)

        return await _in_parallel([call(chat, text) for chat, text in sends])


async def raw_twilio(fake: Mapping[str, Any], sends: list[tuple[Any, str]]) -> float:
    """The twilio SDK alone: `messages.create_async` for each (number, text)."""
    client = Client(fake["account_sid"], fake["auth_token"], http_client=AsyncTwilioHttpClient())
    client.api.base_url = fake["base_url"]

    def call(to: Any, text: str) -> Callable[[], Awaitable[object]]:
        # The same request kabar makes for a push: with a delivery-report callback.
        return lambda: client.messages.create_async(
            to=to,
            from_=f"whatsapp:{SHOP_NUMBER}",
            body=text,
            status_callback=f"{PUBLIC_URL}/whatsapp/status",
        )

    try:
        with warnings.catch_warnings():
            # The stock async client passes aiohttp's deprecated BasicAuth (twilio#931).
            warnings.simplefilter("ignore", DeprecationWarning)
            return await _in_parallel([call(to, text) for to, text in sends])
    finally:
        await client.http_client.close()


PLATFORMS = {Channel.TELEGRAM: ("telegram", raw_telegram), Channel.WHATSAPP: ("twilio", raw_twilio)}


async def measure(kind: Channel, backend: str, size: str, folder: Path) -> dict[str, Any]:
    """One platform on one backend: kabar's rate, the raw rate on the same texts, both checked."""
    chats, per_chat = SIZES[size]
    platform, raw = PLATFORMS[kind]
    async with fresh_database(backend, folder) as db:
        total = await seed_pushes(db, kind, chats, per_chat)
        async with fake_platform(platform) as fake:
            run = await push_all(db, kind, fake.ready, limits=None)
            kabar = await fetch_stats(fake)
    sends = list(zip((chat for chat, _ in kabar["times"]), kabar["texts"], strict=True))
    async with fake_platform(platform) as fake:
        seconds = await raw(fake.ready, sends)
        baseline = await fetch_stats(fake)
    return {
        "platform": kind.value,
        "backend": backend,
        "pushes": total,
        "kabar_sent": kabar["sent"],
        "raw_sent": baseline["sent"],
        "kabar_rate": run.sent / run.seconds,
        "raw_rate": len(sends) / seconds,
    }


async def run(size: str = "full") -> list[Table]:
    """Measure both platforms on every backend; return the table."""
    table = Table(
        f"Outbound pushes, no rate limits ({CONCURRENCY} in flight)",
        ["platform", "database", "pushes", "kabar msg/s", "raw SDK msg/s", "kabar / raw", "target"],
    )
    with tempfile.TemporaryDirectory() as folder:
        for kind in PLATFORMS:
            for backend in backends():
                result = await measure(kind, backend, size, Path(folder))
                ratio = result["kabar_rate"] / result["raw_rate"]
                table.add(
                    result["platform"],
                    backend,
                    result["pushes"],
                    result["kabar_rate"],
                    result["raw_rate"],
                    ratio,
                    f"≥ {TARGET} {'met' if ratio >= TARGET else 'MISSED'}",
                )
    return [table]


def main() -> None:
    run_from_command_line("Outbound", __doc__, run)


if __name__ == "__main__":
    main()
