"""The WhatsApp channel: the real twilio client against a fake Messages API, signed webhooks."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select, update

from bot.config import config_from_mapping
from bot.telegram import TelegramChannel
from bot.web import create_web_app
from bot.whatsapp import WhatsAppChannel
from models import Chat, Notification, Staff
from models.chats import get_or_create_chat
from models.enums import Channel, NotificationKind, NotificationStatus
from models.linking import link_by_phone
from models.storage import Database
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio import FakeTwilio, TwilioMessage, inbound_params, sign, status_params
from tests.support.shop import UNDO, Shop, open_shop

PUBLIC = "https://shop.example"
SHOP_NUMBER = "+6281100001111"
SARI = "+6281234567890"
DEWI = "+6281100000001"


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as fake:
        yield fake


class WhatsAppShop:
    """The demo shop with WhatsApp on, its web app served on a local port."""

    def __init__(self, shop: Shop, twilio: FakeTwilio, channel: WhatsAppChannel, port: int) -> None:
        self.shop, self.twilio, self.channel, self.port = shop, twilio, channel, port
        self.sids = 0

    async def post(self, path: str, params: dict[str, str], *, token: str | None = None) -> int:
        """Post form fields to kabar as Twilio does, signed for the public URL."""
        signature = sign(token or self.twilio.auth_token, PUBLIC + path, params)
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"http://127.0.0.1:{self.port}{path}",
                data=params,
                headers={"X-Twilio-Signature": signature},
            )
        return answer.status_code

    async def write(self, sender: str, body: str, **extra: Any) -> list[TwilioMessage]:
        """A person writes on WhatsApp; wait for kabar's replies to them."""
        before = len(self.twilio.messages)
        self.sids += 1
        params = inbound_params(
            account_sid=self.twilio.account_sid,
            from_=f"whatsapp:{sender}",
            to=f"whatsapp:{SHOP_NUMBER}",
            body=body,
            message_sid=extra.pop("message_sid", f"SM{self.sids:032d}"),
            **extra,
        )
        assert await self.post("/whatsapp/webhook", params) == 200
        await self.twilio.wait_for_messages(before + 1)
        await asyncio.sleep(0.05)
        return [m for m in self.twilio.messages[before:] if m.to == f"whatsapp:{sender}"]

    async def deliver(self, after: float = UNDO + 1) -> list[TwilioMessage]:
        before = len(self.twilio.messages)
        self.shop.clock.advance(after)
        await self.shop.dispatcher.tick()
        return self.twilio.messages[before:]


def whatsapp_config(twilio: FakeTwilio, templates: dict[str, str] | None = None) -> Any:
    return config_from_mapping(
        {
            "whatsapp": {
                "enabled": True,
                "account_sid": twilio.account_sid,
                "auth_token": twilio.auth_token,
                "from_number": SHOP_NUMBER,
                "public_url": PUBLIC,
                "api_base_url": twilio.base_url,
                "templates": templates or {},
            }
        }
    ).whatsapp


async def _start(
    shop: Shop, twilio: FakeTwilio, templates: dict[str, str] | None = None
) -> tuple[Any, ...]:
    config = whatsapp_config(twilio, templates)
    channel = WhatsAppChannel(config, shop.conversation, shop.messages, shop.db)
    shop.dispatcher.channels[Channel.WHATSAPP] = channel
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app = create_web_app(shop.db, whatsapp=channel, clock=shop.clock)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event)
        await asyncio.sleep(0.01)
    return channel, server, task, sock.getsockname()[1]


@pytest.fixture
async def wa(sqlite_db: Database, twilio: FakeTwilio) -> AsyncIterator[WhatsAppShop]:
    shop = await open_shop(sqlite_db)
    channel, server, task, port = await _start(shop, twilio)
    try:
        yield WhatsAppShop(shop, twilio, channel, port)
    finally:
        server.should_exit = True
        await task
        await channel.close()


async def test_customer_is_linked_by_number_and_asks_status_and_stock(wa: WhatsAppShop) -> None:
    (status,) = await wa.write(SARI, "status INV-1002", profile_name="Sari")
    assert status.from_ == f"whatsapp:{SHOP_NUMBER}"
    assert status.body and "Pesanan INV-1002" in status.body and "Riwayat:" in status.body
    (stock,) = await wa.write(SARI, "stok KAOS-HTM-XL")
    assert stock.body and "Kaos Polos Hitam XL (KAOS-HTM-XL) — Rp85.000" in stock.body
    assert stock.status_callback is None  # replies are not tracked; pushes are


