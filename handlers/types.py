"""What the conversation takes in and gives back, the same for every channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from models.enums import Channel, Language


class Role(StrEnum):
    """Who is writing, as far as kabar's powers go."""

    STAFF = "staff"
    RESELLER = "reseller"
    CUSTOMER = "customer"  # a chat linked to at least one customer's orders
    UNKNOWN = "unknown"  # not linked yet: can link, ask stock, get help


@dataclass(frozen=True)
class SharedContact:
    """A phone number shared in chat, with the platform user it belongs to (if known)."""

    phone: str
    user_id: str | None = None


@dataclass(frozen=True)
class Attachment:
    """Something sent besides text and photos: a document, voice note, video or location."""

    kind: str  # document, voice, audio, video, location, sticker
    ref: str  # the channel's reference to it (a location: "latitude,longitude")

    @property
    def sendable(self) -> bool:
        """Whether a channel can pass it on as a file (a place or a sticker it cannot)."""
        return self.kind in FILE_KINDS


# What a channel can send on as a file, beside photos: staff must be able to open what a
# customer sent (a PDF transfer proof, a voice note), not only read that something came.
FILE_KINDS = frozenset({"document", "voice", "audio", "video"})


@dataclass(frozen=True)
class Incoming:
    """One message from a person, as every channel adapter hands it over."""

    channel: Channel
    chat: str  # the chat's address: Telegram chat id, WhatsApp number, console name
    sender: str  # Telegram user id, or the sender's phone number (E.164)
    name: str = ""
    text: str = ""
    contact: SharedContact | None = None
    photo: str | None = None  # the channel's reference to an attached photo
    phone_verified: bool = False  # WhatsApp: the platform vouches that `sender` is this number
    group: bool = False  # written in a group chat, not a private one
    # The platform's unique id of this message (WhatsApp MessageSid): a webhook delivered twice
    # is answered once. None where the platform never redelivers.
    message_id: str | None = None
    attachment: Attachment | None = None
    reply_to: str | None = None  # the platform's id of the message this one answers (Telegram)
    provider_id: str | None = None  # the platform's id of this message, kept in the chat log

    @property
    def media(self) -> tuple[str, str] | None:
        """(kind, reference) of what came with the text, if anything did."""
        return _media(self.photo, self.attachment)


@dataclass(frozen=True)
class Choice:
    """One option offered with a reply; choosing it sends `command` as if typed."""

    label: str
    command: str


@dataclass(frozen=True)
class Reply:
    """What to send back: text, choices to pick from, a photo or a file, a share-phone button."""

    text: str
    choices: tuple[Choice, ...] = field(default=())
    photo: str | None = None
    file: Attachment | None = None  # a document, voice note, audio or video; not with a photo
    contact_button: str = ""  # label of a "share my phone number" button, where the channel has one
    lang: Language | None = None  # the language it is written in (for a channel's own words)
    # No menu shown before it answers anything after it: it asks for typed words (how many,
    # a name), so a bare number next answers it; or it closes what a menu asked (which order
    # a transfer proof is for), so an order code typed later is a question again.
    clears_menu: bool = False
    # The one order it shows (its status, its bill): kept in the chat log, so that a next
    # "kok lama ya" or "sudah transfer" means this order (`views.order_in_focus`).
    order_id: int | None = None

    @property
    def media(self) -> tuple[str, str] | None:
        """(kind, reference) of the photo or file sent with the text, if any (as Incoming's)."""
        return _media(self.photo, self.file)


def _media(photo: str | None, other: Attachment | None) -> tuple[str, str] | None:
    """A message's media as the chat log keeps it: (kind, reference), the photo first."""
    if photo:
        return "photo", photo
    if other is not None:
        return other.kind, other.ref
    return None
