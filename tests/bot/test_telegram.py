"""The Telegram channel: the real python-telegram-bot against a fake Bot API over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
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
from sqlalchemy import select, update

from bot.channels import split_text
from bot.config import config_from_mapping
from bot.telegram import TelegramChannel
from bot.web import SECRET_HEADER, create_web_app
from handlers.types import Choice, Reply
from models import Chat, InboundMessage, Notification, Product, Reseller, Staff, linking
from models.enums import Channel, NotificationStatus
from models.placing import place_order
from models.storage import Database
from tests.fakes.telegram import FakeTelegram, SentMessage
from tests.support import factories
from tests.support.shop import UNDO, Shop, open_shop

SARI, RINA, DEWI, MAWAR = 5001, 5002, 900, 700
GROUP = -100200300
SECRET = "s3cret-Token_for-tests"


def telegram_config(fake: FakeTelegram, **extra: Any) -> Any:
    return config_from_mapping(
        {
            "telegram": {
                "enabled": True,
                "token": fake.token,
                "api_base_url": fake.base_url,
                "bot_username": fake.username,
                **extra,
            }
        }
    ).telegram


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


async def _staff_on_telegram(db: Database) -> None:
    async with db.transaction() as s:
        await s.execute(update(Staff).values(telegram_id=DEWI))
        await s.execute(update(Reseller).values(telegram_id=MAWAR))


@pytest.fixture
async def shop(sqlite_db: Database, fake: FakeTelegram) -> AsyncIterator[Shop]:
    """The demo shop, its staff and reseller on Telegram, the bot polling the fake."""
    shop = await open_shop(sqlite_db)
    await _staff_on_telegram(sqlite_db)
    channel = TelegramChannel(telegram_config(fake), shop.conversation, shop.messages, shop.db)
    shop.dispatcher.channels[Channel.TELEGRAM] = channel
    await channel.start()
    try:
        yield shop
    finally:
        await channel.stop()


async def say(
    fake: FakeTelegram, user: int, text: str = "", *, chat: int | None = None, **extra: Any
) -> list[SentMessage]:
    """A person writes; wait for the bot's answers to that chat."""
    chat_id = chat if chat is not None else user
    before = len(fake.sent)
    fake.push_update(fake.message_update(chat_id=chat_id, user_id=user, text=text, **extra))
    await fake.wait_for_sent(before + 1)
    await asyncio.sleep(0.05)  # a second reply (status after linking) follows the first
    return [m for m in fake.sent[before:] if m.chat_id == chat_id]


async def link_sari(fake: FakeTelegram, shop: Shop) -> None:
    """Sari shares her own number: her Telegram chat sees every order placed with it."""
    own = {"phone_number": "6281234567890", "first_name": "Sari", "user_id": SARI}
    replies = await say(fake, SARI, contact=own)
    assert replies[0].text.startswith("Terima kasih, Sari! Pesanan dengan nomor Anda")


async def test_deep_link_links_the_chat_and_shows_the_order(shop: Shop, fake: FakeTelegram) -> None:
    replies = await say(fake, SARI, f"/start {shop.links['INV-1001']}")
    assert (
        "Terima kasih, Sari! Chat ini sekarang terhubung dengan pesanan INV-1001" in replies[0].text
    )
    assert "Status: dipesan" in replies[1].text
    bad = await say(fake, 5999, "/start AAAAAAAAAAAAAAAAAAAAAA")
    assert bad[0].text == shop.t("id", "start.bad_code")
    keyboard = bad[0].reply_markup or {}
    assert keyboard["keyboard"][0][0] == {"text": "Bagikan nomor saya", "request_contact": True}


async def test_shared_own_contact_links_and_a_forwarded_one_is_refused(
    shop: Shop, fake: FakeTelegram
) -> None:
    forwarded = {"phone_number": "+6281234567890", "first_name": "Sari", "user_id": 4242}
    refused = await say(fake, 5100, contact=forwarded)
    assert refused[0].text == shop.t("id", "contact.not_yours")
    assert "INV-1001" not in (await say(fake, 5100, "/pesanan"))[0].text
    # Telegram sends the number international, without its plus.
    own = {"phone_number": "6281234567890", "first_name": "Sari", "user_id": 5100}
    linked = await say(fake, 5100, contact=own)
    assert linked[0].text.startswith("Terima kasih, Sari! Pesanan dengan nomor Anda")
    assert (
        "INV-1001 · Kaos Polos Hitam XL ×2 · dipesan" in (await say(fake, 5100, "/pesanan"))[0].text
    )


