"""The order form shops ask for in chat: read, then placed by staff, resellers and customers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.jobs import Jobs
from handlers.forms import OrderForm, read_form, read_sentence
from handlers.types import Incoming, Reply, SharedContact
from models import Order, OrderDraft, OrderLine, SupportThread
from models.enums import Channel
from models.storage import Database
from tests.support.shop import Shop, open_shop

STRANGER = "+6285799990000"  # writes on WhatsApp, no order yet

FORM = """halo kak mau order
Nama: Budi Santoso
No HP: 0812-3456-7001
Alamat: Jl. Melati No 5, Bandung 40123
Pesanan: kaos hitam XL 2"""

LIST_FORM = """Nama : Budi Santoso
No. HP/WA : 0812-3456-7001
Alamat lengkap: Jl. Melati No 5
RT 02 RW 05
Kec. Coblong
Kota: Bandung
Order:
- KAOS-HTM-XL 2
- TOTE-KNV 1
Ekspedisi: JNE"""


@pytest.fixture
async def shop(db: Database) -> AsyncIterator[Shop]:
    yield await open_shop(db)


async def said(shop: Shop, phone: str, text: str) -> str:
    """The first reply's text to a WhatsApp message."""
    return (await wa(shop, phone, text))[0].text


async def wa(shop: Shop, phone: str, text: str) -> list[Reply]:
    incoming = Incoming(
        channel=Channel.WHATSAPP,
        chat=phone,
        sender=phone,
        name="Pembeli",
        text=text,
        phone_verified=True,
    )
    return await shop.conversation.handle(incoming)


async def order_count(shop: Shop) -> int:
    async with shop.db.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Order)) or 0)


async def newest_order(shop: Shop) -> Order:
    async with shop.db.sessions() as s:
        order = await s.scalar(select(Order).order_by(Order.id.desc()).limit(1))
    assert order is not None
    return order


# --- reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "form"),
    [
        (
            FORM,
            OrderForm(
                "Budi Santoso",
                "0812-3456-7001",
                "Jl. Melati No 5, Bandung 40123",
                "kaos hitam XL 2",
            ),
        ),
        # Labels with dots and slashes, an address over lines and labelled parts, one product
        # a line; the courier asked for is a note for the shop, with its label.
        (
            LIST_FORM,
            OrderForm(
                "Budi Santoso",
                "0812-3456-7001",
                "Jl. Melati No 5, RT 02 RW 05, Kec. Coblong, Bandung",
                "KAOS-HTM-XL 2, TOTE-KNV 1",
                "Ekspedisi: JNE",
            ),
        ),
        # A note over two lines, for the shop; "Catatan" is said once.
        (
            "Nama: Ani\nAlamat: Jl Mawar 1 Bogor\nPesanan: tote 1\nCatatan: bungkus kado ya\n"
            "kartunya tulis Selamat Ulang Tahun",
            OrderForm(
                "Ani",
                "",
                "Jl Mawar 1 Bogor",
                "tote 1",
                "bungkus kado ya; kartunya tulis Selamat Ulang Tahun",
            ),
        ),
        # One product told part by part; "Nama Produk" is the product, not the name.
        (
            "Nama Produk: Kaos Polos\nWarna: Hitam\nUkuran: XL\nJumlah: 2 pcs\n"
            "Nama penerima: Ani\nAlamat: Jl Mawar 1 Bogor",
            OrderForm("Ani", "", "Jl Mawar 1 Bogor", "Kaos Polos Hitam XL 2 pcs"),
        ),
        # WhatsApp's bold, a heading.
        (
            "*FORMAT ORDER*\n*Nama :* Budi\n*No HP :* 0812-3456-7001\n*Alamat :* Jl. Melati 5\n"
            "*Pesanan :* tote 1",
            OrderForm("Budi", "0812-3456-7001", "Jl. Melati 5", "tote 1"),
        ),
        # The number beside the name, with no line of its own.
        (
            "Penerima: Budi (0812-3456-7001)\nAlamat: Jl. Melati 5\nPesanan: tote 1",
            OrderForm("Budi", "0812-3456-7001", "Jl. Melati 5", "tote 1"),
        ),
        # "Kode pos" is part of the address, not an order's code.
        (
            "Nama: Ani\nAlamat: Jl Mawar 1\nKode Pos: 16111\nPesanan: tote 1",
            OrderForm("Ani", "", "Jl Mawar 1, 16111", "tote 1"),
        ),
        (
            "Name: Ann Lee\nPhone: +65 9123 4567\nAddress: 12 Baker Street, London\nOrder: tote 1",
            OrderForm("Ann Lee", "+65 9123 4567", "12 Baker Street, London", "tote 1"),
        ),
    ],
)
def test_an_order_form_is_read_into_its_parts(text: str, form: OrderForm) -> None:
    assert read_form(text) == form


