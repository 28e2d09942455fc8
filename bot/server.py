"""The HTTP server: uvicorn, with limits on slow, idle and greedy clients.

uvicorn closes an idle keep-alive connection, and nothing else: a client that sends its
request headers a byte at a time (or never) holds a connection and a file descriptor for as
long as it likes, and every byte resets the keep-alive timer. Here every connection gets a
deadline for its next request's headers; the app gives the body its own
(`bot.web.read_body`). Past `limit_concurrency` connections uvicorn answers 503 at once.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, ClassVar

import h11
import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.config import ServerConfig

log = logging.getLogger(__name__)
KEEP_ALIVE_SECONDS = 5  # an idle connection between two requests
FD_HEADROOM = 64  # descriptors kept for the database, outgoing HTTP and the logs
OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
NOISY = frozenset({"Exceeded concurrency limit.", "Invalid HTTP request received."})


class _HeaderDeadline(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request headers are late."""

    header_timeout: ClassVar[float] = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()  # the next request's headers have their own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self._deadline = self.loop.call_later(self.header_timeout, self._overdue)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _overdue(self) -> None:
        self._deadline = None
        idle = self.cycle is None or self.cycle.response_complete
        # Still waiting for headers, or for a body nobody reads (the answer went out): nobody
        # sends that slowly by accident.
        waiting = self.conn.their_state in (h11.IDLE, h11.SEND_BODY)
        if idle and waiting and not self.transport.is_closing():
            self.transport.close()


def _protocol(header_timeout: float) -> type[H11Protocol]:
    return type("KabarHTTPProtocol", (_HeaderDeadline,), {"header_timeout": header_timeout})


def raise_fd_limit() -> int:
    """Raise the soft limit of open files toward the hard one, where allowed; return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1 << 20
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:  # a sandbox, or an OS with a lower ceiling
            log.info("open files limit stays at %s (%s)", soft, exc)
            return soft
        log.info("open files limit raised from %s to %s", soft, target)
        return target
    return soft


def concurrency(wanted: int) -> int:
    """How many connections the server may take: as configured, as far as descriptors go."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    room = max(1, soft - FD_HEADROOM)
    if wanted > room:
        log.warning(
            "server.limit_concurrency: %s is more than this process may open (%s files); using %s",
            wanted,
            soft,
            room,
        )
    return min(wanted, room)


class _Quieter(logging.Filter):
    """Lets each of uvicorn's per-request warnings through once a minute, not per request."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message not in NOISY:
            return True
        now = time.monotonic()
        if now - self._shown.get(message, -60.0) < 60.0:
            return False
        self._shown[message] = now
        record.msg, record.args = "%s (said at most once a minute)", (message,)
        return True


class _AcceptErrors:
    """An event loop exception handler: out of descriptors is one line a minute."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.previous = loop.get_exception_handler()
        self._said = -60.0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        # asyncio reports every failed accept() with a traceback, over and over while the
        # descriptors are gone: that filled disks.
        if isinstance(exc, OSError) and exc.errno in OUT_OF_DESCRIPTORS:
            now = time.monotonic()
            if now - self._said >= 60.0:
                self._said = now
                log.warning("web server: cannot accept connections: %s", exc.strerror)
            return
        if self.previous is not None:
            self.previous(loop, context)
        else:
            loop.default_exception_handler(context)


def uvicorn_config(web: Starlette, server: ServerConfig) -> uvicorn.Config:
    """uvicorn's configuration with kabar's limits."""
    return uvicorn.Config(
        web,
        log_config=None,  # kabar's logging: one format, and tests can read uvicorn's lines
        log_level="warning",
        lifespan="off",
        access_log=False,
        http=_protocol(server.read_timeout_seconds),
        limit_concurrency=concurrency(server.limit_concurrency),
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )


@asynccontextmanager
async def serving(web: Starlette, sock: socket.socket, server: ServerConfig) -> AsyncIterator[None]:
    """Serve the web app on a bound socket for as long as the block runs."""
    loop = asyncio.get_running_loop()
    handler = _AcceptErrors(loop)
    quieter = _Quieter()
    uvicorn_log = logging.getLogger("uvicorn.error")
    loop.set_exception_handler(handler)
    uvicorn_log.addFilter(quieter)
    runner = uvicorn.Server(uvicorn_config(web, server))
    task = asyncio.create_task(runner.serve(sockets=[sock]))
    try:
        while not runner.started and not task.done():  # noqa: ASYNC110 (uvicorn has no event)
            await asyncio.sleep(0.01)
        yield
    finally:
        runner.should_exit = True
        await task
        uvicorn_log.removeFilter(quieter)
        loop.set_exception_handler(handler.previous)
