"""`kabar demo`: a shop in a fresh SQLite file and a console chat as customer, staff or reseller."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from rich.console import Console

from bot.app import App, build
from bot.channels import ConsoleChannel
from bot.config import Config, config_from_mapping
from bot.replay import Replay
from handlers.types import Incoming, Reply
from models.catalog import Product
from models.chats import get_or_create_chat
from models.enums import Channel, Fulfillment, Language
from models.linking import link_by_phone
from models.people import Customer, Reseller, Staff
from models.placing import place_order
from models.schema import upgrade
from models.stages import parse_stages, stages_to_json
from models.storage import Database

UNDO_SECONDS = 3  # short, so a demo shows both undo and the push that follows
WAIT = "⏳"  # a script step that lets hours pass: the courier is asked, pushes go out


@dataclass(frozen=True)
class Persona:
    """Someone to chat as in the demo."""

    key: str
    name: str
    role: str


PERSONAS = {
    "sari": Persona("sari", "Sari", "customer"),
    "rina": Persona("rina", "Rina", "customer of reseller Mawar (dropship)"),
    "dewi": Persona("dewi", "Dewi", "staff"),
    "mawar": Persona("mawar", "Mawar Batik Store", "reseller"),
}

# The walk-through of `kabar demo --script`: every phase of the three flows, each pushed.
SCRIPT: tuple[tuple[str, str], ...] = (
    ("sari", "/start {link:INV-1001}"),
    ("sari", "pesanan saya sudah sampai mana?"),
    ("sari", "ada stok kaos hitam XL?"),
    ("sari", "kaos hitam ukuran XXL ada?"),
    ("sari", "bisa COD kak?"),
    # Paying: the amount due with the shop's account, a transfer proof, one tap by staff.
    ("sari", "bayar kemana kak?"),
    ("sari", "/bayar INV-1001"),
    ("sari", "[foto]"),
    ("mawar", "/stok kaos hitam"),
    ("dewi", "/antrian"),
    # Ready stock: paid (Dewi taps ✅ under the proof: "1"), packed, shipped, delivered.
    ("dewi", "1"),
    ("dewi", "/tahap INV-1001 dikemas"),
    ("dewi", "/kirim INV-1001 jne JN0012345678"),
    ("sari", "resi nya mana?"),
    # The courier takes it from there: each milestone is pushed, delivered needs no /terima.
    (WAIT, "1"),
    (WAIT, "2"),
    (WAIT, "4"),
    (WAIT, "15"),
    (WAIT, "3"),
    (WAIT, "3"),
    ("sari", "/lacak INV-1001"),
    # Made to order: every production stage with progress and estimate, and an undo.
    ("dewi", "/bayar INV-1002"),
    ("dewi", "/tahap INV-1002 potong"),
    ("dewi", "/tahap INV-1002 jahit"),
    ("dewi", "/undo"),
    ("dewi", "/tahap INV-1002 jait"),
    ("dewi", "/tahap INV-1002 jahit benang 2 gulung --ke-pelanggan pakai kancing batok kelapa"),
    ("dewi", "/foto INV-1002 jahitan kerah sudah rapi"),
    ("sari", "kak, batiknya udah jadi belum?"),
    ("dewi", "/tahap INV-1002 sablon"),
    ("dewi", "/tahap INV-1002 qc"),
    ("sari", "/status INV-1002"),
    ("dewi", "/tahap INV-1002 siap"),
    ("dewi", "/kirim INV-1002 sicepat SC00998877"),
    ("dewi", "/terima INV-1002"),
    # Dropship: the end customer hears from Mawar's brand, the reseller hears too.
    ("rina", "where is my order?"),
    ("dewi", "/bayar DS-2001"),
    ("dewi", "/tahap DS-2001 dikemas"),
    ("dewi", "/kirim DS-2001 jnt JT9876543210"),
    ("dewi", "/terima DS-2001"),
    ("mawar", "/pesananku"),
    # Out of stock: the waiting order is served first, then the subscriber is told.
    ("sari", "/kabari KAOS-PTH-L"),
    ("dewi", "/stokset KAOS-PTH-L +3"),
    # The front desk: a person takes over what the bot cannot answer, from the staff's chat.
    ("rina", "I want to talk to a human, the strap of my bag is torn"),
    ("dewi", "/inbox"),
    ("dewi", "/ambil 1"),
    ("dewi", "/balas 1 So sorry, Rina! We are sending you a new strap today."),
    ("rina", "thank you so much"),
    ("dewi", "/selesai 1"),
    ("sari", "terima kasih"),
    # Orders placed in chat, one of each kind: staff for a customer who wrote elsewhere, a
    # reseller for their own customer (dropship, at the reseller's price), a customer herself.
    ("dewi", "/pesananbaru Budi Santoso; 0812-3456-7001; KAOS-HTM-L 2, TOTE-KNV 1; Jl. Melati 5"),
    ("mawar", "/pesan KAOS-HTM-XL 1; Andi Wijaya; 0813-5555-1234; Jl. Kenanga 7 Surabaya"),
    ("sari", "mau order kaos hitam L 2"),
    ("sari", "Sari Lestari"),
    ("sari", "Jl. Mawar 1, Bandung 40115"),
    ("sari", "tambah kaos hitam XL 1"),  # one more product, into the same order
    ("sari", "1"),
    # The order form shops ask for, pasted by a reseller: checked, then placed with one tap.
    (
        "mawar",
        "Nama: Putri Ayu\nNo HP: 0813-7777-8888\nAlamat: Jl. Cempaka 3\nKota: Malang\n"
        "Pesanan: tote 1",
    ),
    ("mawar", "1"),
)


# A few of the shop's own answers ([shop.faq]), as a seller would write them.
DEMO_FAQ = {
    "cod": {"id": "Bisa COD untuk Jabodetabek.", "en": "Cash on delivery in Greater Jakarta."},
    "hours": {"id": "Admin aktif 08.00–21.00 WIB.", "en": "We answer 08:00–21:00 Jakarta time."},
}


def demo_config(db_path: Path) -> Config:
    """Defaults, a throwaway database, quiet hours off and a short undo window."""
    return config_from_mapping(
        {
            "shop": {"name": "Toko Batik Kabar", "quiet_hours": "", "faq": DEMO_FAQ},
            "payment": {
                "accounts": [{"bank": "BCA", "number": "1234567890", "holder": "Toko Batik"}]
            },
            "database": {"url": f"sqlite+aiosqlite:///{db_path}"},
            "notifications": {"undo_seconds": UNDO_SECONDS},
            "scheduler": {"dispatch_interval_seconds": 1},
        }
    )


async def seed(db: Database, now: datetime) -> dict[str, str]:
    """Fill the demo shop; return each order's link code."""
    async with db.transaction() as s:
        products = {}
        for sku, name, variant, price, reseller_price, stock, stages in (
            ("KAOS-HTM-XL", "Kaos Polos", "Hitam XL", "85000", "70000", 12, ""),
            ("KAOS-HTM-L", "Kaos Polos", "Hitam L", "85000", "70000", 4, ""),
            ("KAOS-PTH-L", "Kaos Polos", "Putih L", "85000", "70000", 0, ""),
            ("TOTE-KNV", "Tote Bag", "Kanvas", "60000", "48000", 3, ""),
            ("BATIK-PRM-M", "Kemeja Batik", "Premium M", "350000", "300000", 0,
             "potong:1d;jahit:2d;sablon:1d;qc:4h"),
        ):  # fmt: skip
            item = Product(
                sku=sku,
                name=name,
                variant=variant,
                price=Decimal(price),
                reseller_price=Decimal(reseller_price),
                on_hand=stock,
                reserved=0,
                fulfillment=Fulfillment.MADE_TO_ORDER if stages else Fulfillment.READY_STOCK,
                stages_json=stages_to_json(parse_stages(stages)),
            )
            s.add(item)
            products[sku] = item
        dewi = Staff(name="Dewi", phone="+6281100000001")
        mawar = Reseller(code="MAWAR", name="Mawar Batik Store", phone="+6281100000002")
        sari = Customer(phone="+6281234567890", name="Sari", language=Language.ID)
        rina = Customer(phone="+6281399990000", name="Rina", language=Language.EN)
        s.add_all([dewi, mawar, sari, rina])
        await s.flush()
        for key, person in (("dewi", dewi), ("mawar", mawar)):
            chat = await get_or_create_chat(s, Channel.CONSOLE, key)
            chat.staff_id = person.id if person is dewi else None
            chat.reseller_id = person.id if person is mawar else None
        for key, customer in (("sari", sari), ("rina", rina)):
            chat = await get_or_create_chat(s, Channel.CONSOLE, key)
            await link_by_phone(s, chat, customer.phone)
        orders = (
            ("INV-1001", sari, [("KAOS-HTM-XL", 2)], None),
            ("INV-1002", sari, [("BATIK-PRM-M", 1)], None),
            ("INV-1003", sari, [("KAOS-PTH-L", 1)], None),
            ("DS-2001", rina, [("TOTE-KNV", 1)], mawar),
        )
        codes = {}
        for code, customer, lines, reseller in orders:
            order = await place_order(
                s,
                code=code,
                customer=customer,
                lines=[(products[sku], qty) for sku, qty in lines],
                reseller=reseller,
                now=now,
            )
            codes[code] = order.link_code
    return codes