async def test_customer_asks_status_orders_stock_and_free_text(
    shop: Shop, fake: FakeTelegram
) -> None:
    await link_sari(fake, shop)
    assert "Riwayat:" in (await say(fake, SARI, "/status INV-1002"))[0].text
    assert (
        "INV-1003 · Kaos Polos Putih L · menunggu stok"
        in (await say(fake, SARI, "/pesanan"))[0].text
    )
    assert "Rp85.000" in (await say(fake, SARI, "/stok kaos hitam xl"))[0].text
    assert (
        "Pesanan yang mana?" in (await say(fake, SARI, "pesanan saya sudah sampai mana?"))[0].text
    )
    # Telegram needs the slash: plain "status" is free text, read as a question.
    assert "Pesanan yang mana?" in (await say(fake, SARI, "status"))[0].text


async def test_staff_payment_reaches_the_customer_chat(shop: Shop, fake: FakeTelegram) -> None:
    await link_sari(fake, shop)
    reply = await say(fake, DEWI, "/bayar INV-1001")
    assert reply[0].text.startswith("✅ INV-1001: dibayar")
    shop.clock.advance(UNDO + 1)
    before = len(fake.sent)
    assert await shop.dispatcher.tick() >= 1
    pushed = [m for m in fake.sent[before:] if m.chat_id == SARI]
    assert len(pushed) == 1 and "Pembayaran sudah kami terima" in pushed[0].text


async def test_staff_photo_goes_to_the_customer(shop: Shop, fake: FakeTelegram) -> None:
    await link_sari(fake, shop)
    caption = "/tahap INV-1002 potong --ke-pelanggan rapi"
    await say(fake, DEWI, photo_file_id="PHOTO-JAHIT-1", caption=caption)
    shop.clock.advance(UNDO + 1)
    before = len(fake.sent)
    await shop.dispatcher.tick()
    (photo,) = [m for m in fake.sent[before:] if m.chat_id == SARI]
    assert photo.method == "sendPhoto" and photo.photo == "PHOTO-JAHIT-1"
    assert "1/4 potong" in photo.text and "Pesan dari toko: rapi" in photo.text


async def test_inline_keyboard_choice_round_trip(shop: Shop, fake: FakeTelegram) -> None:
    menu = await say(fake, SARI, "/stok kaos hitam")
    buttons = [row[0] for row in (menu[0].reply_markup or {})["inline_keyboard"]]
    assert {b["callback_data"] for b in buttons} == {"/stok KAOS-HTM-XL", "/stok KAOS-HTM-L"}
    before = len(fake.sent)
    fake.push_update(fake.callback_update(chat_id=SARI, user_id=SARI, data="/stok KAOS-HTM-L"))
    (answer,) = (
        await fake.wait_for_sent(before + 1)[before:]
        if False
        else [(await fake.wait_for_sent(before + 1))[before]]
    )
    assert answer.text.startswith("Kaos Polos Hitam L (KAOS-HTM-L)")
    assert any(name == "answerCallbackQuery" for name, _ in fake.calls)


async def test_a_choice_too_long_for_a_button_is_written_out(
    shop: Shop, fake: FakeTelegram
) -> None:
    channel = shop.dispatcher.channels[Channel.TELEGRAM]
    long = "/batal INV-1003 stok habis di gudang, pembeli sudah kami telepon tadi pagi"
    short = "/status INV-1003"
    offer = Reply("Maksudnya ini?", choices=(Choice(long, long), Choice(short, short)))
    await channel.send(str(SARI), offer)
    [sent] = await fake.wait_for_sent(1)
    assert sent.text == "Maksudnya ini?\n" + long  # Telegram takes no button that long
    assert [row[0]["callback_data"] for row in (sent.reply_markup or {})["inline_keyboard"]] == [
        short
    ]


