"""Inbound: Telegram updates posted to kabar's webhook and answered, against a raw PTB echo bot.

Run `python -m bench.inbound [--smoke] [--profile DIR] [--workdir DIR]`. Linked customers ask
about their orders and about stock; each waits for the answer before asking again, `concurrency`
of them at once. The fake Bot API and those customers live in one helper process
(bench/inbound_driver.py); the bot under test runs alone in another: kabar as the real
`kabar run` in webhook mode on a seeded database, the baseline as bench/echo_bot.py. Same
updates, same kind of webhook, same fake.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import random
import secrets
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.common import ROOT, Helper, Table, backends, fresh_database, header
from bench.inbound_driver import TOKEN
from bot.app import App, build
from bot.config import load_config
from handlers.types import Incoming, SharedContact
from models.enums import Channel
from models.schema import upgrade
from models.storage import Database
from tests.support.database import postgres_url

TARGET = 0.75  # kabar's updates/s at least this share of the raw echo bot's
CPU_TARGET = 1.4  # kabar's CPU per answered update at most this many times the echo bot's
START_TIMEOUT = 60.0  # seconds a bot may take to come up


@dataclass(frozen=True)
class Size:
    """How much load one run puts on each bot."""

    updates: int
    warmup: int
    customers: int
    concurrency: int


SIZES = {
    # Telegram opens up to 40 webhook connections per bot by default (setWebhook max_connections).
    "full": Size(updates=5_000, warmup=400, customers=600, concurrency=40),
    "smoke": Size(updates=100, warmup=20, customers=24, concurrency=8),
}

COLORS = (
    ("HTM", "Hitam", "black"),
    ("PTH", "Putih", "white"),
    ("NVY", "Navy", "navy"),
    ("MRH", "Merah", "red"),
    ("ABU", "Abu", "grey"),
)
SIZES_WORN = ("S", "M", "L", "XL")
STAGES = "potong:1d;jahit:2d;sablon:1d;qc:4h"
NAMES = ("Sari", "Budi", "Rina", "Agus", "Wati", "Joko", "Lestari", "Eko", "Putri", "Bayu")
STAFF_ID = 700_100_001


@dataclass(frozen=True)
class Person:
    """A seeded customer: their Telegram identity, their order and what they like to ask for."""

    user_id: int
    name: str
    phone: str
    english: bool
    code: str
    bought: str  # the SKU of their order
    made_to_order: bool
    sku: str  # the product they ask about
    words: str  # how they describe it, in their language


def _products() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for color, word, _ in COLORS:
        for size in SIZES_WORN:
            for kind, name, price in (
                ("KAOS", "Kaos Polos", "85000"),
                ("HOODIE", "Hoodie", "185000"),
            ):
                rows.append(
                    {"sku": f"{kind}-{color}-{size}", "name": name, "variant": f"{word} {size}",
                     "price": price, "reseller_price": "", "stock": "1000000",
                     "fulfillment": "ready_stock", "stages": ""}
                )  # fmt: skip
    for size in SIZES_WORN:
        rows.append(
            {"sku": f"BATIK-PRM-{size}", "name": "Kemeja Batik", "variant": f"Premium {size}",
             "price": "350000", "reseller_price": "300000", "stock": "0",
             "fulfillment": "made_to_order", "stages": STAGES}
        )  # fmt: skip
    return rows


def _people(count: int) -> list[Person]:
    people = []
    for i in range(count):
        color, word, english_word = COLORS[i % len(COLORS)]
        size = SIZES_WORN[(i // len(COLORS)) % len(SIZES_WORN)]
        english = i % 4 == 3
        hoodie = i % 2 == 1
        sku = f"{'HOODIE' if hoodie else 'KAOS'}-{color}-{size}"
        if english:
            words = f"{english_word} {'hoodie' if hoodie else 'tee'} {size.lower()}"
        else:
            words = f"{'hoodie' if hoodie else 'kaos'} {word.lower()} {size.lower()}"
        made = i % 3 == 2  # one order in three is made-to-order batik
        bought = f"BATIK-PRM-{SIZES_WORN[i % len(SIZES_WORN)]}" if made else sku
        people.append(
            Person(810_000_000 + i, NAMES[i % len(NAMES)], f"+62812{i:08d}", english,
                   f"INV-{10_000 + i}", bought, made, sku, words)
        )  # fmt: skip
    return people


def _orders(people: Sequence[Person]) -> list[dict[str, str]]:
    return [
        {"code": p.code, "customer_name": p.name, "customer_phone": p.phone, "sku": p.bought,
         "qty": str(1 + i % 2), "reseller": "", "language": "en" if p.english else "id"}
        for i, p in enumerate(people)
    ]  # fmt: skip


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


# The staff commands that bring an order to each point of its journey, in order: ready-stock
# orders go as far as shipped, made-to-order ones through every production stage to ready.
READY_STOCK_JOURNEY = ("/bayar {codes}", "/tahap {codes} dikemas", "/kirim {code} jne JN{number}")
MADE_TO_ORDER_JOURNEY = (
    "/bayar {codes}",
    "/tahap {codes} potong",
    "/tahap {codes} jahit",
    "/tahap {codes} sablon",
    "/tahap {codes} qc",
    "/tahap {codes} siap",
)
CODES_PER_MESSAGE = 50


# Runs several `kabar` commands in one interpreter: each is the real CLI (argument parsing and
# all), without paying for Python and kabar's imports once per command.
CLI_BATCH = """
import json, sys
from bot.cli import main
for argv in json.loads(sys.argv[1]):
    if main(argv):
        sys.exit(f"kabar {' '.join(argv[:2])} failed")
