"""One (backend, size) of the scale benchmark, in a process of its own.

`python -m bench.scale_probe BACKEND '{"orders": 10000, ...}'` builds a fresh database of that
size, talks to it through the real conversation, imports a CSV into it, and prints one JSON
line of results (progress goes to stderr). Its own process makes its peak RSS its own. With
`"statements": true` in the spec, `/status` is measured with each statement's time as well
(PostgreSQL).
"""

from __future__ import annotations

import asyncio
import csv
import functools
import json
import logging
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

import handlers.conversation
from bench.common import fresh_database, peak_rss_mb, percentile
from bench.scale_catalog import items
from bench.scale_shop import (
    RESELLERS,
    STAFF_TELEGRAM,
    Shape,
    build,
    customer_address,
    customer_name,
    customer_of,
    customer_phone,
    order_code,
)
from handlers.context import Settings
from handlers.conversation import Conversation
from handlers.i18n import Messages
from handlers.types import Incoming, Reply
from models.enums import Channel, Language, Phase
from models.imports import ORDER_COLUMNS, import_orders, read_csv
from models.orders import Order
from models.storage import Database

log = logging.getLogger("bench.scale")

# What customers type when they ask for stock: words, typos, English, sizes; SKUs are added.
STOCK_QUERIES = (
    "kaos hitam xl",
    "kaos polos putih L",
    "kaos htm xl",
    "kaus item XL",
    "black tee XL",
    "white t-shirt m",
    "kemeja batik parang L",
    "batik kawung M",
    "ada stok kemeja batik?",
    "tote bag",
    "totebag krem",
    "tas selempang coklat",
    "leather wallet",
    "dompet kulit hitam",
    "jaket denim navy L",
    "jacket bomber olive",
    "hoodie abu-abu XL",
    "sweater rajut maroon",
    "celana chino krem",
    "jogger pants black M",
    "topi baseball",
    "hijab segi empat pink",
    "gamis syari hitam L",
    "seragam kantor biru dongker",
    "kaos oversize vintage hijau army",
    "is the black hoodie in stock",
    "flanel merah XXL",
    "linen shirt white",
    "ransel urban",
    "kaos anak kuning",
)


@contextmanager
def long_messages(limit: int) -> Iterator[None]:
    """Let one message carry `limit` characters through the conversation.

    A platform message holds 4,096 characters (about 340 invoice codes); the benchmark asks
    what one command of 1,000 codes costs, so it lifts the conversation's cut for that message.
    """
    saved = handlers.conversation.MAX_TEXT
    handlers.conversation.MAX_TEXT = max(saved, limit)
    try:
        yield
    finally:
        handlers.conversation.MAX_TEXT = saved


def rss_now_mb() -> float:
    """The memory this process holds now, in MiB (Linux; nan elsewhere)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return float("nan")
    kib = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), "")
    return int(kib) / 1024 if kib.isdigit() else float("nan")


@contextmanager
def statement_times(db: Database, wanted: bool) -> Iterator[dict[str, list[float]]]:
    """Time each statement the engine runs meanwhile (ms), by its first words, if `wanted`.

    The timing itself costs a little, so the latencies measured with it are not the table's.
    Statements run in SQLite's thread (most of a question's, see models/storage.py) are not
    seen: this is for PostgreSQL.
    """
    times: dict[str, list[float]] = {}
    if not wanted:
        yield times
        return
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        words = " ".join(statement.split()[:3])
        times.setdefault(words, []).append(1000 * (time.perf_counter() - started.pop()))

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield times
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def customer_says(customer_id: int, text: str) -> Incoming:
    """A message from a customer's own (linked) Telegram chat."""
    address = customer_address(customer_id)
    return Incoming(
        channel=Channel.TELEGRAM,
        chat=address,
        sender=address,
        name=customer_name(customer_id),
        text=text,
    )


async def timed(
    conversation: Conversation,
    messages: list[Incoming],
    answered: Callable[[Incoming, list[Reply]], bool],
    warmup: int,
) -> dict[str, Any]:
    """Send each message in turn; return p50/p99 in ms and how many got the answer wanted."""
    for incoming in messages[:warmup]:
        await conversation.handle(incoming)
    took: list[float] = []
    good = 0
    for incoming in messages[warmup:]:
        start = time.perf_counter()
        replies = await conversation.handle(incoming)
        took.append((time.perf_counter() - start) * 1000)
        good += answered(incoming, replies)
    return {
        "p50": percentile(took, 0.5),
        "p99": percentile(took, 0.99),
        "samples": len(took),
        "answered": good,
    }


def _text(replies: list[Reply]) -> str:
    return "\n".join(reply.text for reply in replies)