class DemoClock:
    """The demo's time: real time when interactive, a clock the script moves when scripted."""

    def __init__(self, start: datetime | None) -> None:
        self._virtual = start

    def __call__(self) -> datetime:
        return self._virtual or datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        """Move scripted time on."""
        if self._virtual is not None:
            self._virtual += timedelta(seconds=seconds)


def _show(out: Console, who: str, reply: Reply, *, push: bool) -> None:
    arrow = f"📩 {who} ◂" if push else "   kabar ▸"
    lines = reply.text.splitlines() or [""]
    out.print(f"{arrow} {lines[0]}", markup=False, highlight=False)
    for line in lines[1:]:
        out.print(f"{' ' * len(arrow)} {line}", markup=False, highlight=False)
    if reply.photo:
        out.print(f"{' ' * len(arrow)} [photo {reply.photo}]", markup=False)
    elif reply.file is not None:
        out.print(f"{' ' * len(arrow)} [{reply.file.kind} {reply.file.ref}]", markup=False)
    for number, choice in enumerate(reply.choices, start=1):
        out.print(f"{' ' * len(arrow)} [{number}] {choice.label}", markup=False)


PHOTO = "[foto] "  # in the demo, a message starting so comes with a photo


async def say(app: App, persona: str, text: str) -> list[Reply]:
    """Send one message as a persona (`[foto] caption` sends a photo with it)."""
    person = PERSONAS[persona]
    photo = None
    if text.startswith(PHOTO.strip()):
        photo, text = "demo-photo.jpg", text.removeprefix(PHOTO.strip()).strip()
    return await app.conversation.handle(
        Incoming(
            channel=Channel.CONSOLE,
            chat=persona,
            sender=persona,
            name=person.name,
            text=text,
            photo=photo,
        )
    )


