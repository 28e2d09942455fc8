"""`kabar run`: start what `bot.app.build` made, in one event loop, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from contextlib import AsyncExitStack

from sqlalchemy.engine import URL

from bot.app import build
from bot.config import Config
from bot.server import raise_fd_limit, serving
from bot.telegram import TelegramStartError
from models.schema import current_revision, head_revision

log = logging.getLogger("kabar")


class RunError(Exception):
    """`kabar run` cannot start; the message is one line for the operator."""


def database_problem(url: URL, exc: BaseException, doing: str = "open") -> str:
    """Say in one line which database could not be used and why, its password masked."""
    # SQLAlchemy wraps the driver's error and adds a second line; the driver's says it best.
    reason = getattr(exc, "orig", None) or exc
    first = (str(reason).strip().splitlines() or [type(reason).__name__])[0]
    return f"database.url: cannot {doing} {url.render_as_string(hide_password=True)}: {first}"


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


async def serve(config: Config, stop: asyncio.Event | None = None) -> int:
    """Start what the configuration enables, run until asked to stop, then stop it all."""
    if not config.telegram.enabled and not config.whatsapp.enabled:
        raise RunError("nothing to run: set telegram.enabled (or whatsapp.enabled) to true")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    app = build(config)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(app.close)
        try:
            await app.db.probe()
            revision = await current_revision(app.db)
        except Exception as exc:  # any driver: refused connection, bad path, bad password
            raise RunError(database_problem(app.db.url, exc)) from exc
        if revision != head_revision():
            raise RunError("the database is not initialised or is outdated: run `kabar init-db`")
        # Take the port first: "port in use" is a clear error, not a crash after connecting.
        sock = _bind(config.server.host, config.server.port) if app.web is not None else None
        if sock is not None:
            stack.callback(sock.close)
        if app.telegram is not None:
            try:
                await app.telegram.start()
            except TelegramStartError as exc:
                raise RunError(str(exc)) from exc
            log.info("telegram: @%s, %s mode", app.telegram.username, config.telegram.mode)
        if app.whatsapp is not None:
            log.info("whatsapp: webhooks at %s/whatsapp/webhook", config.whatsapp.public_url)
        if app.web is not None and sock is not None:
            raise_fd_limit()  # a connection holds a descriptor; the common 1,024 are few
            await stack.enter_async_context(serving(app.web, sock, config.server))
            log.info("web server on %s:%s", config.server.host, config.server.port)

        stack.push_async_callback(app.leadership.release)
        stack.callback(app.stop_jobs)  # before the lead is released

        async def lead() -> None:
            # Every process answers webhooks; one, elected, dispatches and runs the jobs.
            if await app.leadership.wait(stop):
                app.scheduler.start()

        leader_task = asyncio.create_task(lead())
        stack.callback(leader_task.cancel)
        log.info("kabar is running; Ctrl+C or SIGTERM stops it")
        await stop.wait()
        log.info("stopping")
    return 0
