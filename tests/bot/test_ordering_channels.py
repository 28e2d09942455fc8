"""Orders placed in chat on both platforms: the real PTB and twilio clients against local fakes.

On Telegram a customer's draft offers buttons and the order goes under the number the chat
shared; on WhatsApp the same choices are numbered and the sender's number is the customer's.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from sqlalchemy import select

from models import Order
from models.enums import Phase
from tests.bot.test_support_channels import (
    DEWI_TG,
    SARI_TG,
    SARI_WA,
    SHOP_NUMBER,
    Desk,
    _to,
    desk,
)

__all__ = ["desk"]  # the fixture, shared

MAWAR_WA = "+6281100000002"


async def order(desk: Desk, code: str) -> Order:
    async with desk.shop.db.sessions() as s:
        found = await s.scalar(select(Order).where(Order.code == code))
    assert found is not None
    return found


async def test_a_telegram_customer_orders_with_buttons(desk: Desk) -> None:
    t = desk.shop.t
    [ask] = await desk.tg(SARI_TG, "mau order kaos hitam L 2")
    assert ask.text == t("id", "draft.share_phone")  # a typed number is not proof it is hers
    own = {"phone_number": "6281234567890", "first_name": "Sari", "user_id": SARI_TG}
    await desk.tg(SARI_TG, contact=own)
    [product] = await desk.tg(SARI_TG, "mau order kaos hitam L 2")
    assert product.text.startswith("Kaos Polos Hitam L (KAOS-HTM-L) — Rp85.000")
    assert product.text.endswith(t("id", "draft.ask_name_or", name="Sari"))
    [[offered]] = (product.reply_markup or {})["inline_keyboard"]
    assert (offered["text"], offered["callback_data"]) == ("Sari", "Sari")
    await desk.tg(SARI_TG, "Sari Lestari")
    [summary] = await desk.tg(SARI_TG, "Jl. Mawar 1, Bandung 40115")
    assert "Dikirim ke: Sari Lestari, Jl. Mawar 1, Bandung 40115" in summary.text
    buttons = [row[0] for row in (summary.reply_markup or {})["inline_keyboard"]]
    assert [(b["text"], b["callback_data"]) for b in buttons] == [
        (t("id", "draft.place"), "/pesan ok"),
        (t("id", "draft.add"), "/pesan tambah"),
        (t("id", "draft.cancel"), "/pesan batal"),
    ]
    before = len(desk.telegram.sent)
    desk.telegram.push_update(
        desk.telegram.callback_update(chat_id=SARI_TG, user_id=SARI_TG, data="/pesan ok")
    )
    sent = await desk.telegram.wait_for_sent(before + 1)
    placed = [m for m in sent[before:] if m.chat_id == SARI_TG]
    assert placed[0].text.startswith(t("id", "draft.placed", code="INV-1004", due="Rp170.000"))
    new = await order(desk, "INV-1004")
    assert (new.recipient_name, new.recipient_phone, new.address) == (
        "Sari Lestari",
        SARI_WA,
        "Jl. Mawar 1, Bandung 40115",
    )
    await desk.deliver()
    told = [m.text for m in _to(desk, SARI_TG) if m.text.startswith("Toko Batik Kabar · ")]
    assert told[-1].startswith("Toko Batik Kabar · Pesanan INV-1004\nPesanan Anda sudah kami")


async def test_a_new_telegram_customer_shares_their_number_and_the_order_goes_on(
    desk: Desk,
) -> None:
    # No order has this number yet: the number is kept for the order, and the product asked
    # for is taken up again without being asked for twice.
    t, budi = desk.shop.t, 5077
    [ask] = await desk.tg(budi, "mau order tote 1", first_name="Budi")
    assert ask.text == t("id", "draft.share_phone")
    own = {"phone_number": "6285711112222", "first_name": "Budi", "user_id": budi}
    [saved, product] = await desk.tg(budi, contact=own, first_name="Budi")
    assert saved.text == t("id", "contact.saved")
    assert product.text.startswith("Tote Bag Kanvas (TOTE-KNV) — Rp60.000")
    assert product.text.endswith(t("id", "draft.ask_name_or", name="Budi"))
    await desk.tg(budi, "Budi")
    await desk.tg(budi, "Jl. Melati 5, Bandung")
    [placed] = await desk.tg(budi, "/pesan ok")
    assert placed.text.startswith(t("id", "draft.placed", code="INV-1004", due="Rp60.000"))
    assert (await order(desk, "INV-1004")).recipient_phone == "+6285711112222"


async def test_a_whatsapp_customer_orders_by_numbers(desk: Desk) -> None:
    [refused] = await desk.wa(SARI_WA, "pesan kaos hitam XXL")
    assert refused.body and "XXL tidak ada; yang ada: L, XL" in refused.body
    [qty] = await desk.wa(SARI_WA, "kaos hitam XL")
    assert qty.body and qty.body.endswith(desk.shop.t("id", "draft.ask_qty"))
    await desk.wa(SARI_WA, "3")
    await desk.wa(SARI_WA, "Sari")
    [summary] = await desk.wa(SARI_WA, "Jl. Mawar 1, Bandung")
    assert summary.body and "1. ✅ Pesan" in summary.body and "3. ❌ Batal" in summary.body
    [placed] = await desk.wa(SARI_WA, "1")
    assert placed.body and placed.body.startswith("✅ Terima kasih! Pesanan INV-1004")
    new = await order(desk, "INV-1004")
    assert (new.phase, new.subtotal, new.recipient_phone) == (
        Phase.PLACED,
        Decimal(255000),
        SARI_WA,
    )


async def test_staff_on_telegram_and_a_reseller_on_whatsapp_place_orders(desk: Desk) -> None:
    settings = replace(
        desk.shop.settings, bot_username=desk.telegram.username, whatsapp_number=SHOP_NUMBER
    )
    desk.shop.settings = desk.shop.conversation.settings = settings
    [summary, forward] = await desk.tg(
        DEWI_TG, "/pesananbaru Budi; 0812-3456-7001; KAOS-HTM-L 2, TOTE-KNV 1; Jl. Melati 5"
    )
    assert summary.text.startswith("✅ Pesanan INV-1004 untuk Budi:")
    budi = await order(desk, "INV-1004")
    # The message to forward carries both invoice links.
    assert forward.text.splitlines()[-2:] == [
        f"https://t.me/{desk.telegram.username}?start={budi.link_code}",
        f"https://wa.me/{SHOP_NUMBER.lstrip('+')}?text=kabar%20{budi.link_code}",
    ]
    [dropship, to_buyer] = await desk.wa(
        MAWAR_WA, "pesan KAOS-HTM-XL 1; Andi; 0813-5555-1234; Jl. Kenanga 7"
    )
    assert dropship.body and "• Kaos Polos Hitam XL ×1 — Rp70.000" in dropship.body
    andi = await order(desk, "INV-1005")
    assert (andi.reseller_id, andi.recipient_name, andi.subtotal) == (1, "Andi", Decimal(70000))
    # The reseller gets a message for their buyer too, under the reseller's own name.
    assert to_buyer.body and to_buyer.body.splitlines()[0].startswith(
        "Halo Andi, pesanan INV-1005 di Mawar Batik Store"
    )
    assert f"?text=kabar%20{andi.link_code}" in to_buyer.body


async def test_order_forms_over_both_platforms_are_placed_with_one_tap(desk: Desk) -> None:
    # The lines of a form survive Twilio's form post and Telegram's JSON.
    form = "Nama: Andi\nNo HP: 0813-5555-1234\nAlamat: Jl. Kenanga 7, Surabaya\nPesanan: tote 1"
    [shown] = await desk.wa(MAWAR_WA, form)
    assert shown.body and "1. ✅ Buat pesanan" in shown.body and "2. ❌ Batal" in shown.body
    [placed, _to_buyer] = await desk.wa(MAWAR_WA, "1")
    assert placed.body and placed.body.startswith("✅ Pesanan INV-1004 untuk Andi:")
    [summary] = await desk.tg(DEWI_TG, form.replace("Andi", "Budi"))
    [[place], [_]] = (summary.reply_markup or {})["inline_keyboard"]
    assert (place["text"], place["callback_data"]) == ("✅ Buat pesanan", "ya")
    before = len(desk.telegram.sent)
    desk.telegram.push_update(
        desk.telegram.callback_update(chat_id=DEWI_TG, user_id=DEWI_TG, data="ya")
    )
    sent = await desk.telegram.wait_for_sent(before + 1)
    assert sent[before].text.startswith("✅ Pesanan INV-1005 untuk Budi:")
    assert (await order(desk, "INV-1005")).address == "Jl. Kenanga 7, Surabaya"
