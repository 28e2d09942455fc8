"""The front desk across both platforms: the real PTB and twilio clients against local fakes.

The customer may be on WhatsApp while staff work on Telegram, or the other way round; text and
photos go both ways, and a WhatsApp answer outside the 24-hour window is never lost silently.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select, update

from bot.config import config_from_mapping
from bot.dispatcher import Dispatcher
from bot.media import MediaRelay
from bot.pacing import Limits, Pacer
from bot.telegram import TelegramChannel
from bot.web import create_web_app
from bot.whatsapp import WhatsAppChannel
from models import ChatMessage, Notification, Reseller, Staff, SupportThread
from models.enums import Channel, NotificationKind
from models.storage import Database
from tests.fakes.telegram import UPLOADS, FakeTelegram, SentMessage
from tests.fakes.twilio import FakeTwilio, TwilioMessage, inbound_params, sign
from tests.support.shop import Shop, open_shop

PUBLIC = "https://shop.example"
SHOP_NUMBER = "+6281100001111"
SARI_WA, DEWI_WA = "+6281234567890", "+6281100000001"
SARI_TG, DEWI_TG = 5001, 900


@dataclass
class Desk:
    """The demo shop on both platforms at once, its web app on a local port."""

    shop: Shop
    telegram: FakeTelegram
    twilio: FakeTwilio
    port: int
    sids: int = 0

    async def wa(self, sender: str, body: str = "", **extra: Any) -> list[TwilioMessage]:
        """Someone writes on WhatsApp; wait for kabar's replies to them (if any)."""
        before = len(self.twilio.messages)
        self.sids += 1
        params = inbound_params(
            account_sid=self.twilio.account_sid,
            from_=f"whatsapp:{sender}",
            to=f"whatsapp:{SHOP_NUMBER}",
            body=body,
            message_sid=f"SM{self.sids:032d}",
            **extra,
        )
        signature = sign(self.twilio.auth_token, PUBLIC + "/whatsapp/webhook", params)
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"http://127.0.0.1:{self.port}/whatsapp/webhook",
                data=params,
                headers={"X-Twilio-Signature": signature},
            )
        assert answer.status_code == 200
        replies = await self._answered(params["MessageSid"])
        await self.twilio.wait_for_messages(before + replies)
        return [m for m in self.twilio.messages[before:] if m.to == f"whatsapp:{sender}"]

    async def tg(self, user: int, text: str = "", **extra: Any) -> list[SentMessage]:
        """Someone writes on Telegram; wait for kabar's replies to them (if any)."""
        before = len(self.telegram.sent)
        update = self.telegram.message_update(chat_id=user, user_id=user, text=text, **extra)
        self.telegram.push_update(update)
        replies = await self._answered(str(update["message"]["message_id"]))
        await self.telegram.wait_for_sent(before + replies)
        return [m for m in self.telegram.sent[before:] if m.chat_id == user]

    async def _answered(self, provider_id: str) -> int:
        """Wait until the conversation has handled a message; return how many replies it gave.

        The message and its replies are logged when its transaction commits, just before the
        channel sends the replies.
        """
        for _ in range(1000):
            async with self.shop.db.sessions() as s:
                came = await s.scalar(
                    select(ChatMessage).where(
                        ChatMessage.provider_message_id == provider_id,
                        ChatMessage.direction == "in",
                    )
                )
                if came is not None:
                    replies = await s.scalar(
                        select(func.count()).where(
                            ChatMessage.chat_id == came.chat_id,
                            ChatMessage.id > came.id,
                            ChatMessage.direction == "out",
                            ChatMessage.at == came.at,
                        )
                    )
                    return int(replies or 0)
            await asyncio.sleep(0.01)
        raise TimeoutError(f"message {provider_id} was never handled")

    async def deliver(self, after: float = 0) -> None:
        """Let time pass and run the dispatcher once."""
        self.shop.clock.advance(after)
        await self.shop.dispatcher.tick()

    async def thread_number(self) -> int:
        async with self.shop.db.sessions() as s:
            number = await s.scalar(select(SupportThread.id).order_by(SupportThread.id.desc()))
        assert number is not None
        return number