@pytest.mark.parametrize(
    "text",
    [
        "Nama: Budi Santoso, Alamat: Jl. Melati 5, Pesanan: tote 1",  # one line is a sentence
        "Alamat: Jl. Melati 5 Bandung\nmakasih kak",  # one part
        "Nama: Budi\nHP: 0812-3456-7001",  # neither where to nor what
        "jam buka: 9\nalamat toko: dimana ya?\nini pesanan saya yang kemarin: belum sampai",
        "No pesanan: DS-2001\nNama: Rina\nKeluhan: barang belum sampai",  # about one placed
        "Invoice: INV-1001\nAlamat: tolong ganti ke Jl Baru 5",
    ],
)
def test_what_is_no_order_form_is_not_read_as_one(text: str) -> None:
    assert read_form(text) is None


def test_a_form_says_what_it_leaves_out() -> None:
    form = read_form("Nama: Ani\nAlamat: Jl Mawar 1 Bogor")
    assert form is not None and form.missing() == ["phone", "items"]


@pytest.mark.parametrize(
    ("text", "form"),
    [
        (
            "mau order kaos hitam L 2 untuk customer saya a.n Joko 0813-2222-3333 "
            "alamat Jl. Anggrek 3 Malang",
            OrderForm("Joko", "0813-2222-3333", "Jl. Anggrek 3 Malang", "kaos hitam L 2"),
        ),
        # Whom and where after "kirim ke", the number between them.
        (
            "order tote 1 kirim ke Budi, 08123334444, Jl Mawar 2 Depok",
            OrderForm("Budi", "08123334444", "Jl Mawar 2 Depok", "tote 1"),
        ),
        # The number's own label ends the name.
        (
            "kak pesan tote 1 atas nama Rina no hp 0812 3456 7001 alamat Jl Kenanga 9, Bogor",
            OrderForm("Rina", "0812 3456 7001", "Jl Kenanga 9, Bogor", "tote 1"),
        ),
    ],
)
def test_an_order_written_in_one_sentence_is_read_into_its_parts(
    text: str, form: OrderForm
) -> None:
    assert read_sentence(text) == form


@pytest.mark.parametrize(
    "text",
    ["mau order tote 1 kirim ke Depok", "order tote 1 a.n Budi 0812-3334-444"],  # no number; where
)
def test_a_sentence_without_a_number_and_an_address_is_no_order_of_its_own(text: str) -> None:
    assert read_sentence(text) is None


# --- staff -------------------------------------------------------------------------------------


async def test_staff_paste_a_form_and_place_it_with_one_tap(shop: Shop) -> None:
    before = await order_count(shop)
    [shown] = await shop.say("dewi", LIST_FORM)
    assert shown.text.splitlines() == [
        shop.t("id", "neworder.form_check"),
        "• Kaos Polos Hitam XL (KAOS-HTM-XL) ×2 — Rp170.000",
        "• Tote Bag Kanvas (TOTE-KNV) ×1 — Rp60.000",
        "Total: Rp230.000",
        shop.t("id", "neworder.form_to", name="Budi Santoso", phone="0812-3456-7001"),
        shop.t(
            "id",
            "neworder.form_address",
            address="Jl. Melati No 5, RT 02 RW 05, Kec. Coblong, Bandung",
        ),
        shop.t("id", "draft.note", note="Ekspedisi: JNE"),  # kept with the order
    ]
    assert [c.command for c in shown.choices] == ["ya", "batal"]
    assert await order_count(shop) == before  # nothing placed before the tap
    placed = await shop.text("dewi", "ya")
    assert placed.startswith(shop.t("id", "neworder.placed", code="INV-1004", name="Budi Santoso"))
    order = await newest_order(shop)
    assert (order.recipient_name, order.recipient_phone) == ("Budi Santoso", "+6281234567001")
    assert order.address == "Jl. Melati No 5, RT 02 RW 05, Kec. Coblong, Bandung"
    assert order.reseller_id is None
    assert "dipesan — Ekspedisi: JNE" in await shop.text("dewi", "/status INV-1004")


async def test_the_order_to_confirm_says_when_it_would_wait_for_stock(shop: Shop) -> None:
    shown = await shop.text("mawar", FORM.replace("kaos hitam XL 2", "kaos hitam L 9"))
    assert shown.splitlines()[-1] == shop.t("id", "draft.waits")  # 4 on hand