async def test_staff_moves_orders_by_whatsapp_and_the_customer_gets_the_push(
    wa: WhatsAppShop,
) -> None:
    await wa.write(SARI, "halo")  # opens Sari's 24-hour window
    (moved,) = await wa.write(DEWI, "tahap INV-1002 potong")
    assert moved.body and moved.body.startswith("✅ INV-1002: diproduksi · potong")
    (shipped,) = await wa.write(DEWI, "/kirim INV-1001 sicepat SC12345678")
    assert shipped.body and "✅ INV-1001: dikirim" in shipped.body
    pushes = [m for m in await wa.deliver() if m.to == f"whatsapp:{SARI}"]
    bodies = sorted(m.body or "" for m in pushes)
    assert len(bodies) == 2
    assert "1/4 potong" in bodies[1] and "Kurir: SiCepat · Resi: SC12345678" in bodies[0]
    assert all(m.status_callback == f"{PUBLIC}/whatsapp/status" for m in pushes)


async def test_a_bad_signature_is_refused_and_changes_nothing(wa: WhatsAppShop) -> None:
    before = await wa.shop.snapshot()
    async with wa.shop.db.sessions() as s:
        chats = await s.scalar(select(func.count()).select_from(Chat))
    params = inbound_params(
        account_sid=wa.twilio.account_sid,
        from_=f"whatsapp:{DEWI}",
        to=f"whatsapp:{SHOP_NUMBER}",
        body="/bayar INV-1001",
        message_sid="SM" + "9" * 32,
    )
    assert await wa.post("/whatsapp/webhook", params, token="not-the-token") == 403
    async with httpx.AsyncClient() as client:  # no signature at all
        answer = await client.post(f"http://127.0.0.1:{wa.port}/whatsapp/webhook", data=params)
    assert answer.status_code == 403
    forged = status_params(
        account_sid=wa.twilio.account_sid,
        message_sid="SM1",
        status="failed",
        to=f"whatsapp:{SARI}",
        from_=f"whatsapp:{SHOP_NUMBER}",
    )
    assert await wa.post("/whatsapp/status", forged, token="nope") == 403
    await asyncio.sleep(0.2)
    assert wa.twilio.messages == []
    assert await wa.shop.snapshot() == before
    async with wa.shop.db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Chat)) == chats


async def test_a_message_delivered_twice_is_handled_once(wa: WhatsAppShop) -> None:
    await wa.write(DEWI, "/bayar INV-1001", message_sid="SM" + "1" * 32)
    params = inbound_params(
        account_sid=wa.twilio.account_sid,
        from_=f"whatsapp:{DEWI}",
        to=f"whatsapp:{SHOP_NUMBER}",
        body="/bayar INV-1001",
        message_sid="SM" + "1" * 32,
    )
    sent = len(wa.twilio.messages)
    assert await wa.post("/whatsapp/webhook", params) == 200
    await asyncio.sleep(0.3)
    assert len(wa.twilio.messages) == sent  # no second answer ("already paid")


async def test_numbered_choices_round_trip(wa: WhatsAppShop) -> None:
    (menu,) = await wa.write(SARI, "stok kaos hitam")
    assert menu.body is not None
    assert "1. Kaos Polos Hitam L" in menu.body and "2. Kaos Polos Hitam XL" in menu.body
    assert menu.body.endswith("Balas dengan angka 1 atau 2.")
    (picked,) = await wa.write(SARI, "2")
    assert picked.body and picked.body.startswith("Kaos Polos Hitam XL (KAOS-HTM-XL)")


async def test_stop_and_start_again(wa: WhatsAppShop) -> None:
    (stopped,) = await wa.write(SARI, "STOP")
    assert stopped.body == wa.shop.t("id", "stop.done")
    await wa.write(DEWI, "/bayar INV-1001")
    assert [m for m in await wa.deliver() if m.to == f"whatsapp:{SARI}"] == []
    (told, back) = await wa.write(SARI, "MULAI")
    assert told.body == wa.shop.t("id", "stop.resumed")
    assert back.body and back.body.startswith("Halo, Sari!")
    await wa.write(DEWI, "/tahap INV-1001 dikemas")
    assert [m.to for m in await wa.deliver()].count(f"whatsapp:{SARI}") == 1