"""


async def _kabar_cli(config: Path, *commands: list[str]) -> None:
    """Run `kabar` commands against the benchmark's configuration; fail loudly if one fails."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KABAR_")}
    argvs = [[*command, "--config", str(config)] for command in commands]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLI_BATCH, json.dumps(argvs), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"seeding with the kabar CLI failed: {(out + err).decode()[-2000:]}")


async def seed(config_path: Path, count: int) -> list[Person]:
    """Fill the shop as a seller would: CSV imports, staff moves, customers linking."""
    # Orders move before any chat is linked, so nobody is owed a notification: the dispatcher
    # of the bot under test stays idle and every message the fake receives is an answer.
    people = _people(count)
    folder = config_path.parent
    products = await asyncio.to_thread(_write_csv, folder / "products.csv", _products())
    orders = await asyncio.to_thread(_write_csv, folder / "orders.csv", _orders(people))
    await _kabar_cli(
        config_path,
        ["import", "products", str(products)],
        ["import", "orders", str(orders)],
        ["staff", "add", "--name", "Dewi", "--telegram-id", str(STAFF_ID)],
    )
    app = build(load_config(config_path))
    try:
        for journey, made in ((READY_STOCK_JOURNEY, False), (MADE_TO_ORDER_JOURNEY, True)):
            mine = [(i, p) for i, p in enumerate(people) if p.made_to_order == made]
            for step, command in enumerate(journey, start=1):
                # Customer i's order takes i % (len + 1) steps: every point of the journey occurs.
                movers = [(i, p) for i, p in mine if i % (len(journey) + 1) >= step]
                await _staff_says(app, command, movers)
        for p in people:
            shared = SharedContact(p.phone, str(p.user_id))
            incoming = Incoming(
                Channel.TELEGRAM, str(p.user_id), str(p.user_id), p.name, contact=shared
            )
            replies = await app.conversation.handle(incoming)
            if p.name not in replies[0].text:
                raise RuntimeError(f"linking {p.code} failed: {replies[0].text}")
    finally:
        await app.close()
    return people


