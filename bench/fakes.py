"""Run a fake platform in a process of its own: `python -m bench.fakes telegram|twilio [limits]`.

It prints one JSON line with its addresses when ready, then serves until its stdin closes.
`GET /stats` on the control port says what it accepted and when (its own monotonic clock), so
rates are measured where the platform would measure them.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from aiohttp import ClientSession, web

from bench.common import Helper, announce, stdin_closed
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio import FakeTwilio

TOKEN = "123456:BENCH-TOKEN"


class TelegramStats:
    """Control side of a FakeTelegram."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake

    def stats(self) -> dict[str, Any]:
        # The fake keeps every call's parameters for tests; a benchmark needs only counts.
        self.fake.calls.clear()
        return {
            "sent": len(self.fake.sent),
            "too_many": self.fake.too_many,
            "times": [[m.chat_id, m.at] for m in self.fake.sent],
            "texts": [m.text for m in self.fake.sent],
        }


class TwilioStats:
    """Control side of a FakeTwilio."""

    def __init__(self, fake: FakeTwilio) -> None:
        self.fake = fake

    def stats(self) -> dict[str, Any]:
        return {
            "sent": len(self.fake.messages),
            "too_many": self.fake.too_many,
            "times": [[m.to, m.at] for m in self.fake.messages],
            "texts": [m.body or "" for m in self.fake.messages],
        }


async def serve(platform: str, per_second: float | None, per_chat: float | None) -> None:
    """Serve the fake and its control port until the parent lets go."""
    fake: FakeTelegram | FakeTwilio
    control: TelegramStats | TwilioStats
    if platform == "telegram":
        fake = FakeTelegram(token=TOKEN)
        await fake.start()
        if per_second or per_chat:
            fake.limit(per_second=per_second, per_chat_per_second=per_chat)
        control = TelegramStats(fake)
        facts: dict[str, Any] = {"base_url": fake.base_url, "token": fake.token}
    else:
        fake = FakeTwilio()
        await fake.start()
        fake.limit(per_second)
        control = TwilioStats(fake)
        facts = {
            "base_url": fake.base_url,
            "account_sid": fake.account_sid,
            "auth_token": fake.auth_token,
        }

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(control.stats())

    app = web.Application()
    app.router.add_get("/stats", stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    announce(**facts, stats_url=f"http://127.0.0.1:{port}/stats")
    try:
        await stdin_closed()
    finally:
        await runner.cleanup()
        await fake.stop()


def fake_platform(
    platform: str, *, per_second: float | None = None, per_chat: float | None = None
) -> Helper:
    """A fake Telegram or Twilio in its own process, with these limits (None: no limit)."""
    args = [platform]
    if per_second:
        args += ["--per-second", str(per_second)]
    if per_chat:
        args += ["--per-chat", str(per_chat)]
    return Helper("bench.fakes", *args)


async def fetch_stats(helper: Helper) -> dict[str, Any]:
    """What the fake in that process accepted so far."""
    async with ClientSession() as session, session.get(helper.ready["stats_url"]) as r:
        data: dict[str, Any] = await r.json()
        return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("platform", choices=["telegram", "twilio"])
    parser.add_argument("--per-second", type=float)
    parser.add_argument("--per-chat", type=float)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(args.platform, args.per_second, args.per_chat))


if __name__ == "__main__":
    main()