async def test_a_form_staff_drop_places_nothing(shop: Shop) -> None:
    before = await shop.snapshot()
    await shop.say("dewi", FORM)
    assert await shop.text("dewi", "batal") == shop.t("id", "draft.dropped")
    assert await shop.snapshot() == before


async def test_an_unfinished_form_is_reminded_and_dropped_in_words_for_staff(shop: Shop) -> None:
    await shop.say("dewi", FORM)
    jobs = Jobs(shop.db, shop.settings, shop.clock)
    shop.clock.advance(31 * 60)
    await jobs.tend_drafts()
    shop.clock.advance(30 * 60)
    await jobs.tend_drafts()
    told = [reply.text for who, reply in await shop.deliver(after=0) if who == "dewi"]
    assert told == [
        shop.t("id", "support.notice.draft_reminder_for_another"),
        shop.t("id", "support.notice.draft_expired_for_another"),  # no "/pesan ya" for staff
    ]


async def test_what_is_wrong_in_a_form_is_named_and_what_is_missing_asked(shop: Shop) -> None:
    before = await order_count(shop)
    form = "Nama: Budi\nHP: 12\nAlamat: Jl. Melati 5 Bandung\nPesanan: KAOS-XYZ 2"
    said = await shop.text("dewi", form)
    assert said.splitlines() == [
        '• nomor HP "12" tidak valid',
        shop.t("id", "neworder.unknown_sku", sku="KAOS-XYZ"),
        shop.t("id", "neworder.ask_phone"),
    ]
    assert await shop.text("dewi", "0812-3456-7001") == shop.t("id", "neworder.ask_lines")
    shown = await shop.text("dewi", "tote 1")
    assert shown.startswith(shop.t("id", "neworder.form_check"))
    assert await order_count(shop) == before  # nothing placed before the tap


# --- resellers and customers -------------------------------------------------------------------


async def test_a_reseller_pastes_their_buyers_form_for_a_dropship_order(shop: Shop) -> None:
    [shown] = await shop.say("mawar", FORM + "\nCatatan: kirim pagi ya")
    assert "• Kaos Polos Hitam XL (KAOS-HTM-XL) ×2 — Rp140.000" in shown.text  # their price
    placed = await shop.text("mawar", "ya")
    assert placed.startswith(shop.t("id", "neworder.placed", code="INV-1004", name="Budi Santoso"))
    order = await newest_order(shop)
    assert order.reseller_id is not None and order.recipient_phone == "+6281234567001"
    pushed = {who: r.text for who, r in await shop.deliver(after=0)}
    assert pushed["mawar"].startswith("Pesanan dropship INV-1004 untuk Budi Santoso:")
    note = shop.t("id", "alert.chat_order_note", note="kirim pagi ya")
    assert pushed["dewi"].endswith("\n" + note)  # staff hear of it, the reseller's note too


async def test_a_reseller_writes_the_whole_order_in_one_sentence(shop: Shop) -> None:
    said = (
        "mau order kaos hitam L 2 untuk customer saya a.n Joko 0813-2222-3333 "
        "alamat Jl. Anggrek 3 Malang"
    )
    [shown] = await shop.say("mawar", said)
    assert shown.text.splitlines()[1:] == [
        "• Kaos Polos Hitam L (KAOS-HTM-L) ×2 — Rp140.000",
        "Total: Rp140.000",
        shop.t("id", "neworder.form_to", name="Joko", phone="0813-2222-3333"),
        shop.t("id", "neworder.form_address", address="Jl. Anggrek 3 Malang"),
    ]
    await shop.say("mawar", "ya")
    order = await newest_order(shop)
    assert (order.recipient_name, order.address) == ("Joko", "Jl. Anggrek 3 Malang")
    assert order.reseller_id is not None


async def test_a_customers_form_goes_straight_to_the_summary(shop: Shop) -> None:
    summary = await said(shop, STRANGER, FORM)
    # The summary opens the answer: its lines name the product, with no stock line before.
    assert summary.splitlines() == [
        shop.t("id", "draft.summary"),
        "• Kaos Polos Hitam XL (KAOS-HTM-XL) ×2 — Rp170.000",
        "Total: Rp170.000",
        shop.t("id", "draft.to", name="Budi Santoso", address="Jl. Melati No 5, Bandung 40123"),
    ]
    placed = await said(shop, STRANGER, "/pesan ok")
    assert placed.startswith(shop.t("id", "draft.placed", code="INV-1004", due="Rp170.000"))
    order = await newest_order(shop)
    # The order is the chat's; the courier calls the number the form gave.
    assert (order.recipient_name, order.recipient_phone) == ("Budi Santoso", "+6281234567001")