async def test_a_blocked_customer_is_marked_inactive_and_not_retried(
    shop: Shop, fake: FakeTelegram
) -> None:
    await link_sari(fake, shop)
    fake.blocked.add(SARI)
    await say(fake, DEWI, "/bayar INV-1001")
    shop.clock.advance(UNDO + 1)

    def attempts() -> int:
        return sum(
            1
            for name, params in fake.calls
            if name == "sendMessage" and int(params["chat_id"]) == SARI
        )

    before = attempts()
    await shop.dispatcher.tick()
    assert attempts() == before + 1
    async with shop.db.sessions() as s:
        chat = await s.scalar(select(Chat).where(Chat.address == str(SARI)))
        assert chat is not None and not chat.active
        statuses = set(
            await s.scalars(select(Notification.status).where(Notification.chat_id == chat.id))
        )
    assert NotificationStatus.DEAD in statuses
    await say(fake, DEWI, "/tahap INV-1001 dikemas")
    shop.clock.advance(3600)
    await shop.dispatcher.tick()
    assert attempts() == before + 1  # never tried again while blocked
    fake.blocked.discard(SARI)
    await say(fake, SARI, "halo")  # writing again reopens the chat
    await say(fake, DEWI, "/kirim INV-1001 jne JN12345678")
    shop.clock.advance(UNDO + 1)
    await shop.dispatcher.tick()
    assert "Kurir: JNE" in fake.sent[-1].text and fake.sent[-1].chat_id == SARI


async def test_commands_addressed_to_the_bot_in_a_group(shop: Shop, fake: FakeTelegram) -> None:
    queue = await say(fake, DEWI, f"/antrian@{fake.username}", chat=GROUP, chat_type="group")
    assert queue[0].text.startswith("Pesanan berjalan:")
    private = await say(
        fake, SARI, f"/status@{fake.username} INV-1001", chat=GROUP, chat_type="group"
    )
    assert private[0].text == shop.t("id", "group.private_only")
    before = len(fake.sent)
    fake.push_update(
        fake.message_update(
            chat_id=GROUP, user_id=DEWI, text="/antrian@other_bot", chat_type="group"
        )
    )
    fake.push_update(
        fake.message_update(chat_id=GROUP, user_id=SARI, text="halo semua", chat_type="group")
    )
    await asyncio.sleep(1.0)
    assert len(fake.sent) == before


async def test_linking_in_a_group_links_nothing_and_says_so(shop: Shop, fake: FakeTelegram) -> None:
    own = {"phone_number": "6281234567890", "first_name": "Sari", "user_id": SARI}
    shared = await say(fake, SARI, contact=own, chat=GROUP, chat_type="group")
    assert shared[0].text == shop.t("id", "link.private_only")
    code = shop.links["INV-1001"]
    started = await say(fake, DEWI, f"/start {code}", chat=GROUP, chat_type="group")
    assert started[0].text == shop.t("id", "link.private_only")
    await say(fake, DEWI, "/bayar INV-1001")
    before = len(fake.sent)
    shop.clock.advance(UNDO + 1)
    await shop.dispatcher.tick()
    assert GROUP not in [m.chat_id for m in fake.sent[before:]]
    async with shop.db.sessions() as s:
        group = await s.scalar(select(Chat).where(Chat.address == str(GROUP)))
        assert group is not None
        assert await linking.chat_orders(s, group, 10) == []


async def test_a_hong_kong_number_shared_opens_no_indonesian_customers_orders(
    shop: Shop, fake: FakeTelegram
) -> None:
    async with shop.db.transaction() as s:
        budi = await factories.customer(s, "+6285251234567", "Budi")
        kaos = await factories.product(s, "KAOS-HK", stock=3)
        await place_order(s, code="INV-852", customer=budi, lines=[(kaos, 1)])
    # A Hong Kong user's own number, as Telegram sends it: no plus.
    own = {"phone_number": "85251234567", "first_name": "Wing", "user_id": 5200}
    shared = await say(fake, 5200, contact=own)
    assert shared[0].text == shop.t("id", "contact.not_found")
    assert "INV-852" not in (await say(fake, 5200, "/pesanan"))[0].text