async def test_outside_the_window_a_push_is_held_without_a_template(wa: WhatsAppShop) -> None:
    await wa.write(SARI, "halo")
    wa.shop.clock.advance(25 * 3600)
    await wa.write(DEWI, "/bayar INV-1001")
    assert [m for m in await wa.deliver() if m.to == f"whatsapp:{SARI}"] == []
    async with wa.shop.db.sessions() as s:
        held = await s.scalar(
            select(Notification)
            .join(Chat, Chat.id == Notification.chat_id)
            .where(Chat.address == SARI, Notification.status == NotificationStatus.HELD)
        )
        alerts = list(
            await s.scalars(
                select(Notification).where(Notification.kind == NotificationKind.STAFF_ALERT)
            )
        )
    assert held is not None and held.last_error is not None
    assert held.last_error.startswith("needs template")
    # One alert for each staff chat: Dewi's WhatsApp chat and her console chat of the demo.
    assert len(alerts) == 2 and {a.payload["kind"] for a in alerts} == {"order_update"}
    assert SARI not in str(alerts[0].payload)  # the number is masked
    await wa.write(DEWI, "/tahap INV-1001 dikemas")
    await wa.deliver()
    async with wa.shop.db.sessions() as s:
        count = await s.scalar(
            select(func.count()).where(Notification.kind == NotificationKind.STAFF_ALERT)
        )
    assert count == 2  # each staff chat is told once


async def test_outside_the_window_the_template_goes_out(
    sqlite_db: Database, twilio: FakeTwilio
) -> None:
    shop = await open_shop(sqlite_db)
    channel = WhatsAppChannel(
        whatsapp_config(twilio, {"order_update": "HX" + "a" * 32}),
        shop.conversation,
        shop.messages,
        shop.db,
    )
    shop.dispatcher.channels[Channel.WHATSAPP] = channel
    try:
        await shop.say("sari", "halo")
        async with shop.db.transaction() as s:  # Sari's WhatsApp chat, last heard 2 days ago
            chat = await get_or_create_chat(s, Channel.WHATSAPP, SARI)
            await link_by_phone(s, chat, SARI)
            chat.last_inbound_at = shop.clock.now - timedelta(days=2)
        await shop.say("dewi", "/kirim INV-1001 jne JN12345678")
        shop.clock.advance(UNDO + 1)
        await shop.dispatcher.tick()
        (template,) = [m for m in twilio.messages if m.to == f"whatsapp:{SARI}"]
        assert template.content_sid == "HX" + "a" * 32 and not template.body
        assert template.content_variables == {
            "1": "Toko Batik Kabar",
            "2": "INV-1001",
            "3": "Pesanan sudah dikirim! 🚚 Kurir: JNE · Resi: JN12345678",
        }
    finally:
        await channel.close()


async def test_status_callbacks_are_stored_in_order_and_63016_resends_as_template(
    sqlite_db: Database, twilio: FakeTwilio
) -> None:
    shop = await open_shop(sqlite_db)
    channel, server, task, port = await _start(shop, twilio, {"order_update": "HX" + "b" * 32})
    wa = WhatsAppShop(shop, twilio, channel, port)

    async def report(push: TwilioMessage, state: str, code: str | None = None) -> None:
        params = status_params(
            account_sid=twilio.account_sid,
            message_sid=push.sid,
            status=state,
            to=push.to,
            from_=push.from_,
            error_code=code,
        )
        assert await wa.post("/whatsapp/status", params) == 204

    async def stored(push: TwilioMessage) -> str | None:
        async with shop.db.sessions() as s:
            row = await s.scalar(
                select(Notification).where(Notification.provider_message_id == push.sid)
            )
        assert row is not None
        return row.delivery_status

    try:
        await wa.write(SARI, "halo")
        await wa.write(DEWI, "/bayar INV-1001")
        (push,) = [m for m in await wa.deliver() if m.to == f"whatsapp:{SARI}"]
        for state in ("read", "delivered", "sent"):  # callbacks race: the late ones lose
            await report(push, state)
        assert await stored(push) == "read"
        await report(push, "failed", "63016")  # read already: nothing to send again
        assert [m for m in await wa.deliver(after=1) if m.to == f"whatsapp:{SARI}"] == []
        assert await stored(push) == "read"

        await wa.write(DEWI, "/tahap INV-1001 dikemas")
        (second,) = [m for m in await wa.deliver() if m.to == f"whatsapp:{SARI}"]
        await report(second, "sent")
        await report(second, "failed", "63016")
        (again,) = [m for m in await wa.deliver(after=1) if m.to == f"whatsapp:{SARI}"]
        assert again.content_sid == "HX" + "b" * 32 and again.content_variables is not None
        assert again.content_variables["2"] == "INV-1001"
    finally:
        server.should_exit = True
        await task
        await channel.close()