async def test_a_customers_note_in_a_form_is_shown_and_kept_for_staff(shop: Shop) -> None:
    form = FORM + "\nCatatan: tolong dibungkus kado ya"
    summary = await said(shop, STRANGER, form)
    assert shop.t("id", "draft.note", note="tolong dibungkus kado ya") in summary.splitlines()
    await said(shop, STRANGER, "/pesan ok")
    code = (await newest_order(shop)).code
    [alert] = [reply.text for who, reply in await shop.deliver(after=0) if who == "dewi"]
    assert alert.endswith(
        "\n" + shop.t("id", "alert.chat_order_note", note="tolong dibungkus kado ya")
    )
    history = await shop.text("dewi", f"/status {code}")
    assert "dipesan — tolong dibungkus kado ya" in history  # staff read it in the timeline
    assert "kado" not in await said(shop, STRANGER, f"/status {code}")  # the shop's own notes


async def test_a_form_with_the_name_and_address_fills_the_draft_under_way(shop: Shop) -> None:
    await wa(shop, STRANGER, "mau order tote 1")
    [summary] = await wa(shop, STRANGER, "Nama: Ani\nAlamat: Jl Mawar 1, Bogor")
    assert summary.text.splitlines()[1] == "• Tote Bag Kanvas (TOTE-KNV) ×1 — Rp60.000"
    assert summary.text.splitlines()[-1] == shop.t(
        "id", "draft.to", name="Ani", address="Jl Mawar 1, Bogor"
    )
    # "ubah" asks both again: a new name does not go to the form's address unasked.
    await wa(shop, STRANGER, "ubah")
    asked = [r.text for r in await wa(shop, STRANGER, "Ani Lestari")]
    assert asked == [shop.t("id", "draft.ask_address")]


async def test_a_telegram_strangers_form_waits_for_their_number_and_goes_on(
    shop: Shop,
) -> None:
    def tg(text: str = "", contact: SharedContact | None = None) -> Incoming:
        return Incoming(
            channel=Channel.TELEGRAM, chat="7001", sender="7001", text=text, contact=contact
        )

    [ask] = await shop.conversation.handle(tg(FORM))
    assert ask.text == shop.t("id", "draft.share_phone")
    # A number typed instead is asked for again, with the button; the form still waits.
    [again] = await shop.conversation.handle(tg("085799991111"))
    assert (again.text, again.contact_button) == (ask.text, ask.contact_button)
    own = SharedContact("6285799991111", user_id="7001")
    saved, summary = await shop.conversation.handle(tg(contact=own))
    assert saved.text == shop.t("id", "contact.saved")
    assert summary.text.splitlines()[-1] == shop.t(
        "id", "draft.to", name="Budi Santoso", address="Jl. Melati No 5, Bandung 40123"
    )


async def test_a_customers_form_with_several_products_is_one_order(shop: Shop) -> None:
    summary = await said(shop, STRANGER, LIST_FORM)
    assert summary.splitlines()[0:3] == [
        shop.t("id", "draft.summary"),  # not the last product's stock line ("tinggal 2 lagi!")
        "• Kaos Polos Hitam XL (KAOS-HTM-XL) ×2 — Rp170.000",
        "• Tote Bag Kanvas (TOTE-KNV) ×1 — Rp60.000",
    ]
    placed = await said(shop, STRANGER, "/pesan ok")
    assert placed.startswith(shop.t("id", "draft.placed", code="INV-1004", due="Rp230.000"))
    order = await newest_order(shop)
    async with shop.db.sessions() as s:
        lines = (await s.execute(select(OrderLine.qty).where(OrderLine.order_id == order.id))).all()
    assert sorted(qty for (qty,) in lines) == [1, 2]


async def test_a_form_product_that_is_several_is_asked_about_and_the_rest_follow(
    shop: Shop,
) -> None:
    form = "Nama: Budi\nAlamat: Jl. Melati 5, Bandung\nPesanan: kaos hitam 2, tote 1"
    [which] = await wa(shop, STRANGER, form)  # before, a person was asked to read it
    assert [c.command for c in which.choices] == ["/pesan KAOS-HTM-L", "/pesan KAOS-HTM-XL"]
    summary = (await said(shop, STRANGER, "XL")).split(shop.t("id", "draft.summary"))[1]
    assert summary.splitlines()[1:3] == [
        "• Kaos Polos Hitam XL (KAOS-HTM-XL) ×2 — Rp170.000",
        "• Tote Bag Kanvas (TOTE-KNV) ×1 — Rp60.000",
    ]
    assert summary.splitlines()[-1] == shop.t(
        "id", "draft.to", name="Budi", address="Jl. Melati 5, Bandung"
    )


