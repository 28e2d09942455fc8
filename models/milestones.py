"""Courier milestones: what a checkpoint's words or a provider's status say about the parcel.

Couriers write their checkpoints in their own words, Indonesian or English, in capitals or
not; this module is the one table that reads them. Rules are tried top to bottom and the
first that matches wins, so the ones that must not be mistaken for others come first: a
failed delivery says "delivered" too ("not delivered"), a parcel received at a counter is
"received by" as a delivered one is. Texts that tell nothing about where the parcel is (a
pickup request, a label printed) map to no milestone.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Milestone(StrEnum):
    """Where a parcel is on its way to the customer's door."""

    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    AT_DESTINATION = "at_destination"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    FAILED_ATTEMPT = "failed_attempt"
    RETURNING = "returning"
    RETURNED = "returned"
    NOT_FOUND = "not_found"  # the courier does not know the resi (yet)


# The way forward, in order: a later one reached makes an earlier one old news.
FORWARD = (
    Milestone.PICKED_UP,
    Milestone.IN_TRANSIT,
    Milestone.AT_DESTINATION,
    Milestone.OUT_FOR_DELIVERY,
    Milestone.DELIVERED,
)
# Where tracking ends: nothing the courier says afterwards changes the parcel's fate.
FINAL = frozenset({Milestone.DELIVERED, Milestone.RETURNED})


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# The mapping table, first match wins (texts are lower-cased with single spaces); None is a
# text that tells nothing about where the parcel is.
RULES: tuple[tuple[Milestone | None, re.Pattern[str]], ...] = (
    (
        None,
        _any(
            r"permintaan pick ?up",
            r"pick ?up request",
            r"request (?:for )?pick ?up",
            r"\bmanifest",
            r"data (?:kiriman|pengiriman) (?:dibuat|diterima|diinput)",
            r"stt dibuat",
            r"shipment information received",
            r"(?:order|label) created",
        ),
    ),
    (
        Milestone.RETURNED,
        _any(
            r"returned to (?:the )?(?:shipper|sender|origin|seller)",
            r"return(?:ed)? delivered",
            r"retur(?:n)? (?:telah |sudah )?diterima",
            r"(?:telah|sudah) dikembalikan (?:ke|kepada) (?:pengirim|penjual|seller|toko)",
            r"(?:telah|sudah) (?:kembali|diterima) (?:ke|di|oleh) (?:pengirim|penjual|seller|toko)",
            r"diterima (?:kembali )?oleh pengirim",
            r"^returned$",
        ),
    ),
    (
        Milestone.RETURNING,
        _any(
            r"\bretur",
            r"\brts\b",
            r"dikembalikan",
            r"pengembalian",
            r"kembali ke (?:pengirim|asal)",
        ),
    ),
    (
        Milestone.FAILED_ATTEMPT,
        _any(
            r"gagal",
            r"(?:antar|kirim|dikirim|diantar) ulang",
            r"undeliver",
            r"not delivered",
            r"delivery (?:attempt )?(?:failed|unsuccessful)",
            r"failed",
            r"unsuccessful",
            r"not at home",
            r"\bcnee\b",
            r"consignee (?:not|unknown|moved|refused)",
            r"(?:bad|incomplete|wrong) address",
            r"alamat (?:tidak|kurang|salah|belum)",
            r"tidak (?:ada )?di ?tempat",
            r"rumah kosong",
            r"(?:tidak|tak) (?:dapat|bisa) dihubungi",
            r"unavailable",
            r"ditolak",
            r"refused",
            r"ditunda",
            r"pending delivery",
            r"bermasalah",
            r"\bproblem",
        ),
    ),
    (
        Milestone.DELIVERED,  # said so plainly: before "received by" at a counter is read
        _any(
            r"delivered to",
            r"selesai (?:di)?antar",
            r"successfully delivered",
            r"has been delivered",
            r"berhasil (?:di)?(?:antar|kirim|terima)",
            r"diambil (?:oleh )?penerima",
            r"diterima oleh \[?(?:ybs|yang bersangkutan|penerima)",
            r"^delivered$",
        ),
    ),
    (
        Milestone.PICKED_UP,
        _any(
            r"counter",
            r"\bloket",
            r"\bagen\b",
            r"\bagent\b",
            r"\bgerai",
            r"drop ?point",
            r"pick ?(?:ed )?up",
            r"dipick ?up",
            r"dijemput",
            r"penjemputan",
            r"(?:sudah|telah) diambil",
            r"diambil (?:oleh )?kurir",
            r"diterima oleh \[?(?:kurir|sprinter|agen|petugas|courier)",
            r"shipment received by",
            r"\bposting\b",
            r"received at origin",
        ),
    ),
    (
        Milestone.DELIVERED,
        _any(
            r"diterima oleh",
            r"(?:telah|sudah) diterima(?! (?:di|oleh (?:kurir|agen)))",
            r"paket diterima(?! di)",
            r"delivered",
            r"received by",
            r"\bpod\b",
        ),
    ),
    (
        Milestone.OUT_FOR_DELIVERY,
        _any(
            r"with delivery courier",
            r"out for delivery",
            r"(?:on|in) vehicle for delivery",
            r"\bon delivery",
            r"diantar",
            r"\bantar\b",
            r"pengantaran",
            r"(?:akan|sedang) dikirim(?:kan)? (?:ke|menuju) alamat",
            r"(?:ke|menuju) alamat (?:penerima|tujuan|anda)",
            r"\bdibawa\b",
            r"kurir (?:sedang )?menuju",
            r"delivery process",
            r"courier (?:is )?on (?:the|its) way",
        ),
    ),
    (
        Milestone.AT_DESTINATION,
        _any(
            r"inbound",
            r"(?:kota|hub|gudang|cabang|kantor) tujuan",
            r"(?:arrived|received|tiba|sampai) (?:at|di) (?:the )?(?:destination|tujuan)",
            r"destination (?:city|hub|facility|station|branch)",
            r"at destination",
            r"delivery (?:center|centre|hub)",
        ),
    ),
    (
        Milestone.IN_TRANSIT,
        _any(
            r"transit",
            r"depart",
            r"berangkat",
            r"forward",
            r"process",
            r"proses",
            r"sorting",
            r"sortir",
            r"gateway",
            r"\bhub\b",
            r"warehouse",
            r"gudang",
            r"dikirim(?:kan)? (?:ke|menuju)",
            r"menuju",
            r"keluar dari",
            r"tiba di",
            r"sampai di",
            r"diterima di",
            r"arriv",
            r"on the way",
            r"perjalanan",
            r"being sent",
            r"sent to",
            r"received at",
            r"outbound",
            r"dispatch",
        ),
    ),
)