async def test_a_customer_on_telegram_and_whatsapp_hears_on_both(
    wa: WhatsAppShop, sqlite_db: Database
) -> None:
    await wa.write(SARI, "halo")
    async with FakeTelegram() as telegram_api:
        config = config_from_mapping(
            {
                "telegram": {
                    "enabled": True,
                    "token": telegram_api.token,
                    "api_base_url": telegram_api.base_url,
                }
            }
        ).telegram
        telegram = TelegramChannel(config, wa.shop.conversation, wa.shop.messages, wa.shop.db)
        wa.shop.dispatcher.channels[Channel.TELEGRAM] = telegram
        await telegram.start()
        try:
            telegram_api.push_update(
                telegram_api.message_update(
                    chat_id=5001, user_id=5001, text=f"/start {wa.shop.links['INV-1001']}"
                )
            )
            await telegram_api.wait_for_sent(1)
            # Sari's WhatsApp is hers by its number: it hears that a Telegram chat linked.
            (told,) = await wa.deliver(after=0)
            assert told.to == f"whatsapp:{SARI}" and told.body is not None
            assert "Telegram" in told.body and "/putus INV-1001" in told.body
            async with sqlite_db.transaction() as s:
                await s.execute(update(Staff).values(phone=DEWI))
            await wa.write(DEWI, "/bayar INV-1001")
            before = len(telegram_api.sent)
            pushed = await wa.deliver()
            assert [m.to for m in pushed].count(f"whatsapp:{SARI}") == 1
            on_telegram = [m for m in telegram_api.sent[before:] if m.chat_id == 5001]
            assert len(on_telegram) == 1 and "Pembayaran" in on_telegram[0].text
            assert ("sari", "Pembayaran") in [
                (who, reply.text.splitlines()[1][:10])
                for who, reply in wa.shop.pushed
                if reply.text.count("\n")
            ]  # and on Sari's console chat from the demo
        finally:
            await telegram.stop()


async def test_undeliverable_numbers_close_the_chat(wa: WhatsAppShop) -> None:
    await wa.write(SARI, "halo")
    await wa.write(DEWI, "/bayar INV-1001")
    (push,) = [m for m in await wa.deliver() if m.to == f"whatsapp:{SARI}"]
    failed = status_params(
        account_sid=wa.twilio.account_sid,
        message_sid=push.sid,
        status="undelivered",
        to=push.to,
        from_=push.from_,
        error_code="63024",
    )
    assert await wa.post("/whatsapp/status", failed) == 204
    async with wa.shop.db.sessions() as s:
        chat = await s.scalar(select(Chat).where(Chat.address == SARI))
    assert chat is not None and not chat.active and chat.inactive_reason == "undeliverable (63024)"


@pytest.mark.slow
async def test_kabar_run_serves_whatsapp_and_stops_on_sigterm(
    tmp_path: Path, twilio: FakeTwilio
) -> None:
    port_finder = socket.socket()
    port_finder.bind(("127.0.0.1", 0))
    port = port_finder.getsockname()[1]
    port_finder.close()
    (tmp_path / "config.toml").write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "shop.db"}"\n'
        f'[whatsapp]\nenabled = true\naccount_sid = "{twilio.account_sid}"\n'
        f'from_number = "{SHOP_NUMBER}"\npublic_url = "{PUBLIC}"\n'
        f'api_base_url = "{twilio.base_url}"\n'
        f'[server]\nhost = "127.0.0.1"\nport = {port}\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KABAR_")}
    env["KABAR_WHATSAPP__AUTH_TOKEN"] = twilio.auth_token

    async def kabar(*args: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip

    assert await (await kabar("init-db")).wait() == 0
    run = await kabar("run")
    try:
        async with httpx.AsyncClient() as client, asyncio.timeout(20):
            while True:
                try:
                    health = await client.get(f"http://127.0.0.1:{port}/healthz")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.1)
        assert health.json()["channels"]["whatsapp"] == "running"
        shop = WhatsAppShop(None, twilio, None, port)  # type: ignore[arg-type]
        (hello,) = await shop.write(SARI, "halo")
        assert hello.body and hello.body.startswith("Halo, Sari")
        run.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            assert await run.wait() == 0
        _, err = await run.communicate()
        assert twilio.auth_token not in err.decode() and SARI not in err.decode()
    finally:
        if run.returncode is None:
            run.kill()