async def _staff_says(app: App, command: str, movers: Sequence[tuple[int, Person]]) -> None:
    """Send a staff command for these orders (many codes per message where it takes them)."""
    if "{code}" in command:
        texts = [command.format(code=p.code, number=f"{i:010d}") for i, p in movers]
    else:
        texts = [
            command.format(codes=",".join(p.code for _, p in movers[at : at + CODES_PER_MESSAGE]))
            for at in range(0, len(movers), CODES_PER_MESSAGE)
        ]
    for said in texts:
        incoming = Incoming(Channel.TELEGRAM, str(STAFF_ID), str(STAFF_ID), "Dewi", text=said)
        answer = "\n".join(r.text for r in await app.conversation.handle(incoming))
        if "❌" in answer or "✅" not in answer:
            raise RuntimeError(f"staff command {said[:40]!r} failed: {answer[:300]}")


def _questions(person: Person) -> list[tuple[str, str]]:
    """List what a customer may ask, each with a piece of the answer proving it is theirs."""
    code, sku, words = person.code, person.sku, person.words
    if person.english:
        return [("/status", code), (f"/status {code}", code), ("/orders", code),
                ("where is my order?", code), (f"/stock {words}", sku),
                (f"is the {words} in stock?", sku)]  # fmt: skip
    return [("/status", code), (f"/status {code}", code), ("/pesanan", code),
            ("pesanan saya sudah sampai mana?", code), (f"/stok {words}", sku),
            (f"ada stok {words}?", sku)]  # fmt: skip


def plan(people: Sequence[Person], count: int, seed: int) -> list[list[Any]]:
    """Pick `count` questions of random customers: [customer index, text, expected piece]."""
    pick = random.Random(seed)
    steps: list[list[Any]] = []
    for _ in range(count):
        index = pick.randrange(len(people))
        question, expect = pick.choice(_questions(people[index]))
        steps.append([index, question, expect])
    return steps


