"""A fake Telegram Bot API server that the real python-telegram-bot client can talk to."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

from aiohttp import web

JSONDict = dict[str, Any]

# PTB sends every non-string parameter JSON-encoded (form fields are all strings), so these are
# decoded back; string parameters such as `text` must never be decoded ("123" stays text).
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "media",
    }
)
NUMBER_PARAMS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "user_id",
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "offset",
        "limit",
        "timeout",
        "max_connections",
        "cache_time",
    }
)
BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "show_alert",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "has_spoiler",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)
# The file each sending method carries, by the parameter that names it.
FILE_PARAMS = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendVoice": "voice",
    "sendAudio": "audio",
    "sendVideo": "video",
}
SEND_METHODS = frozenset({"sendMessage", *FILE_PARAMS})
LONG_POLL_CAP = 2.0  # seconds: keeps tests fast whatever timeout the client asks for
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass
class SentMessage:
    """A message the bot sent (sendMessage, sendPhoto, sendDocument…) and the fake accepted."""

    method: str
    chat_id: int
    text: str
    photo: str | None
    reply_markup: JSONDict | None
    parse_mode: str | None
    at: float
    message_id: int
    file: str | None = None  # sendDocument, sendVoice, sendAudio, sendVideo: the file id or upload


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    description: str
    migrate_to_chat_id: int | None = None


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class _Window:
    """A sliding-window rate limit: at most `capacity` events per `span` seconds."""

    def __init__(self, per_second: float) -> None:
        if per_second <= 0:
            raise ValueError("a rate limit must be positive")
        # Below 1/s the window widens so that, e.g., 0.5/s means one send per two seconds.
        self.span = max(1.0, 1.0 / per_second)
        self.capacity = max(1, int(per_second * self.span))

    def full(self, times: deque[float], now: float) -> bool:
        while times and now - times[0] >= self.span:
            times.popleft()
        return len(times) >= self.capacity


def _number(value: str) -> int | float | str:
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return value


# What Telegram's objects for each kind of file hold besides their ids.
_SHAPES: dict[str, JSONDict] = {
    "document": {"file_name": "file"},
    "voice": {"duration": 1},
    "audio": {"duration": 1},
    "video": {"width": 1, "height": 1, "duration": 1},
}

# The bytes of every file uploaded to any fake, by the `upload:<sha256>` a sent message records.
UPLOADS: dict[str, bytes] = {}


def _normalise(raw: dict[str, Any]) -> JSONDict:
    """Turn form strings back into the JSON values PTB encoded; leave JSON bodies as they are."""
    params: JSONDict = {}
    for key, value in raw.items():
        if isinstance(value, web.FileField):
            data = value.file.read()
            params[key] = f"upload:{hashlib.sha256(data).hexdigest()}"
            UPLOADS[params[key]] = data
            continue
        if isinstance(value, bytes | bytearray):
            value = bytes(value).decode()
        if isinstance(value, str):
            if key in JSON_PARAMS:
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            elif key in NUMBER_PARAMS:
                value = _number(value)
            elif key in BOOL_PARAMS:
                value = value.lower() in ("true", "1")
        params[key] = value
    return params


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _error_body(status: int, description: str, parameters: JSONDict | None = None) -> JSONDict:
    body: JSONDict = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


async def _wait(waiters: set[asyncio.Event], seconds: float) -> None:
    """Wait until someone wakes the waiters or `seconds` pass."""
    event = asyncio.Event()
    waiters.add(event)
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)
    finally:
        waiters.discard(event)


def _wake(waiters: set[asyncio.Event]) -> None:
    for event in waiters:
        event.set()


class FakeTelegram:
    """A local Bot API server: records what the bot sends, serves queued updates, fails on cue."""

    def __init__(self, token: str = "123456:TEST-TOKEN", username: str = "kabar_test_bot") -> None:
        self.token = token
        self.username = username
        self.bot_id = int(token.split(":", 1)[0])
        self.sent: list[SentMessage] = []
        self.calls: list[tuple[str, JSONDict]] = []
        self.webhook: JSONDict | None = None
        self.commands: list[tuple[list[JSONDict], JSONDict | None]] = []
        self.blocked: set[int] = set()
        self.too_many = 0
        self._updates: list[JSONDict] = []
        self._last_update_id = 0
        self._message_ids = 0
        self._failures: dict[str, deque[_Failure]] = {}
        self._flaky: dict[str, tuple[float, random.Random]] = {}
        self._hangs: dict[str, list[float]] = {}
        self._overall: _Window | None = None
        self._per_chat: _Window | None = None
        self._overall_times: deque[float] = deque()
        self._chat_times: dict[int, deque[float]] = {}
        self._update_waiters: set[asyncio.Event] = set()
        self._sent_waiters: set[asyncio.Event] = set()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        # Files people sent, by file id: getFile names a path, /file/bot<token>/<path> serves it.
        self.files: dict[str, bytes] = {}
        # What each file id people sent is (photo, document, voice…): Telegram refuses to send
        # a document's id as a photo.
        self.file_kinds: dict[str, str] = {}
        self._methods: dict[str, Callable[[str, JSONDict], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getFile": self._get_file,
            "getUpdates": self._get_updates,
            "sendMessage": self._send,
            **dict.fromkeys(FILE_PARAMS, self._send),
            "answerCallbackQuery": self._true,
            "sendChatAction": self._true,
            "deleteMessage": self._true,
            "editMessageText": self._edit,
            "editMessageReplyMarkup": self._edit,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._true,
        }

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve the API on a free port of 127.0.0.1."""
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already running")
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._handle_file)
        # A short shutdown timeout: stop() wakes long polls, nothing else should linger.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving; pending long polls answer at once."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        _wake(self._update_waiters)
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """The URL to give PTB's `base_url` (it appends the token)."""
        return f"{self._origin()}/bot"

    @property
    def base_file_url(self) -> str:
        """The URL to give PTB's `base_file_url`."""
        return f"{self._origin()}/file/bot"

    def _origin(self) -> str:
        if self._port is None:
            raise RuntimeError("start() the FakeTelegram first")
        return f"http://127.0.0.1:{self._port}"

    # -- test controls --------------------------------------------------------------------------

    def push_update(self, update: JSONDict) -> None:
        """Queue an update for getUpdates, giving it the next update_id if it has none."""
        if "update_id" not in update:
            update["update_id"] = self._last_update_id + 1
        self._last_update_id = max(self._last_update_id, int(update["update_id"]))
        self._updates.append(update)
        _wake(self._update_waiters)

    def message_update(
        self,
        *,
        chat_id: int,
        user_id: int,
        text: str = "",
        first_name: str = "Sari",
        chat_type: str = "private",
        contact: JSONDict | None = None,
        photo_file_id: str | None = None,
        caption: str | None = None,
        reply_to: int | None = None,
        extra: JSONDict | None = None,
    ) -> JSONDict:
        """Build (not queue) an Update carrying a user's message, as Telegram would send it.

        `reply_to` quotes the bot's message of that id in the chat; `extra` adds fields such as
        `document`, `voice` or `location`.
        """
        message: JSONDict = {
            "message_id": self._next_message_id(),
            "from": self._user(user_id, first_name),
            "chat": self._chat(chat_id, chat_type, first_name),
            "date": int(time.time()),
        }
        if text:
            message["text"] = text
            if entities := self._command_entities(text):
                message["entities"] = entities
        if contact is not None:
            message["contact"] = contact
        if photo_file_id is not None:
            self.file_kinds[photo_file_id] = "photo"
            message["photo"] = [
                {
                    "file_id": f"{photo_file_id}-s",
                    "file_unique_id": f"u{photo_file_id}-s",
                    "width": 90,
                    "height": 90,
                    "file_size": 1200,
                },
                {
                    "file_id": photo_file_id,
                    "file_unique_id": f"u{photo_file_id}",
                    "width": 800,
                    "height": 800,
                    "file_size": 64000,
                },
            ]
        if caption is not None:
            message["caption"] = caption
            if entities := self._command_entities(caption):
                message["caption_entities"] = entities
        if reply_to is not None:
            quoted = next(m for m in self.sent if m.message_id == reply_to and m.chat_id == chat_id)
            message["reply_to_message"] = self._message_json(quoted)
        message.update(extra or {})
        for kind in ("document", "voice", "audio", "video"):
            if isinstance(sent := message.get(kind), dict) and "file_id" in sent:
                self.file_kinds[sent["file_id"]] = kind
        return {"message": message}

    def callback_update(self, *, chat_id: int, user_id: int, data: str) -> JSONDict:
        """Build (not queue) an Update for a press on an inline button under the bot's message."""
        last = next((m for m in reversed(self.sent) if m.chat_id == chat_id), None)
        if last is not None:
            message = self._message_json(last)
        else:
            message = {
                "message_id": self._next_message_id(),
                "from": self._bot_user(),
                "chat": self._chat(chat_id, "private", "Sari"),
                "date": int(time.time()),
                "text": "…",
            }
        return {
            "callback_query": {
                "id": f"{user_id}{self._next_message_id()}",
                "from": self._user(user_id, "Sari"),
                "message": message,
                "chat_instance": f"ci{chat_id}",
                "data": data,
            }
        }

    def fail_next(
        self,
        method: str,
        status: int,
        *,
        retry_after: int | None = None,
        description: str = "",
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Make the next call of `method` fail with this HTTP status (calls queue up).

        `migrate_to_chat_id` answers as Telegram does when a group became a supergroup.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        failure = _Failure(status, retry_after, description, migrate_to_chat_id)
        self._failures.setdefault(method, deque()).append(failure)

    def flaky(self, method: str, ratio: float, *, seed: int = 7) -> None:
        """Fail this share of calls of `method` with HTTP 500, at random (seeded)."""
        self._flaky[method] = (ratio, random.Random(seed))

    def hang(self, method: str, count: int, seconds: float) -> None:
        """Let the next `count` calls of `method` hang this long, then fail."""
        self._hangs.setdefault(method, []).extend([seconds] * count)

    def limit(
        self, *, per_second: float | None = None, per_chat_per_second: float | None = None
    ) -> None:
        """Answer sends over these rates with 429 (retry_after=1), as Telegram's flood control."""
        self._overall = _Window(per_second) if per_second is not None else None
        self._per_chat = _Window(per_chat_per_second) if per_chat_per_second is not None else None
        self._overall_times.clear()
        self._chat_times.clear()

    async def wait_for_sent(self, count: int, timeout: float = 5.0) -> list[SentMessage]:  # noqa: ASYNC109
        """Wait until at least `count` messages were sent; return all sent so far."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.sent) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                got = [(m.chat_id, m.text) for m in self.sent]
                raise TimeoutError(f"expected {count} sent messages within {timeout}s, got {got}")
            await _wait(self._sent_waiters, remaining)
        return list(self.sent)

    # -- HTTP -----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(_error_body(401, "Unauthorized"), status=401)
        name = request.match_info["method"]
        params = _normalise(await self._read_params(request))
        self.calls.append((name, params))
        try:
            hangs = self._hangs.get(name)
            if hangs:
                await asyncio.sleep(hangs.pop(0))  # the client gives up first; nothing is done
                raise _ApiError(500, "Internal Server Error")
            flaky = self._flaky.get(name)
            if flaky is not None and flaky[1].random() < flaky[0]:
                raise _ApiError(500, "Internal Server Error")
            failures = self._failures.get(name)
            if failures:
                self._raise_failure(failures.popleft())
            handler = self._methods.get(name)
            if handler is None:
                raise _ApiError(404, "Not Found: method not found")
            result = await handler(name, params)
        except _ApiError as error:
            body = _error_body(error.status, error.description, error.parameters)
            return web.json_response(body, status=error.status)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(_error_body(401, "Unauthorized"), status=401)
        file_id = request.match_info["path"].removeprefix("photos/").removesuffix(".jpg")
        if file_id not in self.files:
            return web.json_response(_error_body(404, "Not Found"), status=404)
        return web.Response(body=self.files[file_id], content_type="image/jpeg")

    async def _get_file(self, method: str, params: JSONDict) -> JSONDict:
        file_id = str(params.get("file_id", ""))
        if file_id not in self.files:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(self.files[file_id]),
            "file_path": f"photos/{file_id}.jpg",
        }

    @staticmethod
    async def _read_params(request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if not request.can_read_body:
            return raw
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                raw.update(body)
        else:
            # PTB (httpx) posts url-encoded forms, or multipart when uploading a file.
            raw.update(await request.post())
        return raw

    @staticmethod
    def _raise_failure(failure: _Failure) -> None:
        if failure.status == 429:
            description = (
                failure.description or f"Too Many Requests: retry after {failure.retry_after}"
            )
        else:
            description = failure.description or DEFAULT_DESCRIPTIONS.get(
                failure.status, HTTPStatus(failure.status).phrase
            )
        parameters: JSONDict = {}
        if failure.retry_after:
            parameters["retry_after"] = failure.retry_after
        if failure.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = failure.migrate_to_chat_id
        raise _ApiError(failure.status, description, parameters or None)

    # -- methods --------------------------------------------------------------------------------

    async def _true(self, method: str, params: JSONDict) -> bool:
        return True

    async def _get_me(self, method: str, params: JSONDict) -> JSONDict:
        return self._bot_user() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _get_updates(self, method: str, params: JSONDict) -> list[JSONDict]:
        if self.webhook is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        allowed = params.get("allowed_updates") or []
        # Asking from `offset` confirms everything before it: Telegram forgets those.
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        wait = min(float(params.get("timeout") or 0), LONG_POLL_CAP)
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            ready = [u for u in self._updates if not allowed or any(k in u for k in allowed)]
            remaining = deadline - asyncio.get_running_loop().time()
            if ready or remaining <= 0 or self._runner is None:
                return ready[:limit]
            await _wait(self._update_waiters, remaining)

    async def _send(self, method: str, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        if chat_id in self.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        self._check_rate(chat_id)
        param = FILE_PARAMS.get(method)
        carried = str(params.get(param) or "") if param else ""
        if param and not carried:
            raise _ApiError(400, f"Bad Request: there is no {param} in the request")
        known = self.file_kinds.get(carried, param)
        if param and known != param:
            raise _ApiError(400, f"Bad Request: can't use file of type {known} as {param}")
        photo = carried if method == "sendPhoto" else None
        text = params.get("caption" if param else "text") or ""
        if method == "sendMessage" and not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        markup = params.get("reply_markup")
        message = SentMessage(
            method=method,
            chat_id=chat_id,
            text=str(text),
            photo=photo or None,
            reply_markup=markup if isinstance(markup, dict) else None,
            parse_mode=params.get("parse_mode"),
            at=time.monotonic(),
            message_id=self._next_message_id(),
            file=carried if param and method != "sendPhoto" else None,
        )
        self.sent.append(message)
        _wake(self._sent_waiters)
        return self._message_json(message)

    async def _edit(self, method: str, params: JSONDict) -> JSONDict | bool:
        if "inline_message_id" in params:
            return True
        chat_id = self._chat_id(params)
        message: JSONDict = {
            "message_id": int(params.get("message_id") or 0),
            "from": self._bot_user(),
            "chat": self._chat(chat_id, "private", "Sari"),
            "date": int(time.time()),
            "edit_date": int(time.time()),
            "text": str(params.get("text") or "…"),
        }
        if isinstance(params.get("reply_markup"), dict):
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _set_webhook(self, method: str, params: JSONDict) -> bool:
        if not params.get("url"):
            # Telegram treats an empty URL as deleteWebhook.
            self.webhook = None
            return True
        self.webhook = dict(params)
        return True

    async def _delete_webhook(self, method: str, params: JSONDict) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, method: str, params: JSONDict) -> JSONDict:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _set_my_commands(self, method: str, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        scope = params.get("scope")
        self.commands.append((commands, scope if isinstance(scope, dict) else None))
        return True

    # -- helpers --------------------------------------------------------------------------------

    def _check_rate(self, chat_id: int) -> None:
        now = time.monotonic()
        chat_times = self._chat_times.setdefault(chat_id, deque())
        over_all = self._overall is not None and self._overall.full(self._overall_times, now)
        over_chat = self._per_chat is not None and self._per_chat.full(chat_times, now)
        if over_all or over_chat:
            self.too_many += 1
            raise _ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        self._overall_times.append(now)
        chat_times.append(now)

    @staticmethod
    def _chat_id(params: JSONDict) -> int:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            # Usernames ("@channel") and missing ids: this fake knows only numeric chats.
            raise _ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _next_message_id(self) -> int:
        self._message_ids += 1
        return self._message_ids

    def _bot_user(self) -> JSONDict:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Kabar", "username": self.username}

    @staticmethod
    def _user(user_id: int, first_name: str) -> JSONDict:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "id"}

    @staticmethod
    def _chat(chat_id: int, chat_type: str, first_name: str) -> JSONDict:
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": first_name}
        return {"id": chat_id, "type": chat_type, "title": f"Group {chat_id}"}

    @staticmethod
    def _command_entities(text: str) -> list[JSONDict]:
        if not text.startswith("/"):
            return []
        command = text.split(maxsplit=1)[0]
        return [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]

    def _message_json(self, message: SentMessage) -> JSONDict:
        data: JSONDict = {
            "message_id": message.message_id,
            "from": self._bot_user(),
            "date": int(time.time()),
            "chat": {"id": message.chat_id, "type": "private"},
        }
        if message.method == "sendPhoto":
            file_id = message.photo or ""
            if file_id.startswith("upload:"):
                file_id = f"AgAC-fake-{message.message_id}"
            data["photo"] = [
                {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 1, "height": 1}
            ]
            if message.text:
                data["caption"] = message.text
        elif message.method in FILE_PARAMS:
            kind = FILE_PARAMS[message.method]
            file_id = message.file or ""
            if file_id.startswith("upload:"):
                file_id = f"BQAC-fake-{message.message_id}"
            data[kind] = {"file_id": file_id, "file_unique_id": f"u{file_id}"} | _SHAPES[kind]
            if message.text:
                data["caption"] = message.text
        else:
            data["text"] = message.text
        # Telegram gives back only inline keyboards; a reply keyboard (or its removal) stays
        # with the chat's input field and never appears in the Message.
        if message.reply_markup is not None and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        return data