@pytest.fixture
async def desk(sqlite_db: Database) -> AsyncIterator[Desk]:
    shop = await open_shop(sqlite_db)
    async with shop.db.transaction() as s:
        await s.execute(update(Staff).values(telegram_id=DEWI_TG))
        await s.execute(update(Reseller).values(telegram_id=700))
    async with FakeTelegram() as fake, FakeTwilio() as twilio:
        config = config_from_mapping(
            {
                "telegram": {
                    "enabled": True,
                    "token": fake.token,
                    "api_base_url": fake.base_url,
                    "bot_username": fake.username,
                },
                "whatsapp": {
                    "enabled": True,
                    "account_sid": twilio.account_sid,
                    "auth_token": twilio.auth_token,
                    "from_number": SHOP_NUMBER,
                    "public_url": PUBLIC,
                    "api_base_url": twilio.base_url,
                    "templates": {"order_update": "HX" + "1" * 32},
                },
            }
        )
        # Paced as `kabar run` paces: 30 a second, one a second per Telegram chat, replies
        # and pushes from one budget.
        pacers = {
            Channel.TELEGRAM: Pacer(Limits(30, 1)),
            Channel.WHATSAPP: Pacer(Limits(10)),
        }
        shop.dispatcher = Dispatcher(
            shop.db,
            shop.dispatcher.channels,
            shop.messages,
            shop.settings,
            clock=shop.clock,
            pacers=pacers,
        )
        channels = shop.dispatcher.channels
        media = MediaRelay(twilio.auth_token.encode(), PUBLIC, channels)
        telegram = TelegramChannel(
            config.telegram,
            shop.conversation,
            shop.messages,
            shop.db,
            media=media,
            pacer=pacers[Channel.TELEGRAM],
        )
        whatsapp = WhatsAppChannel(
            config.whatsapp,
            shop.conversation,
            shop.messages,
            shop.db,
            media=media,
            pacer=pacers[Channel.WHATSAPP],
        )
        channels[Channel.TELEGRAM] = telegram
        channels[Channel.WHATSAPP] = whatsapp
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        app = create_web_app(shop.db, whatsapp=whatsapp, media=media, clock=shop.clock)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no event)
            await asyncio.sleep(0.01)
        await telegram.start()
        try:
            yield Desk(shop, fake, twilio, sock.getsockname()[1])
        finally:
            await telegram.stop()
            server.should_exit = True
            await task
            await whatsapp.close()


def _to(desk: Desk, chat: int) -> list[SentMessage]:
    return [m for m in desk.telegram.sent if m.chat_id == chat]


async def _fetch(desk: Desk, link: str) -> bytes:
    """What WhatsApp gets when it fetches a media link kabar gave it (from kabar's web app)."""
    path = urlsplit(link).path
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"http://127.0.0.1:{desk.port}{path}")
    assert answer.status_code == 200
    return answer.content