def echo_plan(steps: list[list[Any]]) -> list[list[Any]]:
    """Ask the echo bot the same questions; its right answer is the question itself."""
    return [[index, question, question] for index, question, _ in steps]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(path: Path, *, api: str, database_url: str, port: int, secret: str) -> Path:
    """Write a kabar configuration for webhook mode against the fake, readable by us alone."""
    lines = [
        "[shop]",
        'name = "Toko Bench"',
        'quiet_hours = ""',
        "[database]",
        f"url = {json.dumps(database_url)}",
        "[telegram]",
        "enabled = true",
        f'token = "{TOKEN}"',
        'bot_username = "kabar_bench_bot"',
        'mode = "webhook"',
        'webhook_url = "https://shop.example/telegram/webhook"',
        f'webhook_secret = "{secret}"',
        f"api_base_url = {json.dumps(api)}",
        # Replies are paced like pushes, at Telegram's 30 a second: this measures kabar's own
        # cost, so the limits are lifted (the echo bot has none; the fake enforces none).
        "[notifications]",
        "telegram_per_second = 100000",
        "telegram_per_chat_per_second = 1000",
        "[server]",
        'host = "127.0.0.1"',
        f"port = {port}",
    ]
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextlib.asynccontextmanager
async def fresh_url(backend: str, folder: Path) -> AsyncIterator[tuple[Database, str]]:
    """Yield a migrated, empty database another process can open by URL; drop it afterwards."""
    if backend == "sqlite":
        async with fresh_database("sqlite", folder) as db:
            yield db, db.url.render_as_string(hide_password=False)
        return
    # `kabar run` takes a URL and nothing else, so a schema of our own will not do: a database.
    admin_url = postgres_url()
    assert admin_url is not None
    name = f"bench_inbound_{secrets.token_hex(4)}"
    admin = Database(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    try:
        await upgrade(db)
        yield db, url
    finally:
        await db.dispose()
        async with admin.engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def _wait_healthy(port: int, process: asyncio.subprocess.Process) -> None:
    """Return once kabar answers /healthz; fail if it exits or takes too long."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    async with httpx.AsyncClient() as client:
        while loop.time() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"kabar run exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError("kabar run did not become healthy in time")


@contextlib.asynccontextmanager
async def kabar_running(config: Path, port: int, profile: Path | None) -> AsyncIterator[int]:
    """Run `kabar run --config FILE` in its own process (under pyinstrument when profiling)."""
    runner = ["-m", "bot"]
    if profile is not None:
        runner = ["-m", "pyinstrument", "-r", "text", "-o", str(profile), *runner]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KABAR_")}
    log = config.with_suffix(".log")
    # kabar's log goes to a file: a pipe nobody reads would fill up and stall it.
    stderr = await asyncio.to_thread(log.open, "wb")
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *runner, "run", "--config", str(config),
            cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    finally:
        stderr.close()
    try:
        await _wait_healthy(port, process)
        yield process.pid
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            # Writing a profile of a long run takes pyinstrument a while.
            await asyncio.wait_for(process.wait(), 600 if profile else 60)
        except TimeoutError:
            process.kill()
            await process.wait()
    logged = await asyncio.to_thread(log.read_text, encoding="utf-8", errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"kabar run exited with {process.returncode}:\n{logged[-2000:]}")
    errors = [line for line in logged.splitlines() if line.startswith(("ERROR", "CRITICAL"))]
    if errors:
        print(f"kabar logged {len(errors)} error(s), the first: {errors[0]}", file=sys.stderr)


def cpu_seconds(pid: int) -> float:
    """Return the CPU time a process (all its threads) has used so far; nan without /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def play(driver: Helper, job: dict[str, Any], bot_pid: int) -> dict[str, Any]:
    """Hand the driver a job, wait for its result, and add the bot's CPU time per update."""
    process = driver.process
    assert process is not None and process.stdin is not None and process.stdout is not None
    before = await asyncio.to_thread(cpu_seconds, bot_pid)
    process.stdin.write(json.dumps(job).encode() + b"\n")
    await process.stdin.drain()
    line = await process.stdout.readline()
    if not line:
        raise RuntimeError("the inbound driver died")
    result: dict[str, Any] = json.loads(line)
    # Warm-up included: it is the same kind of work, and it keeps the reading simple.
    handled = len(job["warmup"]) + len(job["updates"])
    used = await asyncio.to_thread(cpu_seconds, bot_pid) - before
    result["bot_cpu_ms"] = used * 1000 / handled
    return result


async def measure(
    size: Size, *, profile: Path | None = None, workdir: Path | None = None, seed_value: int = 7
) -> list[tuple[str, str, dict[str, Any]]]:
    """Run both bots on every backend; return (bot, database, driver result) per run."""
    results: list[tuple[str, str, dict[str, Any]]] = []
    secret = secrets.token_urlsafe(24)
    folder = workdir or Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="kabar-inbound-"))
    try:
        for backend in backends():
            async with (
                Helper("bench.inbound_driver") as driver,
                fresh_url(backend, folder) as (db, url),
                contextlib.AsyncExitStack() as stack,
            ):
                await db.dispose()  # the bots get the database to themselves
                port = _free_port()
                config = await asyncio.to_thread(
                    write_config,
                    folder / f"kabar-{backend}.toml",
                    api=driver.ready["api"],
                    database_url=url,
                    port=port,
                    secret=secret,
                )
                # The echo bot starts (on the other core) while the shop is seeded.
                echo = Helper("bench.echo_bot", "--config", str(config))
                starting = asyncio.create_task(stack.enter_async_context(echo))
                try:
                    people = await seed(config, size.customers)
                finally:
                    await starting  # entered either way, so the stack stops it either way
                customers = [[p.user_id, p.user_id, p.name] for p in people]
                warmup = plan(people, size.warmup, seed_value)
                updates = plan(people, size.updates, seed_value + 1)
                job = {"secret": secret, "concurrency": size.concurrency, "customers": customers}
                echo_job = {"warmup": echo_plan(warmup), "updates": echo_plan(updates)}
                assert echo.process is not None
                hook = f"http://127.0.0.1:{echo.ready['port']}/telegram/webhook"
                raw = await play(driver, job | echo_job | {"url": hook}, echo.process.pid)
                await stack.aclose()  # the echo bot leaves before kabar comes
                results.append(("raw PTB echo", backend, raw))
                trace = profile / f"kabar-{backend}.txt" if profile else None
                kabar_job = {"warmup": warmup, "updates": updates}
                async with kabar_running(config, port, trace) as pid:
                    hook = f"http://127.0.0.1:{port}/telegram/webhook"
                    mine = await play(driver, job | kabar_job | {"url": hook}, pid)
                results.append(("kabar", backend, mine))
    finally:
        if workdir is None:
            await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)
    return results