async def play_script(app: App, clock: DemoClock, out: Console, links: dict[str, str]) -> int:
    """Play the walk-through, printing every message and push."""
    for step, (persona, template) in enumerate(SCRIPT):
        text = template
        for code, link in links.items():
            text = text.replace(f"{{link:{code}}}", link)
        if persona == WAIT:
            out.print(f"{WAIT} {text} jam kemudian", markup=False, highlight=False)
            clock.advance(float(text) * 3600)
            await app.jobs.track_shipments()
            await app.dispatcher.tick()
            out.print("", markup=False)
            continue
        said = f"{persona} ▸ "
        out.print(said + text.replace("\n", "\n" + " " * len(said)), markup=False, highlight=False)
        for reply in await say(app, persona, text):
            _show(out, persona, reply, push=False)
        undo_next = step + 1 < len(SCRIPT) and SCRIPT[step + 1][1] == "/undo"
        if not undo_next:  # let the undo window pass, then the dispatcher sends
            clock.advance(UNDO_SECONDS + 1)
            await app.dispatcher.tick()
        out.print("", markup=False)
    return 0


async def interactive(app: App, clock: DemoClock, out: Console) -> int:
    """Chat in the terminal; pushes appear as the scheduler sends them."""
    app.scheduler.start()
    persona = "sari"
    out.print(
        "kabar demo. Type as the customer; ':as dewi' (staff), ':as mawar' (reseller), "
        "':as rina' (dropship customer), ':as sari'; ':quit' to leave.",
        markup=False,
    )
    try:
        while True:
            try:
                text = await asyncio.to_thread(input, f"{persona} ▸ ")
            except EOFError:
                return 0
            text = text.strip()
            if text in (":quit", ":q", ":exit"):
                return 0
            if text.startswith(":as "):
                wanted = text[4:].strip().lower()
                if wanted in PERSONAS:
                    persona = wanted
                    out.print(
                        f"now {PERSONAS[persona].name} ({PERSONAS[persona].role})", markup=False
                    )
                else:
                    out.print(f"personas: {', '.join(PERSONAS)}", markup=False)
                continue
            if text:
                for reply in await say(app, persona, text):
                    _show(out, persona, reply, push=False)
    finally:
        app.stop_jobs()


async def run_demo(*, script: bool, out: Console, folder: Path | None = None) -> int:
    """Seed a fresh demo shop and chat in it (or play the walk-through)."""
    with tempfile.TemporaryDirectory(prefix="kabar-demo-") as tmp:
        db_path = (folder or Path(tmp)) / "kabar-demo.db"
        clock = DemoClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC) if script else None)
        channel = ConsoleChannel(lambda who, reply: _show(out, who, reply, push=True))
        # The scripted walk-through follows a parcel with a courier of its own (no network).
        tracker = Replay(clock) if script else None
        app = build(demo_config(db_path), clock=clock, console=channel, tracker=tracker)
        try:
            await upgrade(app.db)
            if script:
                out.print("kabar demo — scripted walk-through\n", markup=False)
            links = await seed(app.db, clock())
            await app.dispatcher.tick()
            if script:
                return await play_script(app, clock, out, links)
            return await interactive(app, clock, out)
        finally:
            await app.close()
