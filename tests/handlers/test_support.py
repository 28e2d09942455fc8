"""The front desk: nothing a customer writes vanishes, and staff answer from their own chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select, update

from bot.jobs import Jobs
from handlers.types import Attachment, Incoming, Reply
from models import ChatMessage, Order, SupportThread
from models.chats import get_or_create_chat
from models.enums import Channel, NotificationKind, NotificationStatus, PaymentState
from models.outbox import Notification
from models.people import Staff
from models.phones import mask_phone
from models.storage import Database
from models.support import ThreadStatus
from tests.support.shop import Shop, attach, open_shop

ASKS = [
    "mau bicara sama admin",
    "saya mau komplain, barangnya rusak",
    "bisa ngobrol sama orang aja?",
    "I want to talk to a human",
    "can I speak to someone please",
    "kak, kembalikan uang saya ya",  # only a person gives money back
    "mau batal aja kak pesanannya",
    "I want a refund",
    "bisa ganti alamat kirimnya?",
    "can I cancel INV-1003?",  # a code named, but no status will do: only a person cancels
    "i want to cancel my order",
    "tolong batalin pesanan saya",
    "alamat salah kak",
]


@pytest.fixture
async def shop(db: Database) -> AsyncIterator[Shop]:
    """The demo shop, on SQLite and on PostgreSQL."""
    yield await open_shop(db)


async def threads(shop: Shop) -> list[SupportThread]:
    async with shop.db.sessions() as s:
        return list(await s.scalars(select(SupportThread).order_by(SupportThread.id)))


def forwards(pushed: list[tuple[str, Reply]]) -> list[str]:
    """The texts that reached the staff chat (Dewi's)."""
    return [reply.text for who, reply in pushed if who == "dewi"]


@pytest.mark.parametrize("text", ASKS)
async def test_asking_for_a_person_opens_one_thread_and_says_when(shop: Shop, text: str) -> None:
    lang = "en" if text[0] in "Ic" else "id"
    await shop.say("sari", f"/bahasa {lang}")
    [ack] = await shop.say("sari", text)
    [thread] = await threads(shop)
    assert ack.text == shop.t(lang, "support.ack.asked", number=thread.id) + " " + shop.t(
        lang, "support.soon"
    )
    assert (thread.status, thread.reason) == (ThreadStatus.OPEN, "asked")
    [forward] = forwards(await shop.deliver(after=0))
    assert forward.startswith(f"🙋 #{thread.id} · Sari (+6281******890, console)")
    assert "Pesanan: INV-1003 menunggu stok, INV-1002 dipesan, INV-1001 dipesan" in forward
    assert f"Sari: {text}" in forward


async def test_staff_are_told_to_answer_a_dropship_customer_in_the_resellers_name(
    shop: Shop,
) -> None:
    brand = shop.t("id", "support.forward.brand", brand="Mawar Batik Store")
    await shop.say("rina", "mau bicara dengan admin")
    await shop.say("sari", "mau bicara dengan admin")
    sent = forwards(await shop.deliver(after=0))
    [rina] = [text for text in sent if "· Rina (" in text]
    [sari] = [text for text in sent if "· Sari (" in text]
    assert brand in rina.splitlines() and "dropship" not in sari


async def test_staff_see_the_orders_a_reseller_placed_when_the_reseller_asks(shop: Shop) -> None:
    await shop.say("mawar", "mau bicara sama admin")
    [forward] = forwards(await shop.deliver(after=0))
    assert "Pesanan: DS-2001 dipesan" in forward.splitlines()


async def test_outside_the_hours_the_customer_is_told_when_people_answer(shop: Shop) -> None:
    shop.conversation.settings = replace(shop.settings, support_hours=(time(10), time(17)))
    [ack] = await shop.say("sari", "mau bicara sama admin")  # 09:00 in Jakarta
    assert ack.text.endswith(shop.t("id", "support.later", start="10:00"))
    assert "mulai pukul 10:00" in ack.text


async def test_two_messages_the_bot_cannot_understand_open_a_thread(shop: Shop) -> None:
    first = await shop.text("sari", "xyzzy plugh")
    assert first.startswith(shop.t("id", "unknown.text"))
    assert await threads(shop) == []
    [ack] = await shop.say("sari", "qwerty asdf")
    [thread] = await threads(shop)
    assert thread.reason == "not_understood"
    assert ack.text.startswith(shop.t("id", "support.ack.not_understood", number=thread.id))
    [forward] = forwards(await shop.deliver(after=0))
    assert "xyzzy plugh" in forward and "qwerty asdf" in forward  # what came before, too


async def test_an_understood_message_between_misses_starts_the_count_again(shop: Shop) -> None:
    await shop.say("sari", "xyzzy plugh")
    await shop.say("sari", "/pesanan")
    await shop.say("sari", "qwerty asdf")
    assert await threads(shop) == []


@pytest.mark.parametrize(
    ("photo", "attachment"),
    [
        ("photo-of-parcel", None),
        (None, Attachment("document", "doc-1")),
        (None, Attachment("voice", "voice-1")),
        (None, Attachment("location", "-6.9,107.6")),
    ],
)
async def test_media_nothing_reads_opens_a_thread(
    shop: Shop, photo: str | None, attachment: Attachment | None
) -> None:
    # A stranger: a photo from a customer with an unpaid order is read as the transfer proof.
    [ack] = await shop.say("tamu", "", photo=photo, attachment=attachment)
    [thread] = await threads(shop)
    assert thread.reason == "media" and "#" in ack.text
    [(_, forward)] = [(w, r) for w, r in await shop.deliver(after=0) if w == "dewi"]
    kind = "photo" if photo else attachment.kind if attachment else ""
    assert f"[{shop.t('id', 'support.media.' + kind)}]" in forward.text
    assert forward.photo == photo
    # Staff get the file itself to open, not only a line saying one came; a place is words.
    sendable = attachment if attachment is not None and attachment.kind != "location" else None
    assert forward.file == sendable


async def test_while_open_free_text_goes_to_staff_and_commands_are_still_answered(
    shop: Shop,
) -> None:
    await shop.say("sari", "mau bicara sama admin")
    await shop.deliver(after=0)
    assert await shop.say("sari", "ada stok kaos hitam XL?") == []  # a person answers now
    status = await shop.text("sari", "/status INV-1001")
    assert "Pesanan INV-1001" in status
    [later] = forwards(await shop.deliver(after=11))
    assert later.startswith("💬 #") and "ada stok kaos hitam XL?" in later
    await shop.say("dewi", "/bayar INV-1001")
    assert [who for who, _ in await shop.deliver()] == ["sari"]  # pushes still go


async def test_a_transfer_proof_sent_to_the_person_is_still_a_one_tap_confirmation(
    shop: Shop,
) -> None:
    await shop.say("sari", "mau bicara sama admin")
    await shop.say("dewi", "/balas 1 silakan transfer ke BCA 123 ya kak")
    await shop.deliver(after=0)
    # Which order a bare photo pays is not plain (three unpaid): the person reads it.
    assert await shop.say("sari", "", photo="tf-which") == []
    [forward] = forwards(await shop.deliver(after=11))
    assert forward.startswith("💬 #1") and forward.endswith("Sari: [foto]")
    [thanks] = await shop.say("sari", "ini buktinya kak INV-1003", photo="tf-1003")
    assert thanks.text == shop.t("id", "pay.proof_received", code="INV-1003")
    async with shop.db.sessions() as s:
        state = await s.scalar(select(Order.payment_state).where(Order.code == "INV-1003"))
    assert state is PaymentState.PROOF_SENT
    to_staff = [r for who, r in await shop.deliver(after=11) if who == "dewi"]
    [alert] = [r for r in to_staff if r.choices]
    assert alert.photo == "tf-1003" and alert.choices[0].command == "/bayar INV-1003"
    assert any(r.text.startswith("💬 #1") for r in to_staff)  # the thread shows it too


@pytest.mark.parametrize("answer", ["2", "iya kak"])
async def test_an_answer_to_the_person_is_theirs_not_a_pick_from_an_older_menu(
    shop: Shop, answer: str
) -> None:
    await shop.say("sari", "pesanan saya" if answer == "2" else "ada kemeja batik?")  # a menu
    await shop.say("sari", "mau bicara sama admin")
    await shop.say("dewi", "/balas 1 mau pesan berapa kak?")
    await shop.deliver(after=0)
    before = await shop.snapshot(but_handovers=True)
    assert await shop.say("sari", answer) == []  # no order's status, no draft
    [forwarded] = forwards(await shop.deliver(after=11))
    assert forwarded.endswith(f"Sari: {answer}")
    assert await shop.snapshot(but_handovers=True) == before


async def test_staff_answer_take_and_close_a_thread(shop: Shop) -> None:
    await shop.say("sari", "mau bicara sama admin")
    [thread] = await threads(shop)
    n = thread.id
    assert shop.t("id", "support.replied", number=n) == await shop.text(
        "dewi", f"/balas {n} Halo kak, ada yang bisa dibantu?"
    )
    pushed = await shop.deliver(after=0)
    assert ("sari", "Halo kak, ada yang bisa dibantu?") in [(w, r.text) for w, r in pushed]
    assert shop.t("id", "support.taken", number=n) == await shop.text("dewi", f"/ambil {n}")
    inbox = await shop.text("dewi", "/inbox")
    assert f"#{n} · Sari · sudah dibalas · ditangani Dewi" in inbox
    assert shop.t("id", "support.closed", number=n) == await shop.text("dewi", f"/selesai {n}")
    [told] = [r for w, r in await shop.deliver(after=0) if w == "sari"]
    assert told.text == shop.t("id", "support.notice.closed")
    assert shop.t("id", "support.refuse.closed", number=n) == await shop.text(
        "dewi", f"/balas {n} masih di sana?"
    )
    # Closed: the bot answers her free text again.
    assert "Kaos Polos Hitam XL" in await shop.text("sari", "ada stok kaos hitam XL?")


async def test_staff_answer_with_a_file_and_the_customer_gets_the_file(shop: Shop) -> None:
    await shop.say("sari", "mau bicara sama admin")
    [thread] = await threads(shop)
    invoice = Attachment("document", "BQAC-invoice-pdf")
    replied = await shop.text("dewi", f"/balas {thread.id} ini invoicenya kak", attachment=invoice)
    assert replied == shop.t("id", "support.replied", number=thread.id)
    voice = Attachment("voice", "AwAC-voice-note")
    await shop.say("dewi", f"/balas {thread.id}", attachment=voice)  # the file alone is an answer
    told = [r for w, r in await shop.deliver(after=0) if w == "sari"]
    assert [(r.text, r.file) for r in told] == [("ini invoicenya kak", invoice), ("", voice)]
    # A place cannot be passed on as a file: without words it is no answer, with words the
    # words go and staff are told the place did not.
    place = Attachment("location", "-6.2,106.8")
    usage = await shop.text("dewi", f"/balas {thread.id}", attachment=place)
    assert usage == shop.t("id", "support.reply_usage")
    words = await shop.text("dewi", f"/balas {thread.id} toko kami di sini", attachment=place)
    assert words.splitlines() == [
        shop.t("id", "support.replied", number=thread.id),
        shop.t("id", "support.not_passed_on", kind="lokasi"),
    ]
    [(who, answer)] = await shop.deliver(after=0)
    assert (who, answer.text, answer.file) == ("sari", "toko kami di sini", None)


async def test_a_second_staff_member_sees_who_took_the_thread(shop: Shop) -> None:
    await _second_staff(shop, "eka")
    await shop.say("sari", "mau bicara sama admin")
    [thread] = await threads(shop)
    await shop.deliver(after=0)
    await shop.say("dewi", f"/ambil {thread.id}")
    told = [r.text for w, r in await shop.deliver(after=0) if w == "eka"]
    assert told == ["⚠️ " + shop.t("id", "alert.claimed", number=thread.id, staff="Dewi")]
    assert shop.t("id", "support.refuse.claimed", number=thread.id, who="Dewi") == (
        await shop.text("eka", f"/balas {thread.id} saya bantu ya")
    )
    assert "ditangani Dewi" in await shop.text("eka", "/inbox")


async def test_an_idle_thread_closes_itself_and_the_customer_is_told(shop: Shop) -> None:
    await shop.say("sari", "mau bicara sama admin")
    jobs = Jobs(shop.db, shop.settings, shop.clock, idle_close=timedelta(minutes=120))
    shop.clock.advance(119 * 60)
    assert await jobs.close_idle_threads() == []
    shop.clock.advance(2 * 60)
    [closed] = await jobs.close_idle_threads()
    told = [r.text for w, r in await shop.deliver(after=0) if w == "sari"]
    assert told == [shop.t("id", "support.notice.closed_idle")]
    assert (await threads(shop))[0].id == closed
    assert await jobs.close_idle_threads() == []  # told once


async def test_a_flood_is_one_thread_and_a_few_forwards(shop: Shop) -> None:
    await shop.say("sari", "mau bicara sama admin")
    sent = forwards(await shop.deliver(after=0))
    for n in range(50):  # 50 messages in a minute
        await shop.say("sari", f"halo {n}?")
        sent += forwards(await shop.deliver(after=1.2))
    sent += forwards(await shop.deliver(after=11))
    assert len(await threads(shop)) == 1
    assert len(sent) <= 7  # the opening one, then at most one per 10 s
    told = "\n".join(sent)
    assert all(f"halo {n}?" in told for n in range(50))  # nothing lost


async def test_a_stranger_can_open_a_thread_too(shop: Shop) -> None:
    [ack] = await shop.say("tamu", "mau pesan tapi mau tanya admin dulu, bisa sama orang?")
    assert "#" in ack.text
    [forward] = forwards(await shop.deliver(after=0))
    assert shop.t("id", "support.forward.no_orders") in forward


async def test_someone_writing_from_a_chat_that_sees_anothers_orders_is_shown_as_both(
    shop: Shop,
) -> None:
    # Tamu opened Sari's invoice link: staff must not take Tamu for Sari.
    await shop.say("tamu", f"kabar {shop.links['INV-1001']}")
    await shop.say("tamu", "mau bicara dengan admin")
    [forward] = forwards(await shop.deliver(after=0))
    who = shop.t("id", "support.forward.orders_of", who="Tamu", customer="Sari")
    assert forward.startswith(f"🙋 #1 · {who} (+6281******890, console)")
    assert "Tamu: mau bicara dengan admin" in forward


async def test_a_whatsapp_chat_is_shown_with_its_own_number(shop: Shop) -> None:
    # Her husband's phone opened Sari's invoice: staff call back the number that wrote.
    husband = "+6281299990000"
    for said in (f"kabar {shop.links['INV-1001']}", "mau bicara dengan admin"):
        await shop.conversation.handle(
            Incoming(Channel.WHATSAPP, husband, husband, "Andi", said, phone_verified=True)
        )
    [forward] = forwards(await shop.deliver(after=0))
    who = shop.t("id", "support.forward.orders_of", who="Andi", customer="Sari")
    assert forward.startswith(f"🙋 #1 · {who} ({mask_phone(husband)}, whatsapp)")


async def test_a_thread_and_its_numbering_survive_a_restart(shop: Shop) -> None:
    await shop.say("sari", "mau bicara sama admin")
    [first] = await threads(shop)
    restarted = attach(shop.db)
    restarted.clock.now = shop.clock.now
    assert await restarted.say("sari", "masih di sana?") == []  # still held for a person
    await restarted.say("rina", "I want to talk to a human")
    numbers = [t.id for t in await threads(shop)]
    assert numbers == [first.id, first.id + 1]


async def test_every_message_in_and_out_is_logged(shop: Shop) -> None:
    await shop.say("sari", "ada stok kaos hitam XL?")  # answered from a read transaction
    await shop.say("dewi", "/bayar INV-1001")
    await shop.deliver()
    async with shop.db.sessions() as s:
        rows = (
            await s.execute(
                select(ChatMessage.direction, ChatMessage.author, ChatMessage.text).order_by(
                    ChatMessage.id
                )
            )
        ).all()
    texts = [(d, a, t.splitlines()[0] if t else t) for d, a, t in rows]
    assert ("in", "person", "ada stok kaos hitam XL?") in texts
    assert ("out", "kabar", "Kaos Polos Hitam XL (KAOS-HTM-XL) — Rp85.000") in texts
    assert ("in", "person", "/bayar INV-1001") in texts
    assert ("out", "kabar", "Toko Batik Kabar · Pesanan INV-1001") in texts  # the push


async def test_the_retention_job_deletes_only_old_messages(shop: Shop) -> None:
    await shop.say("sari", "halo")
    shop.clock.advance(86400 * 91)
    await shop.say("sari", "halo lagi")
    cutoff = shop.clock.now - timedelta(days=90)
    async with shop.db.sessions() as s:
        old = await s.scalar(select(func.count()).where(ChatMessage.at < cutoff))
        new = await s.scalar(select(func.count()).where(ChatMessage.at >= cutoff))
    assert old and old >= 2 and new == 2  # the first "halo", its answer, the shop's first pushes
    jobs = Jobs(shop.db, shop.settings, shop.clock, keep_messages=timedelta(days=90))
    assert await jobs.forget_old_messages() == old
    async with shop.db.sessions() as s:
        kept = list(await s.scalars(select(ChatMessage.text).order_by(ChatMessage.id)))
    assert kept[0] == "halo lagi" and len(kept) == 2


async def test_the_retention_job_empties_what_old_notifications_said(shop: Shop) -> None:
    await shop.say("sari", "mau bicara sama admin")
    [thread] = await threads(shop)
    await shop.say("dewi", f"/balas {thread.id} Halo kak Sari")
    await shop.deliver(after=0)
    await shop.say("dewi", "/bayar INV-1002")
    async with shop.db.transaction() as s:  # a WhatsApp push that waits for a template
        await s.execute(
            update(Notification)
            .where(Notification.status == NotificationStatus.PENDING)
            .values(status=NotificationStatus.HELD)
        )
    shop.clock.advance(86400 * 91)
    await shop.say("dewi", f"/balas {thread.id} Masih ada yang bisa dibantu?")  # due later
    await shop.say("dewi", "/bayar INV-1001")  # still in its undo window: pending
    jobs = Jobs(shop.db, shop.settings, shop.clock, keep_messages=timedelta(days=90))
    await jobs.forget_old_messages()
    async with shop.db.sessions() as s:
        rows = list(await s.execute(select(Notification.status, Notification.payload)))
    said = [payload for _, payload in rows]
    assert not [p for p in said if "Halo kak Sari" in str(p)]
    assert [p for p in said if p.get("text") == "Masih ada yang bisa dibantu?"]
    waiting = (NotificationStatus.PENDING, NotificationStatus.HELD)
    unsent = {status: payload for status, payload in rows if status in waiting}
    assert set(unsent) == set(waiting) and all(unsent.values())  # still to be sent: kept
    assert {status for status, payload in rows if not payload} == {NotificationStatus.SENT}


async def test_nothing_of_a_customer_reaches_a_group_that_is_not_a_staff_chat(
    shop: Shop,
) -> None:
    await shop.say("grup", "/start", group=True)  # a group the bot was added to
    await shop.say("sari", "mau bicara sama admin")
    pushed = await shop.deliver(after=0)
    assert [who for who, _ in pushed] == ["dewi"]
    async with shop.db.sessions() as s:
        kinds = await s.scalars(
            select(func.count()).where(Notification.kind == NotificationKind.HANDOVER)
        )
    assert list(kinds) == [1]


async def _second_staff(shop: Shop, persona: str) -> None:
    async with shop.db.transaction() as s:
        member = Staff(name="Eka")
        s.add(member)
        await s.flush()
        chat = await get_or_create_chat(s, Channel.CONSOLE, persona)
        chat.staff_id = member.id
