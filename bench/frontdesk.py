"""Front desk: a payment proof becomes staff buttons, a plea for a person becomes a forward.

Run `python -m bench.frontdesk [--smoke]`. On the scale benchmark's shop (10k orders), customers
with an unpaid order send a photo captioned with its code, and other customers ask for a
person. Each message goes through the real conversation, and the dispatcher then sends what
staff are owed (the proof with its one-tap choices, the thread's forward) to a channel that
only records, so the figure is kabar's own time: the conversation's answer to the message
plus its share of the dispatcher's run.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Table, backends, fresh_database, header, percentile
from bench.scale_catalog import items
from bench.scale_shop import (
    STAFF_TELEGRAM,
    Shape,
    build,
    customer_address,
    customer_name,
    customer_phone,
)
from bot.dispatcher import Dispatcher
from handlers.context import Settings
from handlers.conversation import Conversation
from handlers.i18n import Messages
from handlers.types import Incoming, Reply
from models.enums import Channel
from models.order_import import import_orders
from models.storage import Database

TARGET_MS = 50.0  # p99 of kabar's time per message


@dataclass(frozen=True)
class Size:
    """How big a shop and how many messages of each kind."""

    orders: int
    messages: int


SIZES = {"full": Size(orders=10_000, messages=200), "smoke": Size(orders=1_500, messages=12)}


class Recorder:
    """A Telegram channel that keeps what it is asked to send, and sends nothing."""

    kind = Channel.TELEGRAM

    def __init__(self) -> None:
        self.sent: list[tuple[str, Reply]] = []
        self._ids = itertools.count(1)

    async def send(self, address: str, reply: Reply, *, track: bool = False) -> str:
        """Record the message."""
        self.sent.append((address, reply))
        return str(next(self._ids))


async def _new_orders(db: Database, customers: list[int], sku: str) -> list[tuple[str, int]]:
    """An unpaid order for each of these customers (their chats link by phone); code, customer."""
    placed = [(f"FD-{n:05d}", customer) for n, customer in enumerate(customers, start=1)]
    rows = [
        (line, {"code": code, "customer_name": customer_name(customer),
                "customer_phone": customer_phone(customer), "sku": sku, "qty": "1",
                "reseller": "", "language": ""})
        for line, (code, customer) in enumerate(placed, start=2)
    ]  # fmt: skip
    async with db.transaction() as session:
        await import_orders(session, rows)
    return placed


def _says(customer: int, text: str, **extra: Any) -> Incoming:
    address = customer_address(customer)
    return Incoming(
        Channel.TELEGRAM, chat=address, sender=address, name="Pembeli", text=text, **extra
    )


async def _one(
    conversation: Conversation, dispatcher: Dispatcher, staff: Recorder, incoming: Incoming
) -> tuple[float, list[Reply], list[Reply]]:
    """Answer one message, then send what staff are owed; kabar's ms, replies, staff's news."""
    staff.sent.clear()
    start = time.perf_counter()
    replies = await conversation.handle(incoming)
    await dispatcher.tick()
    took = (time.perf_counter() - start) * 1000
    told = [reply for address, reply in staff.sent if address == str(STAFF_TELEGRAM)]
    return took, replies, told


async def probe(backend: str, size: Size, folder: Path) -> dict[str, Any]:
    """Build the shop, send the proofs and the pleas, return timings and what staff got."""
    async with fresh_database(backend, folder) as db:
        await build(db, Shape(orders=size.orders, skus=500, bulk=10))
        messages = Messages.load()
        # No undo window and no quiet hours: staff hear of each message in the same tick.
        settings = Settings(shop_name="Toko Bench", undo_seconds=0, support_hours=None)
        conversation = Conversation(db, settings, messages)
        staff = Recorder()
        dispatcher = Dispatcher(db, {Channel.TELEGRAM: staff}, messages, settings)
        await dispatcher.tick()  # what the build left owed
        shape = Shape(orders=size.orders, skus=500, bulk=10)
        chosen = random.Random(3).sample(range(1, shape.customers + 1), 2 * size.messages)
        sku = items(shape.skus, random.Random(shape.seed))[0].sku
        proofs = await _new_orders(db, chosen[: size.messages], sku)
        pleas = chosen[size.messages :]
        await dispatcher.tick()  # "order received", to the customers
        out: dict[str, Any] = {"backend": backend}
        took, good = [], 0
        for n, (code, customer) in enumerate(proofs):
            incoming = _says(customer, code, photo=f"transfer-{n}")
            ms, _, told = await _one(conversation, dispatcher, staff, incoming)
            took.append(ms)
            good += any(code in r.text and r.photo and len(r.choices) == 3 for r in told)
        out["proof"] = _figures(took, good)
        took, good = [], 0
        for customer in pleas:
            incoming = _says(customer, "mau bicara sama admin")
            ms, _, told = await _one(conversation, dispatcher, staff, incoming)
            took.append(ms)
            good += any(r.text.startswith("🙋 #") for r in told)  # support.forward.asked
        out["handover"] = _figures(took, good)
        return out


def _figures(took: list[float], good: int) -> dict[str, Any]:
    return {
        "samples": len(took),
        "right": good,
        "p50": percentile(took, 0.5),
        "p99": percentile(took, 0.99),
    }


async def measure(size: Size) -> list[dict[str, Any]]:
    """Every backend, one after the other."""
    results = []
    for backend in backends():
        with tempfile.TemporaryDirectory(prefix="kabar-frontdesk-") as folder:
            results.append(await probe(backend, size, Path(folder)))
    return results


def tables(size: Size, results: list[dict[str, Any]]) -> list[Table]:
    """One row per backend and kind of message."""
    table = Table(
        f"Front desk: {size.messages} of each on a {size.orders:,}-order shop, "
        f"answered and sent on to staff (target: p99 ≤ {TARGET_MS:.0f} ms)",
        ("database", "message", "messages", "staff told right", "p50 ms", "p99 ms", "target"),
    )
    for r in results:
        for kind, label in (
            ("proof", "transfer proof → buttons"),
            ("handover", "ask for a person"),
        ):
            f = r[kind]
            verdict = "met" if f["p99"] <= TARGET_MS else "MISSED"
            table.add(r["backend"], label, f["samples"], f["right"], f["p50"], f["p99"], verdict)
    return [table]


async def run(size: str) -> list[Table]:
    """The benchmark's tables (for `python -m bench`)."""
    chosen = SIZES[size]
    return tables(chosen, await measure(chosen))


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description="kabar's front-desk benchmark")
    parser.add_argument("--smoke", action="store_true", help="a small, quick run")
    args = parser.parse_args()
    header("Front desk")
    for table in asyncio.run(run("smoke" if args.smoke else "full")):
        table.print()


if __name__ == "__main__":
    main()