async def test_a_whatsapp_customer_and_staff_on_telegram_text_and_photos_both_ways(
    desk: Desk,
) -> None:
    await desk.tg(DEWI_TG, "/inbox")  # Dewi works from her Telegram chat
    [ack] = await desk.wa(SARI_WA, "mau bicara sama admin")
    number = await desk.thread_number()
    assert ack.body and f"(#{number})" in ack.body and "sebentar lagi" in ack.body
    await desk.deliver()
    [forward] = [m for m in _to(desk, DEWI_TG) if m.text.startswith(f"🙋 #{number}")]
    assert "Sari" in forward.text and "mau bicara sama admin" in forward.text
    assert "7890" not in forward.text  # the phone is masked

    # Her photo of the parcel reaches Dewi's Telegram as a photo.
    parcel = b"\xff\xd8 a photo of a damaged parcel"
    assert await desk.wa(SARI_WA, "ini kak", media_url=desk.twilio.add_media(parcel)) == []
    await desk.deliver(after=11)
    [photo] = [m for m in _to(desk, DEWI_TG) if m.method == "sendPhoto"]
    assert photo.photo is not None and UPLOADS[photo.photo] == parcel
    assert f"#{number}" in photo.text and "[foto] ini kak" in photo.text

    # Dewi answers by replying to the forward; then sends a photo with /balas.
    answered = await desk.tg(DEWI_TG, "Maaf kak, kami kirim ganti ya", reply_to=forward.message_id)
    assert answered[0].text == desk.shop.t("id", "support.replied", number=number)
    desk.telegram.files["AgAC-new-parcel"] = b"\xff\xd8 the new parcel"
    await desk.tg(
        DEWI_TG, photo_file_id="AgAC-new-parcel", caption=f"/balas {number} sudah dikirim"
    )
    before = len(desk.twilio.messages)
    await desk.deliver()
    to_sari = [m for m in desk.twilio.messages[before:] if m.to == f"whatsapp:{SARI_WA}"]
    assert [m.body for m in to_sari] == ["Maaf kak, kami kirim ganti ya", "sudah dikirim"]
    [link] = to_sari[1].media_url
    assert link.startswith(f"{PUBLIC}/media/")
    assert await _fetch(desk, link) == b"\xff\xd8 the new parcel"


async def test_a_telegram_customer_and_staff_on_whatsapp(desk: Desk) -> None:
    linked = await desk.tg(SARI_TG, f"/start {desk.shop.links['INV-1001']}")
    assert "INV-1001" in linked[0].text
    await desk.wa(DEWI_WA, "inbox")  # Dewi works from WhatsApp this time
    await desk.tg(SARI_TG, "saya mau komplain, barangnya rusak")
    number = await desk.thread_number()
    before = len(desk.twilio.messages)
    await desk.deliver()
    [forward] = [m for m in desk.twilio.messages[before:] if m.to == f"whatsapp:{DEWI_WA}"]
    assert forward.body and forward.body.startswith(f"🙋 #{number} · Sari")
    assert "INV-1001" in forward.body

    [sent] = await desk.wa(DEWI_WA, f"balas {number} Mohon maaf kak, kirim foto barangnya ya")
    assert sent.body == desk.shop.t("id", "support.replied", number=number)
    fixed = b"\xff\xd8 the replacement"
    await desk.wa(DEWI_WA, f"/balas {number} penggantinya", media_url=desk.twilio.add_media(fixed))
    await desk.deliver()
    texts = [m for m in _to(desk, SARI_TG) if m.method in ("sendMessage", "sendPhoto")]
    assert texts[-2].text == "Mohon maaf kak, kirim foto barangnya ya"
    assert texts[-1].method == "sendPhoto" and texts[-1].text == "penggantinya"
    assert texts[-1].photo is not None and UPLOADS[texts[-1].photo] == fixed


async def test_staff_send_a_pdf_across_platforms_and_the_customer_gets_the_file(
    desk: Desk,
) -> None:
    # Dewi on Telegram answers Sari on WhatsApp with an invoice PDF.
    await desk.tg(DEWI_TG, "/inbox")
    await desk.wa(SARI_WA, "mau bicara sama admin")
    number = await desk.thread_number()
    desk.telegram.files["BQAC-invoice"] = b"%PDF-1.4 the invoice"
    document = {"file_id": "BQAC-invoice", "file_unique_id": "uBQAC", "file_name": "inv.pdf"}
    await desk.tg(DEWI_TG, caption=f"/balas {number} invoicenya kak", extra={"document": document})
    before = len(desk.twilio.messages)
    await desk.deliver()
    [sent] = [m for m in desk.twilio.messages[before:] if m.to == f"whatsapp:{SARI_WA}"]
    assert sent.body == "invoicenya kak"
    [link] = sent.media_url
    assert await _fetch(desk, link) == b"%PDF-1.4 the invoice"

    # Dewi on WhatsApp answers Sari on Telegram with one: uploaded as the document it is.
    await desk.tg(SARI_TG, f"/start {desk.shop.links['INV-1001']}")
    await desk.tg(SARI_TG, "saya mau komplain")
    await desk.deliver()
    number = await desk.thread_number()
    pdf = desk.twilio.add_media(b"%PDF-1.4 the return form", "application/pdf")
    await desk.wa(
        DEWI_WA,
        f"/balas {number} formulir retur",
        media_url=pdf,
        media_content_type="application/pdf",
    )
    await desk.deliver()
    [form] = [m for m in _to(desk, SARI_TG) if m.method == "sendDocument"]
    assert form.text == "formulir retur"
    assert form.file is not None and UPLOADS[form.file] == b"%PDF-1.4 the return form"


