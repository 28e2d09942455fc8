"""Hostile clients: what one unsigned 10 MB request and 1,100 slow clients do to `kabar run`.

kabar runs for real (`python -m bot run`, WhatsApp on, a fake Twilio in its own process) with
its soft file-descriptor limit set to 1,024, the common Linux default. Then:

- one unsigned 10 MB form POST to /whatsapp/webhook: the growth of kabar's resident memory
  (VmRSS after the answer, VmHWM the peak), read from /proc;
- slow clients: each opens a connection, sends a request line and then one header byte every
  10 s; while they are connected, /healthz is asked once every half second (10 s timeout).
  The table says how many got connected, how /healthz answered, how many the server cut off
  (and when), and how much kabar wrote to its log.

`KABAR_BENCH_SOURCE=/path/to/checkout` runs another checkout's kabar (for before/after).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.common import ROOT, Table, median, percentile, run_from_command_line
from bench.fakes import fake_platform

SHOP_NUMBER = "+6281100001111"
PUBLIC_URL = "https://shop.example"
SOFT_FD_LIMIT = 1024
BODY_MB = 10


@dataclass(frozen=True)
class Size:
    """How hard to push."""

    clients: int
    trickle_seconds: float  # between two bytes of one slow client
    watch_seconds: float  # how long to keep the slow clients going
    health_checks: int
    extra_config: str = ""  # e.g. a shorter read timeout for the smoke run


SIZES = {
    "full": Size(clients=1_100, trickle_seconds=10, watch_seconds=65, health_checks=10),
    "smoke": Size(
        clients=30,
        trickle_seconds=1,
        watch_seconds=8,
        health_checks=3,
        extra_config="read_timeout_seconds = 2\n",
    ),
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


def _reset_peak(pid: int) -> None:
    """Let VmHWM start again from the current RSS (Linux: clear_refs 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _lower_fd_limit() -> None:
    """In the child before exec: the common default soft limit, the hard one as it is."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(SOFT_FD_LIMIT, hard), hard))


class Kabar:
    """`kabar run` with WhatsApp on, in a process of its own, its log in a file."""

    def __init__(self, folder: Path, twilio: dict[str, Any], extra_config: str) -> None:
        self.folder = folder
        self.port = _free_port()
        self.log = folder / "kabar.log"
        self.config = folder / "config.toml"
        self.config.write_text(
            f'[database]\nurl = "sqlite+aiosqlite:///{folder / "shop.db"}"\n'
            f'[whatsapp]\nenabled = true\naccount_sid = "{twilio["account_sid"]}"\n'
            f'from_number = "{SHOP_NUMBER}"\npublic_url = "{PUBLIC_URL}"\n'
            f'api_base_url = "{twilio["base_url"]}"\n'
            f'[server]\nhost = "127.0.0.1"\nport = {self.port}\n{extra_config}',
            encoding="utf-8",
        )
        source = os.environ.get("KABAR_BENCH_SOURCE") or str(ROOT)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KABAR_")}
        self.env["KABAR_WHATSAPP__AUTH_TOKEN"] = twilio["auth_token"]
        self.env["PYTHONPATH"] = source
        self.source = source
        self.process: asyncio.subprocess.Process | None = None

    async def _kabar(self, *args: str, log: Any) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, "--config", str(self.config),
            cwd=self.source, env=self.env, stdout=asyncio.subprocess.DEVNULL, stderr=log,
            preexec_fn=_lower_fd_limit,
        )  # fmt: skip

    async def __aenter__(self) -> Kabar:
        init = await self._kabar("init-db", log=asyncio.subprocess.DEVNULL)
        if await init.wait() != 0:
            raise RuntimeError("kabar init-db failed")
        with self.log.open("wb") as log:
            self.process = await self._kabar("run", log=log)
        async with httpx.AsyncClient() as client, asyncio.timeout(30):
            while True:
                with contextlib.suppress(httpx.TransportError):
                    await client.get(f"{self.url}/healthz")
                    return self
                await asyncio.sleep(0.1)

    async def __aexit__(self, *exc: object) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_bytes(self) -> int:
        return self.log.stat().st_size


async def _post(port: int, path: str, headers: dict[str, str], body: bytes) -> str:
    """POST raw bytes; the answer's status, even if the server stops reading and hangs up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [f"POST {path} HTTP/1.1", "Host: shop.example", f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode())

    async def send() -> None:
        with contextlib.suppress(ConnectionError):
            for start in range(0, len(body), 64 * 1024):
                writer.write(body[start : start + 64 * 1024])
                await writer.drain()

    sending = asyncio.create_task(send())
    try:
        async with asyncio.timeout(60):
            line = await reader.readline()
        return line.split()[1].decode() if line else "closed"
    except ConnectionError:  # it answered and closed with our bytes unread: TCP resets
        return "reset"
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
        writer.close()


async def big_requests(kabar: Kabar) -> Table:
    """RSS before and after one 10 MB POST without a signature, then one with a forged one."""
    table = Table(
        f"{BODY_MB} MB form POSTs to /whatsapp/webhook",
        ["request", "answer", "RSS before MB", "RSS after MB", "growth MB", "peak growth MB"],
    )
    # The form parser's worst case found: percent-escapes, in fields under the 1 MB a field
    # may have in starlette (one bigger field is refused at 1 MB).
    field = b"%41" * 290_000
    body = b"&".join(b"f%d=%s" % (n, field) for n in range(BODY_MB * 1024 * 1024 // len(field)))
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for name, headers in (
        ("unsigned", form),
        ("forged signature", form | {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}),
    ):
        _reset_peak(kabar.pid)
        before = _memory_kib(kabar.pid)
        status = await _post(kabar.port, "/whatsapp/webhook", headers, body)
        after = _memory_kib(kabar.pid)
        table.add(
            name,
            status,
            before["VmRSS"] / 1024,
            after["VmRSS"] / 1024,
            (after["VmRSS"] - before["VmRSS"]) / 1024,
            (after["VmHWM"] - before["VmRSS"]) / 1024,
        )
    return table


class SlowClient:
    """A connection that sends a request line, then one header byte at a time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connected = False
        self.cut_after: float | None = None  # seconds from connecting until the server closed
        self.answer = b""

    async def run(self, trickle: float, until: float) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(10):
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.write(b"POST /whatsapp/webhook HTTP/1.1\r\nHost: shop\r\n")
                await writer.drain()
        except (OSError, TimeoutError):
            return
        self.connected = True
        started = loop.time()
        reading = asyncio.ensure_future(reader.read(1024))
        try:
            while loop.time() < until:
                done, _ = await asyncio.wait([reading], timeout=trickle)
                if done:
                    self.answer = reading.result()
                    self.cut_after = loop.time() - started
                    return
                writer.write(b"X")
                await writer.drain()
        except OSError:
            self.cut_after = loop.time() - started
        finally:
            reading.cancel()
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def slow_clients(kabar: Kabar, size: Size) -> Table:
    """Connect the slow clients, ask /healthz while they hang on, see who is cut off."""
    table = Table(
        f"{size.clients:,} slow clients (one byte per {size.trickle_seconds:g} s)",
        [
            "connected",
            "/healthz 200",
            "/healthz failed",
            "/healthz p50 ms",
            "/healthz max ms",
            "cut off",
            "cut off after s (median)",
            "log grew KB",
        ],
    )
    log_before = kabar.log_bytes()
    loop = asyncio.get_running_loop()
    until = loop.time() + size.watch_seconds
    clients = [SlowClient(kabar.port) for _ in range(size.clients)]
    tasks = [asyncio.create_task(c.run(size.trickle_seconds, until)) for c in clients]
    async with asyncio.timeout(15):  # a guard: connecting takes well under a second each
        while sum(c.connected for c in clients) + sum(t.done() for t in tasks) < len(clients):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    connected = sum(c.connected for c in clients)
    latencies: list[float] = []
    failed = 0
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(size.health_checks):
            started = time.perf_counter()
            try:
                answer = await client.get(f"{kabar.url}/healthz")
                if answer.status_code == 200:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    failed += 1
            except httpx.TransportError:
                failed += 1
            await asyncio.sleep(0.5)
    await asyncio.gather(*tasks)
    cut = [c.cut_after for c in clients if c.cut_after is not None]
    table.add(
        connected,
        len(latencies),
        failed,
        median(latencies),
        max(latencies) if latencies else float("nan"),
        len(cut),
        percentile(cut, 0.5),
        (kabar.log_bytes() - log_before) / 1024,
    )
    return table


async def run(size_name: str) -> list[Table]:
    """Both measurements against one `kabar run`."""
    size = SIZES[size_name]
    with tempfile.TemporaryDirectory(prefix="kabar-hostile-") as folder:
        async with (
            fake_platform("twilio") as twilio,
            Kabar(Path(folder), twilio.ready, size.extra_config) as kabar,
        ):
            big = await big_requests(kabar)
            slow = await slow_clients(kabar, size)
    return [big, slow]


if __name__ == "__main__":
    run_from_command_line("hostile clients", __doc__, run)