# An arrival somewhere: in the destination city, it is the parcel reaching it.
_ARRIVAL = _any(r"tiba di", r"sampai di", r"diterima di", r"arriv", r"received at")

# Providers' own words for a whole shipment, where they have them (BinderByte's summary).
STATUSES = {
    "delivered": Milestone.DELIVERED,
    "returned": Milestone.RETURNED,
    "return": Milestone.RETURNING,
    "retur": Milestone.RETURNING,
    "on return": Milestone.RETURNING,
    "on process": Milestone.IN_TRANSIT,
    "on transit": Milestone.IN_TRANSIT,
    "in transit": Milestone.IN_TRANSIT,
    "picked up": Milestone.PICKED_UP,
    "pickup": Milestone.PICKED_UP,
    "on delivery": Milestone.OUT_FOR_DELIVERY,
    "out for delivery": Milestone.OUT_FOR_DELIVERY,
    "failed": Milestone.FAILED_ATTEMPT,
    "undelivered": Milestone.FAILED_ATTEMPT,
}

_SPACES = re.compile(r"\s+")
_BRACKET = re.compile(r"\[([^\]]*)\]")
_RECEIVER = re.compile(
    r"(?:diterima oleh|delivered to|received by|diambil oleh)\s*:?\s*\[?\s*([^\]|(),;]+)", re.I
)
_NOBODY = frozenset({"", "ybs", "yang bersangkutan", "penerima", "pengirim", "-"})
_NOT_A_NAME = re.compile(r"^(?:kurir|courier|sprinter|agen|petugas|pengirim)\b", re.I)
_CITY_NOISE = re.compile(r"^(?:kota|kab\.?|kabupaten|city of)\s+", re.I)


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text.strip().lower())


def milestone_of(text: str, destination: str = "") -> Milestone | None:
    """The milestone a checkpoint's words reach; None when they tell nothing of where it is.

    An arrival in the `destination` city is the parcel reaching it.
    """
    words = _clean(text)
    for milestone, pattern in RULES:
        if pattern.search(words):
            if milestone is Milestone.IN_TRANSIT and _ARRIVAL.search(words):
                city = city_of(destination).lower()
                if city and city in words:
                    return Milestone.AT_DESTINATION
            return milestone
    return None


def status_milestone(status: str) -> Milestone | None:
    """The milestone a provider's status for the whole shipment says, if any."""
    words = _clean(status)
    return STATUSES.get(words) or (milestone_of(words) if words else None)


def receiver_in(text: str) -> str | None:
    """The person a delivered checkpoint names as the receiver (`[BUDI | …]` → `BUDI`)."""
    found = _RECEIVER.search(text)
    if found is None:
        return None
    name = found[1].split(" - ")[0].strip(" .:-")
    if name.lower() in _NOBODY or _NOT_A_NAME.match(name):
        return None
    return name[:80]


def place_in(text: str) -> str:
    """The place a checkpoint names in brackets (`[BANDUNG , HUB CIBIRU]` → `Bandung`)."""
    for inside in _BRACKET.findall(text):
        place = inside.split("|")[-1].split(",")[0].replace("_", " ").strip()
        if place:
            return pretty_place(place)
    return ""


def city_of(destination: str) -> str:
    """The city of a provider's destination (`KOTA BANDUNG, JAWA BARAT` → `Bandung`)."""
    city = _CITY_NOISE.sub("", destination.split(",")[0].strip())
    return pretty_place(city)


def pretty_place(place: str) -> str:
    """A place as a person writes it: `BANDUNG` → `Bandung`; mixed case is kept."""
    place = " ".join(place.split())
    return place.title() if place.isupper() else place