async def latencies(
    conversation: Conversation, shape: Shape, spec: dict[str, Any], rng: random.Random
) -> dict[str, Any]:
    """/status CODE and /pesanan from random linked customers, /stok with varied questions."""
    warmup, samples = spec["warmup"], spec["samples"]
    timelines = {conversation.messages.text(lang, "status.timeline") for lang in Language}
    order_ids = [rng.randrange(1, shape.orders + 1) for _ in range(warmup + samples)]
    status = [
        customer_says(customer_of(shape, oid), f"/status {order_code(oid)}") for oid in order_ids
    ]

    def shows_order(incoming: Incoming, replies: list[Reply]) -> bool:
        text = _text(replies)
        return incoming.text.split()[1] in text and any(t in text for t in timelines)

    pesanan = [
        customer_says(rng.randrange(1, shape.customers + 1), "/pesanan")
        for _ in range(warmup + samples)
    ]
    skus = [item.sku for item in items(shape.skus, random.Random(shape.seed))]
    queries = [*STOCK_QUERIES, *(rng.choice(skus) for _ in range(5))]
    stock = [
        customer_says(rng.randrange(1, shape.customers + 1), f"/stok {rng.choice(queries)}")
        for _ in range(warmup + samples)
    ]
    nothing = {
        conversation.messages.text(lang, "stock.none", query="").split('"')[0] for lang in Language
    }
    with statement_times(conversation.db, spec.get("statements", False)) as statements:
        status_times = await timed(conversation, status, shows_order, warmup)
    if statements:
        status_times["statements"] = {
            words: {"count": len(ms), "p50": percentile(ms, 0.5), "p99": percentile(ms, 0.99)}
            for words, ms in statements.items()
        }
    return {
        "status": status_times,
        "pesanan": await timed(
            conversation, pesanan, lambda _, replies: "INV-" in _text(replies), warmup
        ),
        "stock": await timed(
            conversation,
            stock,
            lambda _, replies: not any(_text(replies).startswith(n) for n in nothing),
            warmup,
        ),
    }


async def bulk_stage(db: Database, conversation: Conversation, shape: Shape) -> dict[str, Any]:
    """One staff command moving the newest `bulk` paid orders to packed."""
    first = shape.orders - shape.bulk + 1
    codes = [order_code(order_id) for order_id in range(first, shape.orders + 1)]
    text = f"/tahap {','.join(codes)} dikemas"
    staff = str(STAFF_TELEGRAM)
    incoming = Incoming(Channel.TELEGRAM, chat=staff, sender=staff, name="Staf", text=text)
    with long_messages(len(text)):
        start = time.perf_counter()
        replies = await conversation.handle(incoming)
        seconds = time.perf_counter() - start
    async with db.sessions() as session:
        packed = await session.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.id >= first, Order.phase == Phase.PACKED)
        )
    return {
        "codes": len(codes),
        "moved": _text(replies).count("✅"),
        "packed": packed,
        "seconds": seconds,
    }


def write_orders_csv(path: Path, shape: Shape, rows: int, rng: random.Random) -> None:
    """An orders CSV of new orders: half from known customers, some dropship, 1-2 lines each."""
    skus = [item.sku for item in items(shape.skus, random.Random(shape.seed))]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ORDER_COLUMNS)
        written, number = 0, 0
        while written < rows:
            number += 1
            if rng.random() < 0.5:
                known = rng.randrange(1, shape.customers + 1)
                name, phone, lang = customer_name(known), customer_phone(known), ""
            else:
                name, phone, lang = f"Pembeli {number}", f"08139{number:07d}", "id"
            reseller = f"RS{rng.randrange(1, RESELLERS + 1):02d}" if rng.random() < 0.1 else ""
            count = min(rows - written, 1 if rng.random() < 0.6 else 2)
            for sku in rng.sample(skus, count):
                writer.writerow(
                    [f"IMP-{number:07d}", name, phone, sku, rng.randrange(1, 3), reseller, lang]
                )
            written += count


async def import_csv(db: Database, path: Path) -> dict[str, Any]:
    """Read and import the CSV in one transaction, as `kabar import orders` does.

    A failing import is reported, not raised: the figures measured before it still count.
    """
    start = time.perf_counter()
    try:
        rows = await asyncio.to_thread(read_csv, path, ORDER_COLUMNS)
        result = await db.write(functools.partial(import_orders, rows=rows))
    except Exception as exc:
        log.exception("the import failed")
        nan = float("nan")
        return {"rows": 0, "created": 0, "seconds": nan, "rows_per_s": nan, "error": repr(exc)}
    seconds = time.perf_counter() - start
    return {
        "rows": result.rows,
        "created": result.created,
        "awaiting_stock": result.awaiting_stock,
        "seconds": seconds,
        "rows_per_s": result.rows / seconds,
    }


async def probe(backend: str, spec: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Build one shop and measure everything the issue asks for."""
    shape = Shape(orders=spec["orders"], skus=spec["skus"], bulk=spec["bulk"])
    rng = random.Random(shape.seed + 1)
    csv_path = folder / "orders.csv"
    await asyncio.to_thread(write_orders_csv, csv_path, shape, spec["import_rows"], rng)
    out: dict[str, Any] = {"backend": backend, "orders": shape.orders, "skus": shape.skus}
    async with fresh_database(backend, folder) as db:
        start = time.perf_counter()
        await build(db, shape)
        out["build_s"] = time.perf_counter() - start
        out["rss_mb"] = {"built": await asyncio.to_thread(rss_now_mb)}
        log.info("%s %s orders built in %.1f s", backend, shape.orders, out["build_s"])
        conversation = Conversation(db, Settings(), Messages.load())
        out |= await latencies(conversation, shape, spec, rng)
        out["rss_mb"]["answered"] = await asyncio.to_thread(rss_now_mb)
        log.info("%s %s orders: latencies measured", backend, shape.orders)
        out["bulk"] = await bulk_stage(db, conversation, shape)
        out["rss_mb"]["bulk"] = await asyncio.to_thread(rss_now_mb)
        # `kabar import` runs in a process of its own: the serving figure stops here.
        out["rss_serving_peak_mb"] = peak_rss_mb()
        out["import"] = await import_csv(db, csv_path)
        out["rss_mb"]["imported"] = await asyncio.to_thread(rss_now_mb)
    out["rss_peak_mb"] = peak_rss_mb()
    return out


def main() -> None:
    """Run one probe from the command line and print its JSON line."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="  %(message)s")
    backend, spec = sys.argv[1], json.loads(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix="kabar-scale-") as folder:
        result = asyncio.run(probe(backend, spec, Path(folder)))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