@pytest.mark.parametrize(
    "form",
    [
        "Nama: Budi\nAlamat: Jl. Melati 5, Bandung\nPesanan: sepatu 2, tote 1",
        "Pesanan: INV-1001\nAlamat: salah kak, tolong ganti ke Jl Baru 5 Bandung",
    ],
    ids=["a product the shop does not sell", "an order placed"],
)
async def test_a_customers_form_a_draft_cannot_take_goes_to_a_person(shop: Shop, form: str) -> None:
    assert "#" in await said(shop, STRANGER, form)
    async with shop.db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(SupportThread)) == 1
        assert await s.scalar(select(func.count()).select_from(OrderDraft)) == 0


async def test_asking_how_to_order_is_told_what_to_write_and_the_form(shop: Shop) -> None:
    how = shop.t("id", "draft.how")
    assert await said(shop, STRANGER, "format ordernya gimana kak?") == how
    assert await said(shop, STRANGER, "format order dong") == how  # asked again, in the draft
    assert "Nama:\nNo HP:\nAlamat:\nPesanan:" in how
    # What they then write is the order: the product, and how many came with it.
    taken = await said(shop, STRANGER, "tote 1")
    assert taken.endswith(shop.t("id", "draft.ask_name_or", name="Pembeli"))


# --- the staff's guided order ------------------------------------------------------------------


async def test_products_sent_when_the_address_is_asked_are_added_not_the_address(
    shop: Shop,
) -> None:
    for said in ("/pesananbaru", "Ani", "0812-3456-7001"):
        await shop.say("dewi", said)
    assert await shop.text("dewi", "KAOS-HTM-L 1\nTOTE-KNV 1") == shop.t(
        "id", "neworder.ask_address"
    )
    added = await shop.text("dewi", "KAOS-HTM-XL 1")
    assert added.splitlines() == [
        shop.t("id", "neworder.added", items="Kaos Polos Hitam XL ×1"),
        shop.t("id", "neworder.ask_address"),
    ]
    assert await shop.text("dewi", "ok") == shop.t("id", "neworder.ask_address")
    placed = await shop.text("dewi", "Jl. Kenanga 7 Bogor")
    assert "• Kaos Polos Hitam XL ×1 — Rp85.000" in placed
    assert "• Tote Bag Kanvas ×1 — Rp60.000" in placed
    assert (await newest_order(shop)).address == "Jl. Kenanga 7 Bogor"


async def test_an_answer_under_its_label_is_the_answer(shop: Shop) -> None:
    await wa(shop, STRANGER, "mau order tote 1")
    assert await said(shop, STRANGER, "Nama: Dimas") == shop.t("id", "draft.ask_address")
    summary = await said(shop, STRANGER, "Alamat: Jl Sudirman 10\nKec. Tanah Abang\nKota: Jakarta")
    assert summary.splitlines()[-1] == shop.t(
        "id", "draft.to", name="Dimas", address="Jl Sudirman 10, Kec. Tanah Abang, Jakarta"
    )
    for typed in ("/pesananbaru", "Nama: Ani", "No HP: 0812-3456-7001", "tote 1"):
        await shop.say("dewi", typed)
    await shop.say("dewi", "Alamat: Jl. Kenanga 7 Bogor")
    order = await newest_order(shop)
    assert (order.recipient_name, order.address) == ("Ani", "Jl. Kenanga 7 Bogor")


async def test_batal_ends_the_staffs_order_in_the_making_not_a_cancel(shop: Shop) -> None:
    # Where a command needs no slash (WhatsApp, the console), "batal" is also /batal.
    await shop.say("dewi", "/pesananbaru")
    assert await shop.text("dewi", "batal") == shop.t("id", "draft.dropped")
    assert await shop.text("dewi", "Budi") != shop.t("id", "neworder.ask_phone")


async def test_a_form_in_a_staff_group_is_left_to_the_people_there(shop: Shop) -> None:
    group = Incoming(
        channel=Channel.CONSOLE,
        chat="staff-room",
        sender="dewi",
        name="Dewi",
        text=FORM,
        group=True,
    )
    assert await shop.conversation.handle(group) == []
    async with shop.db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(OrderDraft)) == 0
