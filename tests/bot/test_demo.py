"""`kabar demo --script`: the walk-through runs and shows a push for every phase of each flow,
and a parcel followed at the courier from shipped to delivered."""

from __future__ import annotations

import io
import re

from rich.console import Console

from bot.demo import run_demo


async def test_demo_script_pushes_every_phase_of_each_flow() -> None:
    buffer = io.StringIO()
    assert await run_demo(script=True, out=Console(file=buffer, width=200)) == 0
    transcript = buffer.getvalue()
    pushes = re.findall(r"^📩 (\w+) ◂ (.*(?:\n {2,}.*)*)", transcript, re.M)
    told = [(who, " ".join(body.split())) for who, body in pushes]

    def pushed(who: str, *words: str) -> int:
        return sum(1 for person, body in told if person == who and all(w in body for w in words))

    # Ready stock, direct sale: every phase reaches Sari; the courier's milestones follow
    # "shipped", and delivered comes from the courier, with no /terima.
    for words in [
        "Pesanan Anda sudah kami terima",
        "Pembayaran",
        "sedang dikemas",
        "sudah dikirim",
        "📦 Paketmu sudah diambil kurir JNE.",
        "🚚 Paketmu sedang dalam perjalanan",
        "📦 Paketmu sudah di kota tujuan (Bandung)",
        "🛵 Sedang diantar kurir hari ini",
        "✅ Diterima oleh BUDI, 13:00",
    ]:
        assert pushed("sari", "Pesanan INV-1001", words) == 1, words
    assert "/terima INV-1001" not in transcript
    assert "📍 Lacak JNE JN0012345678: diterima" in transcript
    # Made to order: paid, each production stage with progress, ready, shipped, delivered.
    for words in ["Pembayaran", "1/4 potong", "2/4 jahit", "3/4 sablon", "4/4 qc", "siap dikirim",
                  "sudah dikirim", "sudah diterima"]:  # fmt: skip
        assert pushed("sari", "Pesanan INV-1002", words) == 1, words
    assert pushed("sari", "Pesanan INV-1002", "Perkiraan siap") >= 5
    # Dropship: the end customer hears under the reseller's brand, in English; the reseller too.
    for words in ["We have your order", "payment", "packed", "on its way", "delivered"]:
        assert pushed("rina", "Mawar Batik Store · Order DS-2001", words) == 1, words
    assert not any("Toko Batik Kabar" in body for who, body in told if who == "rina")
    assert pushed("mawar", "Pesanan dropship DS-2001 untuk Rina") == 5
    # Waiting for stock: served when restocked; she hears her order is processed, not "back in
    # stock" (she has it on order).
    assert pushed("sari", "Pesanan INV-1003", "Stoknya belum cukup") == 1
    assert pushed("sari", "Pesanan INV-1003", "pesanan Anda kini kami proses") == 1
    assert pushed("sari", "Kabar baik! Kaos Polos Putih L") == 0
    # The note for the customer and the progress photo reach her; the shop's note does not.
    assert pushed("sari", "Pesanan INV-1002", "Pesan dari toko: pakai kancing batok kelapa") == 1
    assert pushed("sari", "Pesanan INV-1002", "jahitan kerah sudah rapi") == 1
    assert not any("benang" in body for who, body in told if who == "sari")
    # Questions answered from what she ordered and what the shop wrote.
    assert "XXL tidak ada; yang ada: L, XL" in transcript
    assert "Bisa COD untuk Jabodetabek." in transcript
    assert "Tagihan pesanan INV-1001: Rp170.000" in transcript
    assert 'maksud Anda "jahit"?' in transcript
    # The front desk: Rina asks for a person, Dewi gets the chat, answers, closes it.
    assert pushed("dewi", "🙋 #1 · Rina", "the strap of my bag is torn") == 1
    assert pushed("dewi", "💬 #1 · Rina", "thank you so much") == 1
    assert pushed("rina", "So sorry, Rina! We are sending you a new strap today.") == 1
    assert pushed("rina", "Our team has finished this conversation") == 1
    # Paying: the proof reaches staff with one-tap choices, and the tap records the payment.
    assert pushed("dewi", "💸 Bukti transfer INV-1001 dari Sari", "[1] ✅ Lunas") == 1
    assert "dewi ▸ 1\n   kabar ▸ ✅ INV-1001: dibayar" in transcript
    # The undone change was never told.
    assert "↩️ INV-1002" in transcript
    # Orders placed in chat, one of each kind, each told to whom it concerns.
    assert "✅ Pesanan INV-1004 untuk Budi Santoso:" in transcript
    assert re.search(r"Cukup kirim pesan ini ke chat kami: kabar [A-Za-z0-9_-]{22}", transcript)
    assert "✅ Pesanan INV-1005 untuk Andi Wijaya:\n" in transcript
    assert "• Kaos Polos Hitam XL ×1 — Rp70.000" in transcript  # at Mawar's price
    assert pushed("mawar", "Pesanan dropship INV-1005 untuk Andi Wijaya") == 1
    assert "Dikirim ke: Sari Lestari, Jl. Mawar 1, Bandung 40115" in transcript
    assert "• Kaos Polos Hitam XL (KAOS-HTM-XL) ×1 — Rp85.000" in transcript  # added
    assert "✅ Terima kasih! Pesanan INV-1006 sudah kami buat. Tagihan: Rp255.000" in transcript
    assert pushed("sari", "Pesanan INV-1006", "Pesanan Anda sudah kami terima") == 1
    # An order form from a reseller: shown to check, placed with one tap.
    assert "Untuk: Putri Ayu · 0813-7777-8888\n" in transcript
    assert "✅ Pesanan INV-1007 untuk Putri Ayu:" in transcript