async def test_a_whatsapp_answer_outside_the_24_hour_window_is_not_lost_silently(
    desk: Desk,
) -> None:
    await desk.tg(DEWI_TG, "/inbox")
    await desk.wa(SARI_WA, "mau bicara sama admin")
    number = await desk.thread_number()
    await desk.deliver()
    desk.shop.clock.advance(25 * 3600)  # Sari's window has closed; no staff_reply template
    await desk.tg(DEWI_TG, f"/balas {number} Halo kak, maaf baru sempat balas")
    before = len(desk.twilio.messages)
    await desk.deliver()
    assert not [m for m in desk.twilio.messages[before:] if m.to == f"whatsapp:{SARI_WA}"]
    await desk.deliver()  # the alert is written with the outcome, sent on the next run
    alerts = [m.text for m in _to(desk, DEWI_TG) if "staff_reply" in m.text]
    assert alerts and "tertahan" in alerts[0]
    async with desk.shop.db.sessions() as s:
        held = await s.scalar(
            select(Notification.last_error).where(Notification.kind == NotificationKind.STAFF_REPLY)
        )
    assert held == "needs template: no [whatsapp.templates] staff_reply"


async def test_a_flood_from_whatsapp_is_a_few_forwards_and_no_flood_control(desk: Desk) -> None:
    desk.telegram.limit(per_second=30, per_chat_per_second=1)
    await desk.tg(DEWI_TG, "/inbox")
    await desk.wa(SARI_WA, "mau bicara sama admin")
    await desk.deliver()
    for n in range(50):  # 50 messages in a minute
        await desk.wa(SARI_WA, f"halo admin {n}")
        await desk.deliver(after=1.2)
    await desk.deliver(after=11)
    async with desk.shop.db.sessions() as s:
        threads = list(await s.scalars(select(SupportThread.id)))
    forwards = [m for m in _to(desk, DEWI_TG) if m.text.startswith(("🙋 #", "💬 #"))]
    assert len(threads) == 1
    assert len(forwards) <= 7  # the opening forward, then at most one each 10 s
    assert desk.telegram.too_many == 0
    told = "\n".join(m.text for m in forwards)
    assert all(f"halo admin {n}" in told for n in range(50))


async def test_a_staff_group_hears_handovers_and_no_other_group_does(desk: Desk) -> None:
    staff_group, other_group = -100200300, -100900900
    desk.telegram.push_update(
        desk.telegram.message_update(
            chat_id=staff_group, user_id=DEWI_TG, text="/antrian", chat_type="group"
        )
    )
    await desk.telegram.wait_for_sent(1)
    desk.telegram.push_update(  # a customer chats in a group the bot is in
        desk.telegram.message_update(
            chat_id=other_group, user_id=SARI_TG, text="/status", chat_type="group"
        )
    )
    await desk.telegram.wait_for_sent(2)
    await desk.wa(SARI_WA, "mau bicara sama admin")
    await desk.deliver()
    number = await desk.thread_number()
    assert [m for m in _to(desk, staff_group) if m.text.startswith(f"🙋 #{number}")]
    assert all("Sari" not in m.text for m in _to(desk, other_group))
