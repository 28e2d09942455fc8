"""Payment across both platforms: a proof (photo or PDF) from one reaches staff on the other.

The real PTB and twilio clients against local fakes (the desk of test_support_channels).
"""

from __future__ import annotations

from dataclasses import replace

from handlers.context import PaymentSettings
from models.change import Policy
from tests.bot.test_support_channels import DEWI_TG, SARI_TG, SARI_WA, Desk, _to, desk
from tests.fakes.telegram import UPLOADS

__all__ = ["desk"]  # the fixture, shared

ACCOUNTS = (("BCA", "1234567890", "Toko Batik Kabar"),)


def _with_accounts(desk: Desk) -> None:
    settings = replace(
        desk.shop.settings, payment=PaymentSettings(accounts=ACCOUNTS, policy=Policy())
    )
    desk.shop.settings = desk.shop.conversation.settings = settings


async def test_a_whatsapp_proof_is_confirmed_with_one_tap_on_telegram(desk: Desk) -> None:
    _with_accounts(desk)
    await desk.tg(DEWI_TG, "/inbox")
    [which] = await desk.wa(SARI_WA, "min mau bayar, transfer kemana?")
    assert which.body and "1. INV-1003" in which.body and "2. INV-1002" in which.body
    [how] = await desk.wa(SARI_WA, "2")  # the numbered choice
    assert how.body and how.body.startswith("Tagihan pesanan INV-1002: Rp350.000")
    assert "BCA 1234567890 a.n. Toko Batik Kabar" in how.body
    receipt = b"\xff\xd8 a transfer receipt"
    [thanks] = await desk.wa(SARI_WA, "", media_url=desk.twilio.add_media(receipt))
    assert thanks.body == desk.shop.t("id", "pay.proof_received", code="INV-1002")

    await desk.deliver()
    [alert] = [m for m in _to(desk, DEWI_TG) if m.method == "sendPhoto"]
    assert alert.photo is not None and UPLOADS[alert.photo] == receipt
    assert alert.text.startswith("💸 ") and "INV-1002" in alert.text
    buttons = [row[0] for row in (alert.reply_markup or {})["inline_keyboard"]]
    assert [b["callback_data"] for b in buttons] == [
        "/bayar INV-1002",
        "/bayar INV-1002 ?",
        "/tolak INV-1002",
    ]
    before = len(desk.telegram.sent)
    desk.telegram.push_update(
        desk.telegram.callback_update(
            chat_id=DEWI_TG, user_id=DEWI_TG, data=buttons[0]["callback_data"]
        )
    )
    [done] = [m for m in await desk.telegram.wait_for_sent(before + 1) if m.chat_id == DEWI_TG][-1:]
    assert done.text.startswith("✅ INV-1002: dibayar")
    sent = len(desk.twilio.messages)
    await desk.deliver(after=31)  # the undo window has passed
    told = [m.body or "" for m in desk.twilio.messages[sent:] if m.to == f"whatsapp:{SARI_WA}"]
    assert any("Pembayaran sudah kami terima" in body for body in told)


async def test_a_telegram_proof_is_refused_by_number_on_whatsapp(desk: Desk) -> None:
    _with_accounts(desk)
    await desk.wa("+6281100000001", "inbox")  # Dewi works from WhatsApp
    await desk.tg(SARI_TG, f"/start {desk.shop.links['INV-1001']}")
    desk.telegram.files["AgAC-receipt"] = b"\xff\xd8 a blurry receipt"
    [thanks] = await desk.tg(SARI_TG, photo_file_id="AgAC-receipt", caption="INV-1001 kak")
    assert thanks.text == desk.shop.t("id", "pay.proof_received", code="INV-1001")
    sent = len(desk.twilio.messages)
    await desk.deliver()
    [alert] = [m for m in desk.twilio.messages[sent:] if m.to == "whatsapp:+6281100000001"]
    assert alert.body and "1. ✅ Lunas" in alert.body and "3. ❌ Tolak" in alert.body
    [link] = alert.media_url
    [asked] = await desk.wa("+6281100000001", "3")  # ❌, by its number
    assert asked.body == desk.shop.t("id", "refuse_proof.ask_reason", code="INV-1001")
    await desk.wa("+6281100000001", "tolak INV-1001 fotonya buram")
    await desk.deliver(after=31)
    refused = [m.text for m in _to(desk, SARI_TG) if "bukti pembayaran belum bisa" in m.text]
    assert refused and "fotonya buram" in refused[0]
    assert link.startswith("https://shop.example/media/")


async def test_a_whatsapp_pdf_receipt_reaches_telegram_staff_as_the_file(desk: Desk) -> None:
    _with_accounts(desk)
    await desk.tg(DEWI_TG, "/inbox")
    receipt = b"%PDF-1.4 a bank's transfer receipt"
    media = desk.twilio.add_media(receipt, "application/pdf")
    [thanks] = await desk.wa(
        SARI_WA, "INV-1002", media_url=media, media_content_type="application/pdf"
    )
    assert thanks.body == desk.shop.t("id", "pay.proof_received", code="INV-1002")
    await desk.deliver()
    [alert] = [m for m in _to(desk, DEWI_TG) if m.method == "sendDocument"]
    assert alert.file is not None and UPLOADS[alert.file] == receipt
    assert "INV-1002" in alert.text and alert.reply_markup is not None


async def test_a_telegram_pdf_receipt_goes_to_staff_by_its_file_id(desk: Desk) -> None:
    _with_accounts(desk)
    await desk.tg(DEWI_TG, "/inbox")
    await desk.tg(SARI_TG, f"/start {desk.shop.links['INV-1001']}")
    document = {"file_id": "BQAC-receipt", "file_unique_id": "uBQAC", "file_name": "tf.pdf"}
    [thanks] = await desk.tg(SARI_TG, caption="INV-1001", extra={"document": document})
    assert thanks.text == desk.shop.t("id", "pay.proof_received", code="INV-1001")
    await desk.deliver()
    # A document's id sent as a photo is refused by Telegram (and by the fake): it must go
    # out as the document it is.
    [alert] = [m for m in _to(desk, DEWI_TG) if "INV-1001" in m.text]
    assert (alert.method, alert.file) == ("sendDocument", "BQAC-receipt")
