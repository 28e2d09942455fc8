"""The fake Bot API answers the real python-telegram-bot client as Telegram would."""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import EndPointNotFound, Forbidden, InvalidToken, RetryAfter
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.fakes.telegram import FakeTelegram


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as client:
        yield client


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns (an error here) on reading int time periods such as RetryAfter.retry_after.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


async def test_get_me_reports_the_bot_username(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()

    assert me.username == "kabar_test_bot"
    assert me.id == 123456
    assert bot.username == "kabar_test_bot"  # initialize() already asked


async def test_send_message_is_recorded_with_its_keyboard(fake: FakeTelegram, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Lacak", callback_data="track:42")]])

    message = await bot.send_message(
        chat_id=777, text="Pesanan #42 dikirim", parse_mode="HTML", reply_markup=keyboard
    )

    [sent] = fake.sent
    assert (sent.method, sent.chat_id, sent.text, sent.parse_mode) == (
        "sendMessage",
        777,
        "Pesanan #42 dikirim",
        "HTML",
    )
    assert sent.reply_markup == {
        "inline_keyboard": [[{"text": "Lacak", "callback_data": "track:42"}]]
    }
    assert message.message_id == sent.message_id
    assert message.reply_markup == keyboard
    # Form-encoded by PTB, normalised by the fake: ids come back as ints.
    assert [p["chat_id"] for name, p in fake.calls if name == "sendMessage"] == [777]


async def test_a_reply_keyboard_is_recorded_but_not_given_back(
    fake: FakeTelegram, bot: Bot
) -> None:
    share = KeyboardButton("Bagikan nomor saya", request_contact=True)
    keyboard = ReplyKeyboardMarkup([[share]], one_time_keyboard=True)

    message = await bot.send_message(chat_id=777, text="Nomor Anda?", reply_markup=keyboard)
    removed = await bot.send_message(
        chat_id=777, text="Terima kasih", reply_markup=ReplyKeyboardRemove()
    )

    first, second = fake.sent
    assert first.reply_markup is not None
    assert first.reply_markup["keyboard"] == [
        [{"text": "Bagikan nomor saya", "request_contact": True}]
    ]
    assert second.reply_markup == {"remove_keyboard": True}
    # As Telegram: the Message a send returns carries inline keyboards only.
    assert message.reply_markup is None and removed.reply_markup is None


async def test_send_photo_is_recorded_with_its_caption(fake: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_photo(chat_id=777, photo="AgAC-photo-1", caption="Resi JNE")

    [sent] = fake.sent
    assert (sent.method, sent.photo, sent.text) == ("sendPhoto", "AgAC-photo-1", "Resi JNE")
    assert message.caption == "Resi JNE"
    assert message.photo[0].file_id == "AgAC-photo-1"


async def test_uploaded_photo_is_recorded(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_photo(chat_id=777, photo=b"\x89PNG fake bytes", caption="Bukti")

    [sent] = fake.sent
    assert sent.photo is not None and sent.photo.startswith("upload:")
    assert sent.text == "Bukti"


async def test_blocked_chat_raises_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    fake.blocked.add(555)

    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(chat_id=555, text="Halo")

    assert fake.sent == []


async def test_fail_next_429_raises_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", 429, retry_after=3)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(chat_id=777, text="Halo")
    await bot.send_message(chat_id=777, text="Halo lagi")  # only the next call fails

    assert caught.value.retry_after == dtm.timedelta(seconds=3)
    assert [m.text for m in fake.sent] == ["Halo lagi"]


async def test_wrong_token_raises_invalid_token(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=fake.base_url, base_file_url=fake.base_file_url):
            pass


async def test_unknown_method_answers_404(fake: FakeTelegram, bot: Bot) -> None:
    # PTB maps a 404 to InvalidToken, or to EndPointNotFound in do_api_request once initialised.
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendKabarSurprise", api_kwargs={"chat_id": 777})


async def test_webhook_and_commands_are_remembered(fake: FakeTelegram, bot: Bot) -> None:
    await bot.set_webhook("https://kabar.example/tg", secret_token="s3cret")
    info = await bot.get_webhook_info()
    await bot.set_my_commands([("start", "Mulai"), ("pesanan", "Pesanan saya")])

    assert info.url == "https://kabar.example/tg"
    assert fake.webhook is not None and fake.webhook["secret_token"] == "s3cret"
    assert fake.commands == [
        (
            [
                {"command": "start", "description": "Mulai"},
                {"command": "pesanan", "description": "Pesanan saya"},
            ],
            None,
        )
    ]
    await bot.delete_webhook()
    assert fake.webhook is None


async def test_application_replies_to_a_polled_start_command(fake: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Selamat datang di Kabar")

    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            fake.push_update(fake.message_update(chat_id=321, user_id=321, text="/start"))
            [reply] = await fake.wait_for_sent(1, timeout=2)
        finally:
            await app.updater.stop()
            await app.stop()

    assert (reply.chat_id, reply.text) == (321, "Selamat datang di Kabar")
    assert "deleteWebhook" in [name for name, _ in fake.calls]


async def test_application_receives_a_button_press(fake: FakeTelegram) -> None:
    pressed: list[str] = []

    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None and update.callback_query.data is not None
        pressed.append(update.callback_query.data)
        await update.callback_query.answer("OK")
        await context.bot.send_message(chat_id=321, text="Dilacak")

    app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
    app.add_handler(CallbackQueryHandler(on_press))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            fake.push_update(fake.callback_update(chat_id=321, user_id=321, data="track:42"))
            await fake.wait_for_sent(1, timeout=2)
        finally:
            await app.updater.stop()
            await app.stop()

    assert pressed == ["track:42"]
    assert "answerCallbackQuery" in [name for name, _ in fake.calls]


async def test_per_chat_limit_answers_too_many_requests(fake: FakeTelegram, bot: Bot) -> None:
    fake.limit(per_chat_per_second=1)

    await bot.send_message(chat_id=777, text="satu")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(chat_id=777, text="dua")
    await bot.send_message(chat_id=888, text="chat lain")  # other chats are not held back

    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    assert fake.too_many == 1
    assert [m.text for m in fake.sent] == ["satu", "chat lain"]


async def test_wait_for_sent_times_out_with_what_was_sent(fake: FakeTelegram) -> None:
    with pytest.raises(TimeoutError, match=r"expected 1 sent messages"):
        await fake.wait_for_sent(1, timeout=0.05)
