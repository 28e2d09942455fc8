"""The composition root: `build` wires every part from the configuration and starts nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import DISPATCH_JOB, build
from bot.config import config_from_mapping
from bot.demo import seed
from bot.tracking import BinderByte
from handlers.types import Incoming
from models.enums import Channel
from models.schema import upgrade

TOKEN = "123456:" + "A" * 35


async def test_build_wires_both_channels_the_web_app_and_the_jobs_unstarted(
    tmp_path: Path,
) -> None:
    config = config_from_mapping(
        {
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'kabar.db'}"},
            "telegram": {
                "enabled": True,
                "token": TOKEN,
                "mode": "webhook",
                "webhook_url": "https://shop.example.com/telegram/webhook",
                "webhook_secret": "s3cret",
            },
            "whatsapp": {
                "enabled": True,
                "account_sid": "AC" + "0" * 32,
                "auth_token": "token",
                "from_number": "+14155238886",
                "public_url": "https://shop.example.com",
            },
        }
    )
    app = build(config)
    try:
        assert app.telegram is not None and app.whatsapp is not None
        assert app.dispatcher.channels == {
            Channel.TELEGRAM: app.telegram,
            Channel.WHATSAPP: app.whatsapp,
        }
        assert app.telegram.conversation is app.whatsapp.conversation is app.conversation
        assert app.web is not None
        paths = {getattr(route, "path", "") for route in app.web.routes}
        assert {"/telegram/webhook", "/whatsapp/webhook", "/whatsapp/status"} <= paths
        # Built, not started: no polling, no webhook set, no scheduler.
        assert not app.telegram.running and not app.telegram.app.running
        assert not app.scheduler.running
        names = sorted(job.name for job in app.scheduler.get_jobs())
        assert names == [
            "Dispatcher.tick",
            "Jobs.chase_unpaid",
            "Jobs.close_idle_threads",
            "Jobs.forget_old_messages",
            "Jobs.late_orders",
            "Jobs.morning_digest",
            "Jobs.tend_drafts",
        ]
    finally:
        await app.close()


async def test_polling_telegram_alone_needs_no_web_server(tmp_path: Path) -> None:
    config = config_from_mapping(
        {
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'kabar.db'}"},
            "telegram": {"enabled": True, "token": TOKEN},
        }
    )
    app = build(config)
    try:
        assert app.web is None and app.whatsapp is None
        assert list(app.dispatcher.channels) == [Channel.TELEGRAM]
    finally:
        await app.close()


async def test_a_committed_message_wakes_the_dispatcher_at_once(tmp_path: Path) -> None:
    config = config_from_mapping(
        {
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'kabar.db'}"},
            "scheduler": {"dispatch_interval_seconds": 3600},
            "shop": {"quiet_hours": ""},
        }
    )
    app = build(config)
    try:
        await upgrade(app.db)
        await seed(app.db, datetime.now(UTC))
        app.scheduler.start(paused=True)  # running, but no job fires during the test
        job = app.scheduler.get_job(DISPATCH_JOB)
        assert job is not None and job.next_run_time > datetime.now(UTC) + timedelta(minutes=30)
        await app.conversation.handle(
            Incoming(Channel.CONSOLE, chat="dewi", sender="dewi", text="/bayar INV-1001")
        )
        job = app.scheduler.get_job(DISPATCH_JOB)
        assert job is not None and job.next_run_time <= datetime.now(UTC)
    finally:
        await app.close()


async def test_the_shops_faq_reaches_the_conversation_in_both_languages(tmp_path: Path) -> None:
    config = config_from_mapping(
        {
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'kabar.db'}"},
            "shop": {
                "faq": {
                    "cod": {"id": "Bisa COD", "en": "COD is fine"},
                    "promo": {"id": "Diskon 10% minggu ini", "words": ["ada diskon"]},
                }
            },
        }
    )
    app = build(config)
    try:
        await upgrade(app.db)

        async def ask(chat: str, text: str) -> str:
            incoming = Incoming(channel=Channel.CONSOLE, chat=chat, sender=chat, text=text)
            return "\n".join(r.text for r in await app.conversation.handle(incoming))

        assert await ask("tamu", "bisa cod kak?") == "Bisa COD"
        assert await ask("tamu", "ada diskon ga?") == "Diskon 10% minggu ini"
        await ask("guest", "/language en")
        assert await ask("guest", "cash on delivery?") == "COD is fine"
        assert await ask("guest", "ada diskon?") == "Diskon 10% minggu ini"  # no English written
    finally:
        await app.close()


async def test_a_tracking_provider_adds_the_tracking_round(tmp_path: Path) -> None:
    database = {"url": f"sqlite+aiosqlite:///{tmp_path / 'kabar.db'}"}
    config = config_from_mapping(
        {"database": database, "tracking": {"provider": "binderbyte", "api_key": "k3y"}}
    )
    app = build(config)
    try:
        assert isinstance(app.tracker, BinderByte) and app.jobs.tracker is app.tracker
        assert "J&T" in app.tracker.couriers
        names = [job.name for job in app.scheduler.get_jobs()]
        assert "Jobs.track_shipments" in names
    finally:
        await app.close()
    app = build(config_from_mapping({"database": database}))  # provider "none"
    try:
        assert app.tracker is None
        assert "Jobs.track_shipments" not in [job.name for job in app.scheduler.get_jobs()]
        assert await app.jobs.track_shipments() == 0
    finally:
        await app.close()