def test_long_texts_are_split_at_line_breaks() -> None:
    text = "\n".join(f"baris {i:04d}" for i in range(1000))
    parts = list(split_text(text, 4096))
    assert all(len(p) <= 4096 for p in parts) and len(parts) == 3
    assert "\n".join(parts) == text


async def _serve(app: Any) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event)
        await asyncio.sleep(0.01)
    return server, task, port


async def test_webhook_mode_checks_the_secret(sqlite_db: Database, fake: FakeTelegram) -> None:
    shop = await open_shop(sqlite_db)
    config = telegram_config(
        fake,
        mode="webhook",
        webhook_url="https://shop.example/telegram/webhook",
        webhook_secret=SECRET,
    )
    channel = TelegramChannel(config, shop.conversation, shop.messages, shop.db)
    await channel.start()
    server, task, port = await _serve(
        create_web_app(shop.db, telegram=channel, telegram_secret=SECRET)
    )
    try:
        assert fake.webhook is not None
        assert fake.webhook["url"] == "https://shop.example/telegram/webhook"
        assert fake.webhook["secret_token"] == SECRET
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        update_json = fake.message_update(chat_id=SARI, user_id=SARI, text="/bantuan")
        update_json["update_id"] = 1
        async with httpx.AsyncClient() as client:
            for headers in ({}, {SECRET_HEADER: "wrong"}):
                refused = await client.post(url, json=update_json, headers=headers)
                assert refused.status_code == 403
            await asyncio.sleep(0.2)
            assert fake.sent == []
            accepted = await client.post(url, json=update_json, headers={SECRET_HEADER: SECRET})
            assert accepted.status_code == 200
            (reply,) = await fake.wait_for_sent(1)
            assert reply.chat_id == SARI and reply.text.startswith("Perintah yang bisa Anda pakai")
            bad = await client.post(url, content=b"{not json", headers={SECRET_HEADER: SECRET})
            assert bad.status_code == 400
            health = await client.get(f"http://127.0.0.1:{port}/healthz")
            assert health.json() == {
                "status": "ok",
                "database": "ok",
                "channels": {"telegram": "running", "whatsapp": "off"},
            }
    finally:
        server.should_exit = True
        await task
        await channel.stop()


@pytest.fixture
async def hooked(db: Database, fake: FakeTelegram) -> AsyncIterator[tuple[Shop, httpx.AsyncClient]]:
    """The demo shop on either database, Telegram in webhook mode, and a client to post with.

    Served in process, a POST returns once the app has handled the update (Starlette runs the
    background task inside the call), so a test knows a redelivery was dealt with.
    """
    shop = await open_shop(db)
    await _staff_on_telegram(db)
    config = telegram_config(
        fake,
        mode="webhook",
        webhook_url="https://shop.example/telegram/webhook",
        webhook_secret=SECRET,
    )
    channel = TelegramChannel(config, shop.conversation, shop.messages, shop.db)
    shop.dispatcher.channels[Channel.TELEGRAM] = channel
    await channel.start()
    app = create_web_app(shop.db, telegram=channel, telegram_secret=SECRET)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://kabar") as client:
            yield shop, client
    finally:
        await channel.stop()


_update_ids = itertools.count(1)


def numbered(update: dict[str, Any]) -> dict[str, Any]:
    """The update as Telegram sends it to a webhook: with an update_id of its own."""
    return {**update, "update_id": next(_update_ids)}


async def post(client: httpx.AsyncClient, update: dict[str, Any]) -> None:
    """Telegram posts an update to the webhook (and the app handles it)."""
    answer = await client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: SECRET})
    assert answer.status_code == 200


async def test_a_redelivered_staff_update_is_applied_once(
    hooked: tuple[Shop, httpx.AsyncClient], fake: FakeTelegram
) -> None:
    shop, client = hooked
    stock = select(Product.on_hand).where(Product.sku == "KAOS-HTM-XL")
    async with shop.db.sessions() as s:
        before = await s.scalar(stock)
    assert before == 12
    update = numbered(
        fake.message_update(chat_id=DEWI, user_id=DEWI, text="/stokset KAOS-HTM-XL +5")
    )
    await post(client, update)
    await post(client, update)  # again: Telegram did not hear back in time
    await asyncio.gather(post(client, update), post(client, update))  # and twice at once
    async with shop.db.sessions() as s:
        assert await s.scalar(stock) == 17
    answers = [m for m in fake.sent if m.chat_id == DEWI and "KAOS-HTM-XL" in m.text]
    assert len(answers) == 1
    # A new update saying the same is a new command.
    text = update["message"]["text"]
    await post(client, numbered(fake.message_update(chat_id=DEWI, user_id=DEWI, text=text)))
    async with shop.db.sessions() as s:
        assert await s.scalar(stock) == 22