async def run(size: str) -> list[Table]:
    """Measure kabar and the raw echo bot; return one table of both and their ratio."""
    chosen = SIZES[size]
    return tables(chosen, await measure(chosen))


def tables(size: Size, results: list[tuple[str, str, dict[str, Any]]]) -> list[Table]:
    """Lay the results out as one table: each kabar run after the echo run just before it."""
    table = Table(
        f"Inbound: {size.updates:,} updates to /telegram/webhook, "
        f"{size.concurrency} customers at once (targets: kabar ≥ {TARGET} x raw updates/s, "
        f"≤ {CPU_TARGET} x raw CPU per update)",
        ("bot", "database", "updates/s", "p50 ms", "p99 ms", "replies", "answered right",
         "x raw", "target", "bot CPU ms/update", "CPU x raw", "CPU target", "driver CPU"),
    )  # fmt: skip
    raw_rate = raw_cpu = float("nan")
    for bot, backend, r in results:
        is_raw = bot != "kabar"
        if is_raw:
            raw_rate, raw_cpu = r["per_second"], r["bot_cpu_ms"]
        ratio = r["per_second"] / raw_rate if raw_rate else float("nan")
        cpu = r["bot_cpu_ms"] / raw_cpu if raw_cpu else float("nan")
        verdict = "" if is_raw else ("met" if ratio >= TARGET else "MISSED")
        cpu_verdict = "" if is_raw else ("met" if cpu <= CPU_TARGET else "MISSED")
        table.add(
            bot, "–" if is_raw else backend, r["per_second"], r["p50_ms"], r["p99_ms"],
            r["replies"], r["right"], ratio, verdict, r["bot_cpu_ms"], cpu, cpu_verdict,
            f"{r['driver_cpu']:.0%}",
        )  # fmt: skip
    return [table]


def main() -> None:
    """Print the machine and the table."""
    parser = argparse.ArgumentParser(description="kabar's inbound benchmark")
    parser.add_argument("--smoke", action="store_true", help="a small, quick run")
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile of kabar here")
    parser.add_argument(
        "--workdir", type=Path, help="keep the configurations, CSV files and kabar's log here"
    )
    args = parser.parse_args()
    size = SIZES["smoke" if args.smoke else "full"]
    for folder in (args.profile, args.workdir):
        if folder:
            folder.mkdir(parents=True, exist_ok=True)
    header("Inbound")
    results = asyncio.run(measure(size, profile=args.profile, workdir=args.workdir))
    for table in tables(size, results):
        table.print()
    for bot, backend, r in results:
        if r["wrong_samples"] or r["lost"] or r["refused"] or r["unasked"]:
            print(f"{bot} ({backend}): lost {r['lost']}, refused {r['refused']}, "
                  f"unasked {r['unasked']}, wrong: {r['wrong_samples']}")  # fmt: skip


if __name__ == "__main__":
    main()
