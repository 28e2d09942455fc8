"""`kabar run`: channels, web server and scheduler in one event loop until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import build
from bot.channels import ChatChannel
from bot.config import Config
from bot.jobs import Jobs
from bot.leader import Leadership
from bot.telegram import TelegramChannel, TelegramStartError
from bot.web import create_web_app
from bot.whatsapp import WhatsAppChannel
from models.enums import Channel
from models.schema import current_revision, head_revision

log = logging.getLogger("kabar")


DISPATCH_JOB = "dispatch"


class RunError(Exception):
    """`kabar run` cannot start; the message is one line for the operator."""


def _bind(host: str, port: int) -> socket.socket:
    """Take the server's port now, so "port in use" is a clear error, not a crash later."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise RunError(f"server.port: cannot listen on {host}:{port} ({exc.strerror})") from exc
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _scheduler(
    config: Config, dispatch: Callable[[], Awaitable[int]], jobs: Jobs
) -> AsyncIOScheduler:
    """The dispatcher and the jobs, built from the configuration (not started)."""
    scheduler = AsyncIOScheduler()
    scheduler.add_job(
        dispatch,
        "interval",
        id=DISPATCH_JOB,
        seconds=config.scheduler.dispatch_interval_seconds,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=60,
    )
    scheduler.add_job(
        jobs.late_orders,
        "interval",
        minutes=config.scheduler.late_check_minutes,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=600,
    )
    digest = config.scheduler.digest_at
    scheduler.add_job(
        jobs.morning_digest,
        "cron",
        hour=digest.hour,
        minute=digest.minute,
        timezone=config.shop.tz,
        coalesce=True,
        misfire_grace_time=3600,
    )
    return scheduler


async def serve(config: Config, stop: asyncio.Event | None = None) -> int:
    """Run everything the configuration enables until asked to stop."""
    if not config.telegram.enabled and not config.whatsapp.enabled:
        raise RunError("nothing to run: set telegram.enabled (or whatsapp.enabled) to true")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    channels: dict[Channel, ChatChannel] = {}
    app = build(config, channels)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(app.close)
        revision = await current_revision(app.db)
        if revision != head_revision():
            raise RunError("the database is not initialised or is outdated: run `kabar init-db`")
        telegram_webhook = config.telegram.enabled and config.telegram.mode == "webhook"
        sock = None
        if telegram_webhook or config.whatsapp.enabled:
            sock = _bind(config.server.host, config.server.port)
            stack.callback(sock.close)
        telegram = None
        if config.telegram.enabled:
            telegram = TelegramChannel(config.telegram, app.conversation, app.messages, app.db)
            try:
                await telegram.start()
            except TelegramStartError as exc:
                await telegram.stop()
                raise RunError(str(exc)) from exc
            stack.push_async_callback(telegram.stop)
            channels[Channel.TELEGRAM] = telegram
            log.info("telegram: @%s, %s mode", telegram.username, config.telegram.mode)
        whatsapp = None
        if config.whatsapp.enabled:
            whatsapp = WhatsAppChannel(config.whatsapp, app.conversation, app.messages, app.db)
            stack.push_async_callback(whatsapp.close)
            channels[Channel.WHATSAPP] = whatsapp
            log.info("whatsapp: webhooks at %s/whatsapp/webhook", config.whatsapp.public_url)

        if sock is not None:
            secret = config.telegram.webhook_secret
            web = create_web_app(
                app.db,
                telegram=telegram if telegram_webhook else None,
                telegram_secret=secret.get_secret_value() if secret else "",
                whatsapp=whatsapp,
            )
            server = uvicorn.Server(
                uvicorn.Config(web, log_level="warning", lifespan="off", access_log=False)
            )
            task = asyncio.create_task(server.serve(sockets=[sock]))

            async def stop_server() -> None:
                server.should_exit = True
                await task

            stack.push_async_callback(stop_server)
            log.info("web server on %s:%s", config.server.host, config.server.port)

        leadership = Leadership(app.db)
        stack.push_async_callback(leadership.release)
        scheduler = _scheduler(config, app.dispatcher.tick, Jobs(app.db, app.settings))

        def wake_dispatcher() -> None:
            if scheduler.running:
                scheduler.get_job(DISPATCH_JOB).modify(next_run_time=datetime.now(UTC))

        app.conversation.on_commit = wake_dispatcher

        def stop_scheduler() -> None:
            if scheduler.running:
                scheduler.shutdown(wait=False)

        stack.callback(stop_scheduler)

        async def lead() -> None:
            # Every process answers webhooks; one, elected, dispatches and runs the jobs.
            if await leadership.wait(stop):
                scheduler.start()

        leader_task = asyncio.create_task(lead())
        stack.callback(leader_task.cancel)
        log.info("kabar is running; Ctrl+C or SIGTERM stops it")
        await stop.wait()
        log.info("stopping")
    return 0
