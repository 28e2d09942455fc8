"""Payment: the amount due and how to pay, transfer proofs, one-tap confirmation, reminders."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.jobs import Jobs
from handlers.context import PaymentSettings
from handlers.money import parse_amount
from handlers.types import Attachment
from models import Notification, Order, PaymentEvent, Product
from models.change import Policy
from models.dunning import Dunning
from models.enums import PaymentState, Phase
from models.payments import assign_unique_code
from models.placing import CatalogItem, NewOrder, place_orders
from models.storage import Database
from tests.support.shop import UNDO, Shop, open_shop

ACCOUNTS = (("BCA", "1234567890", "Toko Batik Kabar"), ("Mandiri", "0987654321", "Toko Batik"))


@pytest.fixture
async def shop(db: Database) -> AsyncIterator[Shop]:
    """The demo shop with the default rule (nothing ships unpaid) and two bank accounts."""
    shop = await open_shop(db)
    payment = PaymentSettings(accounts=ACCOUNTS, policy=Policy())
    shop.settings = replace(shop.settings, payment=payment)
    shop.conversation.settings = shop.settings
    yield shop


async def order(shop: Shop, code: str) -> Order:
    async with shop.db.sessions() as s:
        found = await s.scalar(select(Order).where(Order.code == code))
    assert found is not None
    return found


async def ledger(shop: Shop, code: str) -> list[tuple[str, Decimal | None, PaymentState]]:
    async with shop.db.sessions() as s:
        rows = await s.execute(
            select(PaymentEvent.kind, PaymentEvent.amount, PaymentEvent.to_state)
            .join(Order, Order.id == PaymentEvent.order_id)
            .where(Order.code == code)
            .order_by(PaymentEvent.id)
        )
    return [tuple(row) for row in rows]  # type: ignore[misc]


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("150000", 150000), ("150.000", 150000), ("150,000", 150000), ("Rp150.000", 150000),
        ("rp 150.000", 150000), ("150rb", 150000), ("150k", 150000), ("1,5jt", 1500000),
        ("1.5jt", 1500000), ("2jt", 2000000), ("99.50", Decimal("99.50")), ("1.250.000", 1250000),
    ],
)  # fmt: skip
def test_amounts_are_read_the_way_people_type_them(typed: str, amount: int | Decimal) -> None:
    assert parse_amount(typed) == Decimal(amount)


@pytest.mark.parametrize("typed", ["", "abc", "-5", "1e309", "NaN", "12.3.4", "1,5"])
def test_what_is_no_amount_is_refused(typed: str) -> None:
    assert parse_amount(typed) in (None, Decimal("1.5"))
    assert parse_amount(typed) != Decimal("1e309")


# --- money on the order -----------------------------------------------------------------------


async def test_the_invoice_adds_shipping_takes_off_the_discount(shop: Shop) -> None:
    assert "✅" in await shop.text("dewi", "/ongkir INV-1001 15000")
    assert "✅" in await shop.text("dewi", "/diskon INV-1001 5rb")
    invoice = await shop.text("sari", "/tagihan INV-1001")
    assert invoice.splitlines()[:6] == [
        "Tagihan · Pesanan INV-1001",
        "• Kaos Polos Hitam XL ×2 — Rp170.000",
        "Subtotal: Rp170.000",
        "Ongkir: Rp15.000",
        "Potongan: −Rp5.000",
        "Total: Rp180.000",
    ]
    assert "Pembayaran: belum dibayar (Rp180.000)" in invoice
    assert "BCA 1234567890 a.n. Toko Batik Kabar" in invoice


@pytest.mark.parametrize(
    "asked", ["minta invoicenya kak", "tagihannya berapa?", "can you send me the invoice?"]
)
async def test_asking_for_the_invoice_in_words_gets_it(shop: Shop, asked: str) -> None:
    [which] = await shop.say("sari", asked)  # Sari has three orders: which one's?
    assert which.text == shop.t("id", "status.pick")
    assert {c.command for c in which.choices} == {
        "/tagihan INV-1001",
        "/tagihan INV-1002",
        "/tagihan INV-1003",
    }
    named = await shop.text("sari", "INV-1002 tagihannya")
    assert named.splitlines()[0] == shop.t("id", "invoice.header", code="INV-1002")


async def test_asking_how_much_is_left_to_pay_gets_the_amount_due(shop: Shop) -> None:
    [which] = await shop.say("sari", "total yang harus dibayar berapa?")
    assert [c.command for c in which.choices][-1] == "/bayar INV-1001"


async def test_a_down_payment_then_the_rest(shop: Shop) -> None:
    [dp] = (await shop.text("dewi", "/bayar INV-1002 100rb")).splitlines()[:1]
    assert dp == "✅ INV-1002: dipesan · pembayaran DP Rp100.000, sisa Rp250.000"
    [(who, told)] = await shop.deliver()
    assert who == "sari"
    assert shop.t("id", "push.payment.partly_paid", amount="Rp100.000", due="Rp250.000") in (
        told.text
    )
    assert (await order(shop, "INV-1002")).phase is Phase.PLACED  # a DP keeps it placed
    status = await shop.text("sari", "/status INV-1002")
    assert "Pembayaran: DP Rp100.000, sisa Rp250.000" in status
    await shop.text("dewi", "/bayar INV-1002")  # the rest
    paid = await order(shop, "INV-1002")
    assert (paid.phase, paid.payment_state, paid.paid_amount) == (
        Phase.PAID,
        PaymentState.PAID,
        Decimal(350000),
    )
    assert await ledger(shop, "INV-1002") == [
        ("payment", Decimal(100000), PaymentState.PARTLY_PAID),
        ("payment", Decimal(250000), PaymentState.PAID),
    ]


async def test_a_cancelled_orders_money_given_back_is_told_and_shown(shop: Shop) -> None:
    await shop.say("dewi", "/bayar INV-1002")
    cancelled = await shop.text(
        "dewi", "/batal INV-1002,INV-1001 kain habis --ke-pelanggan Maaf kak, kainnya habis"
    )
    hint = shop.t("id", "cancel.money_held", code="INV-1002", amount="Rp350.000")
    assert hint in cancelled.splitlines() and "/kembalikan INV-1001" not in cancelled
    await shop.deliver()
    assert "Pembayaran: lunas" in await shop.text("sari", "/status INV-1002")  # money held
    reply = await shop.text("dewi", "/kembalikan INV-1002")
    assert reply.startswith("✅ " + shop.t("id", "refund.done", code="INV-1002"))
    [(who, told)] = await shop.deliver()
    assert who == "sari"
    assert shop.t("id", "push.payment.refunded", amount="Rp350.000") in told.text
    back = await order(shop, "INV-1002")
    assert (back.phase, back.payment_state, back.paid_amount) == (
        Phase.CANCELLED,
        PaymentState.REFUNDED,
        Decimal(0),
    )
    assert "Pembayaran: dikembalikan" in await shop.text("sari", "/status INV-1002")
    assert (await ledger(shop, "INV-1002"))[-1] == (
        "refund",
        Decimal(-350000),
        PaymentState.REFUNDED,
    )
    refused = await shop.text("dewi", "/kembalikan INV-1002")
    assert refused == "❌ " + shop.t("id", "refuse.nothing_paid", code="INV-1002")


async def test_part_given_back_leaves_the_rest_paid_and_undo_takes_it_back(shop: Shop) -> None:
    await shop.say("dewi", "/bayar INV-1002 400rb")  # 50,000 too much
    await shop.deliver()
    assert (await order(shop, "INV-1002")).payment_state is PaymentState.PAID
    over = await shop.text("dewi", "/kembalikan INV-1002 500rb")
    assert over == "❌ " + shop.t("id", "refuse.over_refund", code="INV-1002")
    assert shop.t("id", "refund.usage") == await shop.text("dewi", "/kembalikan INV-1002 abc")
    assert "✅" in await shop.text("dewi", "/kembalikan INV-1002 50rb")
    part = await order(shop, "INV-1002")
    assert (part.payment_state, part.paid_amount) == (PaymentState.PAID, Decimal(350000))
    assert "↩️ INV-1002" in await shop.text("dewi", "/undo")
    assert await shop.deliver() == []  # undone inside the window: the customer hears nothing
    again = await order(shop, "INV-1002")
    assert (again.payment_state, again.paid_amount) == (PaymentState.PAID, Decimal(400000))
    assert [kind for kind, _, _ in await ledger(shop, "INV-1002")] == ["payment", "refund", "undo"]


async def test_payment_is_recorded_during_production(shop: Shop) -> None:
    assert "✅" in await shop.text("dewi", "/tahap INV-1002 potong")  # started on trust
    await shop.deliver()
    reply = await shop.text("dewi", "/bayar INV-1002")
    # The order stays in its stage: the line says the money came in.
    assert reply.startswith("✅ INV-1002: diproduksi · potong · pembayaran lunas ✅")
    [(_, told)] = await shop.deliver()
    assert shop.t("id", "push.payment.paid", amount="Rp350.000") in told.text
    done = await order(shop, "INV-1002")
    assert (done.phase, done.stage_index, done.payment_state) == (
        Phase.IN_PRODUCTION,
        0,
        PaymentState.PAID,
    )


async def test_packing_and_shipping_wait_for_payment_unless_the_flow_may_go_first(
    shop: Shop,
) -> None:
    refused = await shop.text("dewi", "/tahap INV-1001 dikemas")
    assert refused == "❌ " + shop.t("id", "refuse.unpaid", code="INV-1001")
    assert "❌" in await shop.text("dewi", "/kirim INV-1001 jne JN12345678")
    await shop.say("dewi", "/bayar INV-1001")
    assert "✅ INV-1001: dikemas" in await shop.text("dewi", "/tahap INV-1001 dikemas")
    # Made-to-order orders may ship before they are paid in this shop; ready stock may not.
    policy = Policy(frozenset({"made_to_order"}))
    shop.conversation.settings = replace(
        shop.settings, payment=PaymentSettings(accounts=ACCOUNTS, policy=policy)
    )
    await shop.say("dewi", "/tahap INV-1002 potong")
    assert "✅" in await shop.text("dewi", "/tahap INV-1002 siap")
    assert "✅" in await shop.text("dewi", "/kirim INV-1002 jne JN22334455")
    assert "❌" in await shop.text("dewi", "/tahap DS-2001 dikemas")


async def test_undo_takes_the_payment_back_and_the_ledger_keeps_both(shop: Shop) -> None:
    await shop.say("dewi", "/bayar INV-1002 100000")
    await shop.say("dewi", "/undo")
    undone = await order(shop, "INV-1002")
    assert (undone.payment_state, undone.paid_amount) == (PaymentState.UNPAID, Decimal(0))
    assert await ledger(shop, "INV-1002") == [
        ("payment", Decimal(100000), PaymentState.PARTLY_PAID),
        ("undo", Decimal(-100000), PaymentState.UNPAID),
    ]
    assert await shop.deliver() == []  # nobody heard of it


async def test_unique_codes_never_repeat_among_open_bills(shop: Shop) -> None:
    rng = random.Random(7)
    async with shop.db.transaction() as s:
        orders = list(await s.scalars(select(Order).order_by(Order.id)))
        codes = [await assign_unique_code(s, o, rng) for o in orders]
    assert len(set(codes)) == len(codes) and all(1 <= c <= 999 for c in codes)
    await shop.say("dewi", f"/bayar INV-1001 {170000 + codes[0]}")
    async with shop.db.sessions() as s:
        paid = await s.scalar(select(Order).where(Order.code == "INV-1001"))
    assert paid is not None and paid.payment_state is PaymentState.PAID  # the code is part of it


# --- how to pay --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "asked", ["sisa berapa kak?", "kurang berapa lagi kak?", "pelunasannya berapa?"]
)
async def test_what_is_left_after_a_down_payment_is_that_orders_due(shop: Shop, asked: str) -> None:
    await shop.say("dewi", "/bayar INV-1002 100000")  # of three unpaid, one paid in part
    await shop.deliver()
    [due, *_] = await shop.say("sari", asked)  # it was the catalogue, or "not understood"
    assert due.text.splitlines()[0] == shop.t("id", "pay.due", code="INV-1002", due="Rp250.000")
    # After a product is shown, "what is left" asks of its stock.
    await shop.say("sari", "ada kaos hitam XL?")
    [stock] = await shop.say("sari", "sisa berapa kak?")
    assert "(KAOS-HTM-XL)" in stock.text


async def test_how_to_pay_asks_which_order_then_gives_the_amount_and_accounts(shop: Shop) -> None:
    [which] = await shop.say("sari", "min mau bayar, transfer kemana?")
    assert which.text.splitlines() == [  # where to, at once; which order's amount, a tap away
        shop.t("id", "pay.total_due", count=3, total="Rp605.000"),  # "total tagihan saya?"
        shop.t("id", "pay.accounts"),
        "• BCA 1234567890 a.n. Toko Batik Kabar",
        "• Mandiri 0987654321 a.n. Toko Batik",
        shop.t("id", "pay.which"),
    ]
    assert [c.command for c in which.choices] == [
        "/bayar INV-1003",
        "/bayar INV-1002",
        "/bayar INV-1001",
    ]
    assert which.choices[1].label == "INV-1002 · Rp350.000"
    [how] = await shop.say("sari", "/bayar INV-1002")
    assert how.text.splitlines() == [
        shop.t("id", "pay.due", code="INV-1002", due="Rp350.000"),
        shop.t("id", "pay.accounts"),
        "• BCA 1234567890 a.n. Toko Batik Kabar",
        "• Mandiri 0987654321 a.n. Toko Batik",
        shop.t("id", "pay.send_proof"),
    ]
    # Asked in English with the code, the bill of that order.
    [bill] = await shop.say("sari", "how much do I have to pay for INV-1002?")
    assert bill.text == how.text
    # Rina bought from a reseller: she pays Mawar, at Mawar's price, never the shop's.
    await shop.say("rina", "/language en")
    assert await shop.text("rina", "how do I pay?") == shop.t(
        "en", "pay.via_seller", code="DS-2001", seller="Mawar Batik Store"
    )


async def test_a_proof_after_the_instructions_reaches_staff_with_one_tap_choices(
    shop: Shop,
) -> None:
    await shop.say("sari", "/bayar INV-1002")
    [thanks] = await shop.say("sari", "", photo="photo-of-transfer")
    assert thanks.text == shop.t("id", "pay.proof_received", code="INV-1002")
    assert (await order(shop, "INV-1002")).payment_state is PaymentState.PROOF_SENT
    [alert] = [r for who, r in await shop.deliver(after=0) if who == "dewi"]
    assert alert.photo == "photo-of-transfer"
    assert alert.text.startswith(shop.t("id", "alert.proof", code="INV-1002", customer="Sari"))
    assert [c.command for c in alert.choices] == [
        "/bayar INV-1002",
        "/bayar INV-1002 ?",
        "/tolak INV-1002",
    ]
    # ✅: the same /bayar, through the undo window.
    assert "✅" in await shop.text("dewi", alert.choices[0].command)
    assert await shop.deliver(after=1) == []
    [(who, told)] = await shop.deliver(after=UNDO)
    assert who == "sari" and shop.t("id", "push.phase.paid") in told.text


async def test_one_transfer_for_every_bill_is_one_proof_and_one_tap(shop: Shop) -> None:
    [which] = await shop.say("sari", "", photo="one-transfer")
    assert which.text == shop.t("id", "pay.proof_which")
    every = which.choices[-1]
    assert (every.label, every.command) == ("Semua · Rp605.000", "/bukti semua")
    [thanks] = await shop.say("sari", every.command)
    codes = "INV-1003, INV-1002, INV-1001"
    assert thanks.text == shop.t("id", "pay.proof_received", code=codes)
    # Staff get one alert with the sum, and one tap that confirms every bill.
    [alert] = [r for who, r in await shop.deliver(after=0) if who == "dewi"]
    assert alert.photo == "one-transfer"
    assert alert.text.splitlines()[:2] == [
        shop.t("id", "alert.proof", code=codes, customer="Sari"),
        shop.t("id", "alert.proof_money", total="Rp605.000", due="Rp605.000"),
    ]
    assert [c.command for c in alert.choices] == [  # another amount is no one bill's
        "/bayar INV-1003,INV-1002,INV-1001",
        "/tolak INV-1003,INV-1002,INV-1001",
    ]
    await shop.say("dewi", alert.choices[0].command)
    for code in ("INV-1001", "INV-1002", "INV-1003"):
        assert (await order(shop, code)).payment_state is PaymentState.PAID, code
        assert [kind for kind, _, _ in await ledger(shop, code)] == ["proof", "payment"]


async def test_saying_every_bill_was_paid_claims_them_all(shop: Shop) -> None:
    [thanks] = await shop.say("sari", "sudah transfer semua ya kak")
    assert thanks.text == shop.t("id", "pay.claim_received", code="INV-1003, INV-1002, INV-1001")
    [alert] = [r for who, r in await shop.deliver(after=0) if who == "dewi"]
    assert shop.t("id", "alert.proof_without_photo") in alert.text.splitlines()
    for code in ("INV-1001", "INV-1002", "INV-1003"):
        assert (await order(shop, code)).payment_state is PaymentState.PROOF_SENT, code


async def test_all_of_it_right_after_one_bill_is_that_bill(shop: Shop) -> None:
    await shop.say("sari", "/bayar INV-1001")
    [one] = await shop.say("sari", "sudah transfer semuanya kak")  # the whole of this bill
    assert one.text == shop.t("id", "pay.claim_received", code="INV-1001")
    assert (await order(shop, "INV-1002")).payment_state is PaymentState.UNPAID


async def test_words_never_said_of_one_bill_pay_every_bill(shop: Shop) -> None:
    await shop.say("sari", "/tagihan INV-1002")  # whatever was just shown
    [both] = await shop.say("sari", "sudah bayar sekaligus ya kak")
    assert both.text == shop.t("id", "pay.claim_received", code="INV-1003, INV-1002, INV-1001")


async def test_a_paid_order_cancelled_tells_its_payer_a_person_sees_to_the_money(
    shop: Shop,
) -> None:
    await shop.say("dewi", "/bayar INV-1001,DS-2001")
    await shop.deliver()
    await shop.say("dewi", "/batal INV-1001,INV-1002,DS-2001 stok rusak")  # INV-1002 unpaid
    pushed = await shop.deliver()
    told = {(who, r.text.splitlines()[0].split(" · ")[-1]): r.text for who, r in pushed}
    held = shop.t("id", "push.cancelled_paid", amount="Rp170.000")
    assert held in told[("sari", "Pesanan INV-1001")].splitlines()
    assert "admin" not in told[("sari", "Pesanan INV-1002")]  # nothing was paid
    # A dropship order's money is between its reseller and the shop: Mawar hears, Rina not.
    to_mawar = [text for (who, _), text in told.items() if who == "mawar"]
    assert [shop.t("id", "push.cancelled_paid", amount="Rp48.000") in t for t in to_mawar] == [True]
    assert "48" not in told[("rina", "Order DS-2001")]


async def test_another_amount_is_the_sum_typed_next(shop: Shop) -> None:
    await shop.say("sari", "/bayar INV-1002")
    await shop.say("sari", "", photo="photo-of-transfer")
    [alert] = [r for who, r in await shop.deliver(after=0) if who == "dewi"]
    [asked] = await shop.say("dewi", alert.choices[1].command)  # ✏️ another amount
    assert asked.text == shop.t("id", "pay.amount_usage", code="INV-1002")
    assert [c.command for c in asked.choices] == ["/bayar INV-1002"]  # all of it, one tap
    before = await shop.snapshot()
    await shop.say("dewi", "2")  # no sum: a number that picks nothing pays nothing
    assert await shop.snapshot() == before
    await shop.say("dewi", alert.choices[1].command)
    done = await shop.text("dewi", "100rb")
    assert "DP Rp100.000, sisa Rp250.000" in done
    assert (await order(shop, "INV-1002")).paid_amount == Decimal(100000)
    # Typed again, nothing more is paid: the question was answered.
    await shop.text("dewi", "100rb")
    assert (await order(shop, "INV-1002")).paid_amount == Decimal(100000)


async def test_saying_it_was_paid_is_checked_and_asks_for_the_receipt(shop: Shop) -> None:
    await shop.say("sari", "/bayar INV-1002")
    [thanks] = await shop.say("sari", "sudah transfer kak")
    assert thanks.text == shop.t("id", "pay.claim_received", code="INV-1002")
    assert "foto bukti" in thanks.text  # no "we have your proof": there was none
    [alert] = [r for who, r in await shop.deliver(after=0) if who == "dewi"]
    assert shop.t("id", "alert.proof_without_photo") in alert.text


async def test_a_receipt_right_after_saying_it_was_paid_is_one_alert_with_both(
    shop: Shop,
) -> None:
    await shop.say("sari", "/bayar INV-1002")
    await shop.say("sari", "sudah transfer kak")
    await shop.say("sari", "", photo="receipt")  # before staff were told of the words
    [alert] = [r for who, r in await shop.deliver(after=0) if who == "dewi"]
    assert alert.photo == "receipt" and "“sudah transfer kak”" in alert.text
    assert shop.t("id", "alert.proof_without_photo") not in alert.text
    assert alert.choices[0].command == "/bayar INV-1002"
    # Once staff have the words, a receipt is news of its own, with the words it follows.
    await shop.say("sari", "/bayar INV-1001")
    await shop.say("sari", "sudah transfer ya")
    await shop.deliver(after=0)
    await shop.say("sari", "", photo="receipt-2")
    [later] = [r for who, r in await shop.deliver(after=0) if who == "dewi"]
    assert later.photo == "receipt-2" and "“sudah transfer ya”" in later.text


async def test_saying_the_down_payment_went_in_is_a_claim_until_the_shop_has_it(
    shop: Shop,
) -> None:
    await shop.say("sari", "/bayar INV-1002")
    [thanks] = await shop.say("sari", "dp sudah masuk ya kak")
    assert thanks.text == shop.t("id", "pay.claim_received", code="INV-1002")
    assert [r for who, r in await shop.deliver(after=0) if who == "dewi"] != []
    # Once the shop recorded the DP on every open bill, the same words read it back.
    for code in ("INV-1001", "INV-1002", "INV-1003"):
        await shop.say("dewi", f"/bayar {code} 20000")
    await shop.deliver()
    before = await shop.snapshot()
    [told] = await shop.say("sari", "dp sudah masuk ya kak")
    assert told.text == shop.t("id", "status.pick")  # which order's, each with its status
    assert await shop.snapshot() == before
    assert await shop.deliver(after=0) == []
    # The rest said to be in is a claim again (of the order the first claim was for).
    [claimed] = await shop.say("sari", "pelunasan sudah masuk ya kak")
    assert claimed.text == shop.t("id", "pay.claim_received", code="INV-1002")


async def test_saying_it_was_paid_again_alerts_staff_once_until_they_answer(shop: Shop) -> None:
    await shop.say("sari", "/bayar INV-1002")
    await shop.say("sari", "sudah transfer kak")
    assert len([r for who, r in await shop.deliver(after=0) if who == "dewi"]) == 1
    before = await shop.snapshot()
    # She asks again while staff have not looked yet: she hears it is noted, staff hear nothing.
    [again] = await shop.say("sari", "kak sudah saya transfer ya INV-1002")
    assert again.text == shop.t("id", "pay.claim_waits", code="INV-1002")
    assert await shop.snapshot() == before
    assert await shop.deliver(after=0) == []
    # A photo is something new to check: staff get it.
    [thanks] = await shop.say("sari", "", photo="photo-of-transfer")
    assert thanks.text == shop.t("id", "pay.proof_received", code="INV-1002")
    [alert] = [r for who, r in await shop.deliver(after=0) if who == "dewi"]
    assert alert.photo == "photo-of-transfer"
    # Once staff refused it, a new claim is new again.
    await shop.say("dewi", "/tolak INV-1002 belum masuk")
    await shop.deliver()
    [thanks] = await shop.say("sari", "sudah transfer lagi kak INV-1002")
    assert thanks.text == shop.t("id", "pay.claim_received", code="INV-1002")
    assert [r for who, r in await shop.deliver(after=0) if who == "dewi"] != []


async def test_paid_and_nothing_moved_is_a_claim_while_owed_and_then_the_order(
    shop: Shop,
) -> None:
    # Nothing recorded yet: staff are to check the money, as for "sudah transfer".
    [which] = await shop.say("sari", "kok paketnya belum dikirim padahal sudah bayar")
    assert which.text == shop.t("id", "pay.proof_which")
    await shop.say("dewi", "/bayar INV-1001,INV-1002,INV-1003")
    await shop.say("dewi", "/kirim INV-1001 jne JN0012345678")
    await shop.deliver()
    # The shop has the money: where the order it is about stands; nothing new is claimed.
    made = await shop.text("sari", "sudah bayar kok batiknya belum diproses")
    assert made.startswith(shop.t("id", "status.header", brand="Toko Batik Kabar", code="INV-1002"))
    resi = await shop.text("sari", "padahal udah transfer dari kemarin, resinya mana?")
    assert "INV-1001" in resi.splitlines()[0] and "JN0012345678" in resi
    assert [kind for kind, _, _ in await ledger(shop, "INV-1002")] == ["payment"]


async def test_paying_without_a_code_is_for_the_bill_just_shown(shop: Shop) -> None:
    await shop.say("sari", "/tagihan INV-1002")
    [thanks] = await shop.say("sari", "sudah transfer ya kak")
    assert thanks.text == shop.t("id", "pay.claim_received", code="INV-1002")
    await shop.say("sari", "/status INV-1003")
    told = await shop.text("sari", "transfer kemana kak?")
    assert shop.t("id", "pay.due", code="INV-1003", due="Rp85.000") in told
    [proof] = await shop.say("sari", "[foto]", photo="receipt-1003")
    assert proof.text == shop.t("id", "pay.proof_received", code="INV-1003")
    await shop.say("sari", "/status INV-1001")
    bill = await shop.text("sari", "/tagihan")
    assert bill.startswith(shop.t("id", "invoice.header", code="INV-1001"))


async def test_paying_long_after_a_bill_was_shown_asks_which_order(shop: Shop) -> None:
    await shop.say("sari", "/tagihan INV-1002")
    shop.clock.advance(2 * 3600)
    [which] = await shop.say("sari", "sudah transfer ya kak")
    assert which.text == shop.t("id", "pay.proof_which")


async def test_saying_it_was_paid_after_a_claim_asks_which_order(shop: Shop) -> None:
    # She paid INV-1002, then INV-1003: the second "sudah transfer" may be either.
    await shop.say("sari", "/bayar INV-1002")
    await shop.say("sari", "sudah transfer kak")
    [which] = await shop.say("sari", "sudah transfer juga kak")
    assert which.text == shop.t("id", "pay.proof_which")
    [thanks] = await shop.say("sari", "/bukti INV-1003")
    assert thanks.text == shop.t("id", "pay.claim_received", code="INV-1003")


@pytest.mark.parametrize(
    ("who", "asked", "code"),
    [
        ("mawar", "DS-2001 sudah dibayar belum?", "DS-2001"),
        ("sari", "apakah INV-1002 sudah lunas?", "INV-1002"),
        ("sari", "INV-1002 sudah bayar?", "INV-1002"),
    ],
)
async def test_asking_whether_an_order_is_paid_claims_nothing(
    shop: Shop, who: str, asked: str, code: str
) -> None:
    await shop.deliver()
    before = await shop.snapshot()
    [answer] = await shop.say(who, asked)
    assert code in answer.text.splitlines()[0]  # its status, which says how far it is paid
    assert await shop.snapshot() == before  # no claim, no alert to staff
    assert await shop.deliver(after=0) == []


@pytest.mark.parametrize(
    "asked",
    [
        "kak sudah masuk belum transferan saya?",
        "pembayaran saya sudah dikonfirmasi?",
        "has my payment been received?",
        "sudah dibayar belum?",
    ],
)
async def test_asking_whether_the_money_came_shows_the_order_being_checked(
    shop: Shop, asked: str
) -> None:
    await shop.say("sari", "sudah transfer kak untuk INV-1002")  # three open bills, one claimed
    [answer] = await shop.say("sari", asked)  # not "which order will you pay?", nor a pick
    assert answer.text.splitlines()[0].endswith("INV-1002")
    assert shop.t("id", "payment.proof_sent", due="Rp350.000") in answer.text


async def test_a_pdf_receipt_is_a_proof_staff_can_open(shop: Shop) -> None:
    # Banks' apps export a transfer receipt as a PDF: staff confirm what they can see.
    receipt = Attachment("document", "bca-receipt.pdf")
    await shop.say("sari", "/bayar INV-1002")
    [thanks] = await shop.say("sari", "", attachment=receipt)
    assert thanks.text == shop.t("id", "pay.proof_received", code="INV-1002")
    [alert] = [r for who, r in await shop.deliver(after=0) if who == "dewi"]
    assert alert.file == receipt and alert.photo is None
    assert shop.t("id", "alert.proof_without_photo") not in alert.text
    assert alert.choices[0].command == "/bayar INV-1002"


async def test_proof_names_the_pdf_sent_before_it(shop: Shop) -> None:
    # Several unpaid: the PDF comes first, then she says which order it pays.
    receipt = Attachment("document", "receipt-1003.pdf")
    await shop.say("sari", "", attachment=receipt)
    [picked] = await shop.say("sari", "/bukti INV-1003")
    assert picked.text == shop.t("id", "pay.proof_received", code="INV-1003")
    [alert] = [r for who, r in await shop.deliver(after=0) if who == "dewi"]
    assert "INV-1003" in alert.text and alert.file == receipt


@pytest.mark.parametrize(
    "caption", ["yang ini ready kak?", "ada warna lain?", "sudah sampai tapi sobek", "bisa custom?"]
)
async def test_a_photo_with_a_question_is_for_a_person_not_a_proof(
    shop: Shop, caption: str
) -> None:
    [reply] = await shop.say("sari", caption, photo="from-instagram")
    assert reply.text.startswith(shop.t("id", "support.ack.media", number=1).split("(")[0])
    async with shop.db.sessions() as s:
        proofs = await s.scalar(select(func.count()).where(PaymentEvent.kind == "proof"))
    assert proofs == 0


@pytest.mark.parametrize("caption", ["", "tf ya kak", "INV-1001", "sudah transfer, dicek ya?"])
async def test_a_photo_with_words_of_paying_is_a_proof(shop: Shop, caption: str) -> None:
    await shop.say("sari", "/bayar INV-1001")  # its instructions: the next photo pays it
    [reply] = await shop.say("sari", caption, photo="transfer")
    assert reply.text == shop.t("id", "pay.proof_received", code="INV-1001")


@pytest.mark.parametrize("typed", ["INV-1003", "inv1003", "#INV-1003."])
async def test_a_proof_whose_order_is_typed_instead_of_tapped_reaches_staff(
    shop: Shop, typed: str
) -> None:
    [which] = await shop.say("sari", "", photo="tf-1003")  # several unpaid: which one?
    assert which.text == shop.t("id", "pay.proof_which")
    [thanks] = await shop.say("sari", typed)
    assert thanks.text == shop.t("id", "pay.proof_received", code="INV-1003")
    [alert] = [r for who, r in await shop.deliver(after=0) if who == "dewi"]
    assert alert.photo == "tf-1003" and alert.choices[0].command == "/bayar INV-1003"
    assert "/bukti" not in alert.text  # the words the customer typed, never a command
    # That question is answered: a code typed later asks after the order, claims nothing.
    before = await shop.snapshot()
    [status] = await shop.say("sari", "INV-1002")
    assert "INV-1002" in status.text.splitlines()[0] and not status.text.startswith("Terima")
    assert await shop.snapshot() == before


async def test_a_captioned_proof_and_a_spoken_one_and_several_unpaid(shop: Shop) -> None:
    [named] = await shop.say("sari", "INV-1001 ya kak", photo="tf-1001")
    assert named.text == shop.t("id", "pay.proof_received", code="INV-1001")
    [which] = await shop.say("sari", "udah tf kak, mohon dicek")
    assert which.text == shop.t("id", "pay.proof_which")
    assert [c.command for c in which.choices] == [
        "/bukti INV-1003",
        "/bukti INV-1002",
        "/bukti INV-1001",
        "/bukti semua",  # one transfer for them all
    ]
    await shop.say("sari", "", photo="tf-1003")  # several unpaid: she picks
    [picked] = await shop.say("sari", "/bukti INV-1003")
    assert picked.text == shop.t("id", "pay.proof_received", code="INV-1003")
    async with shop.db.sessions() as s:
        proofs = list(
            await s.execute(
                select(Order.code, PaymentEvent.proof)
                .join(Order, Order.id == PaymentEvent.order_id)
                .where(PaymentEvent.kind == "proof")
                .order_by(PaymentEvent.id)
            )
        )
    assert [tuple(p) for p in proofs] == [("INV-1001", "tf-1001"), ("INV-1003", "tf-1003")]


async def test_a_refused_proof_tells_the_customer_why_in_their_language(shop: Shop) -> None:
    await shop.say("sari", "/language en")
    await shop.say("sari", "INV-1001", photo="blurry")
    await shop.deliver(after=0)
    asked = await shop.text("dewi", "/tolak INV-1001")
    assert asked == shop.t("id", "refuse_proof.ask_reason", code="INV-1001")
    assert "✅" in await shop.text("dewi", "/tolak INV-1001 fotonya buram")
    told = [r.text for who, r in await shop.deliver() if who == "sari"]
    assert told and told[0].splitlines()[1] == shop.t(
        "en", "push.payment.rejected", reason="fotonya buram"
    )
    assert (await order(shop, "INV-1001")).payment_state is PaymentState.UNPAID


async def test_a_resellers_questions_without_a_code_find_the_orders_placed_through_them(
    shop: Shop,
) -> None:
    placed = await shop.text("mawar", "/pesan TOTE-KNV 1; Andi; 0813-5555-1234; Jl. Kenanga 7")
    code = placed.split()[2]
    for asked in ("/tagihan", "/status", "where is my order?", "/bayar"):
        [reply] = await shop.say("mawar", asked)
        assert {c.command.split()[-1] for c in reply.choices} == {code, "DS-2001"}, asked
    # Nothing of them reaches a customer's chat: Sari sees her own orders only.
    [mine] = await shop.say("sari", "/tagihan")
    assert {c.command.split()[-1] for c in mine.choices} == {"INV-1001", "INV-1002", "INV-1003"}


async def test_a_dropship_customer_never_sees_the_resellers_price_or_bill(shop: Shop) -> None:
    via_mawar = shop.t("id", "pay.via_seller", code="DS-2001", seller="Mawar Batik Store")
    await shop.say("rina", "/bahasa id")
    for asked in ("/tagihan DS-2001", "/bayar DS-2001", "/bukti DS-2001", "cara bayar?"):
        assert await shop.text("rina", asked) == via_mawar, asked
    assert await shop.text("rina", "DS-2001", photo="tf-rina") == via_mawar
    assert await shop.text("rina", "sudah transfer kak") == via_mawar
    status = await shop.text("rina", "/status DS-2001")
    assert "48" not in status and "Pembayaran" not in status
    # Mawar settles it with the shop: she sees the bill at her price, pays it in her chat,
    # and hears of its money.
    assert "Total: Rp48.000" in await shop.text("mawar", "/tagihan DS-2001")
    how = await shop.text("mawar", "/bayar")
    assert how.startswith(shop.t("id", "pay.due", code="DS-2001", due="Rp48.000"))
    thanks = await shop.text("mawar", "", photo="tf-mawar")
    assert thanks == shop.t("id", "pay.proof_received", code="DS-2001")
    [(staff, card)] = await shop.deliver(after=0)
    assert staff == "dewi" and card.photo == "tf-mawar" and "DS-2001" in card.text
    await shop.say("dewi", "/ongkir DS-2001 12000")
    await shop.say("dewi", "/bayar DS-2001 20rb")
    told = {who: r.text for who, r in await shop.deliver()}
    assert "Rp20.000" in told["mawar"] and "rina" not in told
    rules = Dunning(timedelta(hours=1), timedelta(hours=72), auto_cancel=False)
    await Jobs(shop.db, shop.settings, shop.clock, dunning=rules).chase_unpaid()
    assert "rina" not in {who for who, _ in await shop.deliver(after=0)}
    # Paid in full, the order moves on: that Rina hears, without an amount.
    await shop.say("dewi", "/bayar DS-2001")
    told = {who: r.text for who, r in await shop.deliver()}
    assert told["rina"].splitlines()[1] == shop.t("id", "push.phase.paid")
    assert "Rp" not in told["rina"]
    async with shop.db.sessions() as s:
        alerts = await s.scalars(
            select(Notification.payload).where(Notification.order_id.is_not(None))
        )
        proofs = [a["customer"] for a in alerts if a.get("alert") == "proof"]
        assert proofs == ["Mawar Batik Store"]  # Rina's photo was no proof


async def test_a_strangers_photo_or_one_for_someone_elses_order_attaches_to_nothing(
    shop: Shop,
) -> None:
    [stranger] = await shop.say("tamu", "", photo="random")
    assert "#" in stranger.text  # a person looks at it
    [other] = await shop.say("sari", "DS-2001", photo="not-hers")
    assert other.text == shop.t("id", "status.not_found", code="DS-2001")
    async with shop.db.sessions() as s:
        assert list(await s.scalars(select(PaymentEvent.id))) == []


# --- reminders, overdue, auto-cancel -----------------------------------------------------------


async def test_reminder_overdue_and_auto_cancel_happen_once_and_release_stock(shop: Shop) -> None:
    rules = Dunning(timedelta(hours=24), timedelta(hours=72), auto_cancel=True)
    shop.clock.advance(25 * 3600)
    jobs = Jobs(shop.db, shop.settings, shop.clock, dunning=rules)
    first = await jobs.chase_unpaid()
    assert sorted(first.reminded) == ["DS-2001", "INV-1001", "INV-1002", "INV-1003"]
    pushed = [(w, r.text) for w, r in await shop.deliver(after=0)]
    assert ("sari", "") not in pushed
    reminder = shop.t("id", "push.payment.reminder", due="Rp170.000")
    assert any(w == "sari" and reminder in text for w, text in pushed)
    await Jobs(shop.db, shop.settings, shop.clock, dunning=rules).chase_unpaid()  # a restart
    assert [w for w, _ in await shop.deliver(after=0)] == []  # told once
    shop.clock.advance(48 * 3600)
    late = await jobs.chase_unpaid()
    assert sorted(late.overdue) == ["DS-2001", "INV-1001", "INV-1002", "INV-1003"]
    assert sorted(late.cancelled) == ["DS-2001", "INV-1001", "INV-1003"]  # ready stock only
    async with shop.db.sessions() as s:
        reserved = await s.scalar(select(Product.reserved).where(Product.sku == "KAOS-HTM-XL"))
    assert reserved == 0  # INV-1001's two shirts are free again
    told = [(w, r.text) for w, r in await shop.deliver(after=0)]
    assert any(w == "dewi" and shop.t("id", "alert.overdue", code="INV-1001") in t for w, t in told)
    assert any(w == "sari" and shop.t("id", "push.payment.cancelled") in t for w, t in told)
    assert (await order(shop, "INV-1002")).phase is Phase.PLACED  # made to order: kept
    again = await jobs.chase_unpaid()
    assert again.cancelled == [] and [w for w, _ in await shop.deliver(after=0)] == []


async def test_unique_codes_stay_unique_across_hundreds_of_open_bills(shop: Shop) -> None:
    rng = random.Random(11)
    async with shop.db.transaction() as s:
        product = await s.scalar(select(Product).where(Product.sku == "BATIK-PRM-M"))
        customer_id = await s.scalar(select(Order.customer_id).where(Order.code == "INV-1001"))
        assert product is not None and customer_id is not None
        item = CatalogItem.of(product)
        requests = [NewOrder(f"BIG-{n}", customer_id, [(item, 1)]) for n in range(400)]
        await place_orders(s, requests, now=shop.clock.now)
        orders = list(await s.scalars(select(Order).where(Order.code.like("BIG-%"))))
        codes = [await assign_unique_code(s, o, rng) for o in orders]
    assert len(set(codes)) == 400 and 0 not in codes
    # A paid bill frees its code for the next order; the open ones keep theirs.
    async with shop.db.transaction() as s:
        first = await s.scalar(select(Order).where(Order.code == "BIG-0"))
        assert first is not None
        first.payment_state = PaymentState.PAID
        fresh = await s.scalar(select(Order).where(Order.code == "INV-1002"))
        assert fresh is not None
        code = await assign_unique_code(s, fresh, rng)
    assert code not in set(codes) - {first.unique_code}


async def test_money_that_moves_no_phase_reads_as_money_in_the_timeline(shop: Shop) -> None:
    await shop.say("dewi", "/bayar INV-1002 100rb")  # a down payment: the order stays placed
    await shop.say("dewi", "/ongkir INV-1001 15000")
    await shop.say("sari", f"/start {shop.links['INV-1001']}")
    down = await shop.text("sari", "/status INV-1002")
    assert down.splitlines()[-1].endswith(shop.t("id", "status.money.received", amount="Rp100.000"))
    assert shop.t("id", "phase.placed") not in down.splitlines()[-1]
    billed = await shop.text("dewi", "/status INV-1001")
    assert billed.splitlines()[-1].endswith(shop.t("id", "status.money.bill"))


async def test_a_resellers_word_that_it_is_paid_reaches_staff_as_theirs(shop: Shop) -> None:
    await shop.say("mawar", "DS-2001 sudah transfer ya")
    [alert] = [r for who, r in await shop.deliver(after=0) if who == "dewi"]
    assert "Mawar Batik Store" in alert.text.splitlines()[0]
    assert shop.t("id", "alert.proof_without_photo") in alert.text
    assert "pembeli" not in alert.text  # the reseller is no buyer of the shop's