async def test_a_redelivered_question_is_answered_once(
    hooked: tuple[Shop, httpx.AsyncClient], fake: FakeTelegram
) -> None:
    shop, client = hooked
    own = {"phone_number": "6281234567890", "first_name": "Sari", "user_id": SARI}
    await post(client, numbered(fake.message_update(chat_id=SARI, user_id=SARI, contact=own)))
    update = numbered(fake.message_update(chat_id=SARI, user_id=SARI, text="/pesanan"))
    before = len(fake.sent)
    await post(client, update)
    await post(client, update)
    await asyncio.gather(post(client, update), post(client, update))
    answers = [m for m in fake.sent[before:] if m.chat_id == SARI]
    assert len(answers) == 1 and "INV-1001" in answers[0].text
    await shop.conversation.visits.flush()
    async with shop.db.sessions() as s:
        ids = set(await s.scalars(select(InboundMessage.message_id)))
    assert f"update:{update['update_id']}" in ids  # stored with the visit, for later copies


def _write_config(path: Path, fake: FakeTelegram, db_file: Path, **telegram: Any) -> Path:
    settings = {"enabled": "true", "token": f'"{fake.token}"', "api_base_url": f'"{fake.base_url}"'}
    settings |= {k: f'"{v}"' if isinstance(v, str) else str(v).lower() for k, v in telegram.items()}
    lines = ["[database]", f'url = "sqlite+aiosqlite:///{db_file}"', "[telegram]"]
    lines += [f"{k} = {v}" for k, v in settings.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def _kabar(*args: str, cwd: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KABAR_")}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


@pytest.mark.slow
async def test_kabar_run_polls_and_exits_0_on_sigterm(tmp_path: Path, fake: FakeTelegram) -> None:
    config = _write_config(tmp_path / "config.toml", fake, tmp_path / "shop.db")
    init = await _kabar("init-db", "--config", str(config), cwd=tmp_path)
    assert await init.wait() == 0
    run = await _kabar("run", "--config", str(config), cwd=tmp_path)
    try:
        async with asyncio.timeout(20):
            while not any(name == "getUpdates" for name, _ in fake.calls):  # noqa: ASYNC110 (another process)
                await asyncio.sleep(0.05)
        fake.push_update(fake.message_update(chat_id=SARI, user_id=SARI, text="/start"))
        (hello,) = await fake.wait_for_sent(1, timeout=10)
        assert hello.text.startswith("Halo, Sari! Selamat datang")
        run.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            code = await run.wait()
        _, err = await run.communicate()
        assert code == 0, err.decode()
        assert fake.token not in err.decode()  # the token never reaches the logs
    finally:
        with contextlib.suppress(ProcessLookupError):
            run.kill()


@pytest.mark.slow
async def test_kabar_run_says_in_one_line_why_it_cannot_start(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    wrong = FakeTelegram(token="999:WRONG")
    config = _write_config(tmp_path / "config.toml", fake, tmp_path / "shop.db")
    config.write_text(config.read_text().replace(fake.token, wrong.token), encoding="utf-8")
    assert await (await _kabar("init-db", "--config", str(config), cwd=tmp_path)).wait() == 0
    run = await _kabar("run", "--config", str(config), cwd=tmp_path)
    _, err = await asyncio.wait_for(run.communicate(), timeout=20)
    assert run.returncode == 1
    assert (
        err.decode().strip().splitlines()[-1]
        == f"kabar: telegram.token: the Bot API at {fake.base_url} rejected the token"
    )

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        webhook = _write_config(
            tmp_path / "webhook.toml", fake, tmp_path / "shop.db", mode="webhook",
            webhook_url="https://shop.example/telegram/webhook", webhook_secret=SECRET,
        )  # fmt: skip
        webhook.write_text(
            webhook.read_text() + f'[server]\nhost = "127.0.0.1"\nport = {port}\n', encoding="utf-8"
        )
        run = await _kabar("run", "--config", str(webhook), cwd=tmp_path)
        _, err = await asyncio.wait_for(run.communicate(), timeout=20)
        assert run.returncode == 1
        assert f"server.port: cannot listen on 127.0.0.1:{port}" in err.decode()
    finally:
        busy.close()


async def _notification(shop: Shop, chat_address: int) -> Notification:
    async with shop.db.sessions() as s:
        row = await s.scalar(
            select(Notification)
            .join(Chat, Chat.id == Notification.chat_id)
            .where(Chat.address == str(chat_address))
            .order_by(Notification.id.desc())
            .limit(1)
        )
    assert row is not None
    return row


async def test_flood_control_reschedules_and_bad_requests_are_not_retried(
    shop: Shop, fake: FakeTelegram
) -> None:
    await link_sari(fake, shop)
    await say(fake, DEWI, "/bayar INV-1001")
    shop.clock.advance(UNDO + 1)
    fake.fail_next("sendMessage", 429, retry_after=7)
    await shop.dispatcher.tick()  # (Sari's console chat from the demo shop hears it too)
    row = await _notification(shop, SARI)
    assert row.status is NotificationStatus.PENDING
    assert row.due_at == shop.clock.now + timedelta(seconds=7)
    shop.clock.advance(7)
    await shop.dispatcher.tick()
    assert (await _notification(shop, SARI)).status is NotificationStatus.SENT
    assert "Pembayaran" in fake.sent[-1].text and fake.sent[-1].chat_id == SARI

    await say(fake, DEWI, "/tahap INV-1001 dikemas")
    shop.clock.advance(UNDO + 1)
    fake.fail_next("sendMessage", 400, description="Bad Request: message text is empty")
    await shop.dispatcher.tick()
    row = await _notification(shop, SARI)
    assert row.status is NotificationStatus.DEAD
    assert row.last_error == "telegram: Message text is empty"
    sends = len(fake.sent)
    shop.clock.advance(3600)
    await shop.dispatcher.tick()
    # Not retried: the only message since is the dead letter's alert to Dewi's chat.
    [alert] = fake.sent[sends:]
    assert alert.chat_id == DEWI and "gagal terkirim" in alert.text


async def test_a_group_that_became_a_supergroup_is_followed(shop: Shop, fake: FakeTelegram) -> None:
    await say(fake, DEWI, "/start", chat=GROUP, chat_type="group")
    async with shop.db.transaction() as s:
        group = await s.scalar(select(Chat).where(Chat.address == str(GROUP)))
        assert group is not None
        await s.execute(update(Chat).where(Chat.id == group.id).values(staff_id=None))
    channel = shop.dispatcher.channels[Channel.TELEGRAM]
    fake.fail_next("sendMessage", 400, migrate_to_chat_id=-1009999)
    with pytest.raises(Exception, match="supergroup"):
        await channel.send(str(GROUP), Reply("halo"))
    async with shop.db.sessions() as s:
        moved = await s.scalar(select(Chat.address).where(Chat.id == group.id))
    assert moved == "-1009999"


async def test_menus_show_each_person_their_commands(shop: Shop, fake: FakeTelegram) -> None:
    menus: dict[tuple[object, object, object], list[str]] = {}
    for name, params in fake.calls:
        if name == "setMyCommands":
            scope = params.get("scope") or {}
            key = (scope.get("type"), scope.get("chat_id"), params.get("language_code"))
            menus[key] = [c["command"] for c in params["commands"]]
    customer = menus[("default", None, None)]
    assert "pesanan" in customer and "bayar" in customer and "tahap" not in customer
    assert {"orders", "help", "stock"} <= set(menus[("default", None, "en")])
    staff = menus[("chat", DEWI, None)]
    assert {"bayar", "tahap", "kirim", "undo", "antrian"} <= set(staff)
    assert "pesananku" in menus[("chat", MAWAR, None)]
