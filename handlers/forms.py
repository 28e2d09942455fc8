"""The order form shops ask for in chat ("format order"), read into its parts.

    Nama: Budi Santoso
    No HP/WA: 0812-3456-7890
    Alamat: Jl. Melati No 5, RT 02/RW 05
    Kec. Coblong, Bandung 40132
    Pesanan: Kaos Polos Hitam XL 2

Customers fill it in and send it back, resellers paste their buyer's, staff copy one from
another chat. Labels come in Indonesian or English, with or without "No.", bullets, `:` or
`=`; a line without a label goes on with the one above (an address over two lines, one
product a line). Separate "Warna", "Ukuran" and "Jumlah" lines add to the one product named.
Reading needs no database: the same text reads the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from handlers.intents import classify, product_words
from models.search import colour_of, size_of

# Each part of a form, and the words its label is known by. Checked in this order: "nama
# barang" is the product, "alamat penerima" the address, "jumlah pesanan" how many.
_LABELS: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (part, frozenset(words.split()))
    for part, words in (
        ("qty", "jumlah jml qty quantity kuantitas banyaknya pcs"),
        ("items", "pesanan order orderan produk product products barang item items artikel beli"
         " belanja"),
        ("address", "alamat address almt kirim dikirim ship"),
        ("address_part", "kecamatan kec kelurahan kel desa kota kabupaten kab provinsi prov pos"
         " kodepos zip postcode city district province rt rw"),
        ("phone", "hp wa whatsapp telp tlp telepon telpon phone handphone ponsel kontak contact"
         " mobile nohp nowa"),
        ("variant", "warna color colour ukuran size varian variant variasi motif model tipe type"),
        ("name", "nama name penerima recipient pemesan pembeli"),
        # Words for the shop: a gift wrap, a day to send, a courier. Kept with the order, the
        # courier's with its label ("Ekspedisi: JNE").
        ("note", "catatan note notes keterangan ket request permintaan"),
        ("courier", "ekspedisi kurir courier"),
    )
)  # fmt: skip
PARTS = ("name", "phone", "address", "items")  # what an order needs
# Words that answer an order in the making: go ahead, stop, or change what it says.
YES = {"ya", "iya", "y", "ok", "oke", "yes", "betul", "benar", "sip", "lanjut", "kirim"}
DROP = {"batal", "cancel", "batalkan", "gak jadi", "tidak jadi", "ga jadi"}
CHANGE = {"ubah", "ganti", "change", "tidak", "no", "bukan"}
# Labels of an order already placed: "Kode pesanan", "No. order", "Invoice", "Resi".
_ORDER_CODE = frozenset({"invoice", "inv", "resi", "awb"})
_NUMBER = frozenset({"no", "nomor", "nmr", "number", "kode", "code"})  # "Kode pos" is an address
_ORDER = frozenset({"pesanan", "order", "orderan"})
_LABEL = re.compile(r"^\s*(?:[-•*·>]+\s*|\d{1,2}[.)]\s+)?([^:=\n]{1,30}?)\s*[:=]\s*(.*)$")
_PLAIN = re.compile(r"[*_~]")
_LABEL_WORDS = 4  # "no hp / wa penerima": a label is short; a longer head is a sentence
# A form has a few parts at least: one labelled line ("Alamat: …") is a sentence with a colon.
_FEWEST_PARTS = 2


@dataclass(frozen=True)
class OrderForm:
    """What a filled-in order form says; an empty string where it says nothing."""

    name: str = ""
    phone: str = ""
    address: str = ""
    items: str = ""  # the products and how many, "," between them: as /pesananbaru takes them
    note: str = ""  # what the customer asks of the shop besides ("Catatan: bungkus kado")

    def missing(self) -> list[str]:
        """The parts an order needs that the form leaves out, in the order they are asked."""
        return [part for part in PARTS if not getattr(self, part)]


def read_form(text: str) -> OrderForm | None:
    """The order form a message is, or None when it is none."""
    if "\n" not in text.strip():
        return None
    found = _labelled_parts(text)
    parts = {part for part in found if part in PARTS}
    if len(parts) < _FEWEST_PARTS or not parts & {"address", "items"} or "code" in found:
        return None  # too little for an order, or about one placed (a complaint, a change)
    form = OrderForm(
        name=_joined(found.get("name"), " "),
        phone=_joined(found.get("phone"), " "),
        address=_joined([*found.get("address", []), *found.get("address_part", [])], ", "),
        items=_items(found),
        note=_joined(found.get("note"), "; "),
    )
    return form if form.phone else _number_within(form)


def _number_within(form: OrderForm) -> OrderForm:
    """The number written beside the name or in the address ("Penerima: Budi (0812…)"),
    when no line of its own gives it."""
    for part in ("name", "address"):
        said = getattr(form, part)
        if found := _PHONE.search(said):
            rest = (said[: found.start()] + said[found.end() :]).replace("()", "")
            kept = " ".join(rest.split()).strip(" ,.;:-/")
            return replace(form, phone=found.group(), **{part: kept})
    return form


def answer_to(text: str, part: str) -> str | None:
    """What a message answering one question says under that question's label ("Alamat:
    Jl. Melati 5 / Kota: Bandung" when the address was asked); None when it has no label."""
    found = _labelled_parts(text)
    values = [*found.get(part, []), *(found.get("address_part", []) if part == "address" else [])]
    return _joined(values, ", " if part == "address" else " ") or None


def _labelled_parts(text: str) -> dict[str, list[str]]:
    """Each labelled part of a message and what it says, line by line."""
    found: dict[str, list[str]] = {}
    current: str | None = None
    for raw in text.splitlines():
        line = _PLAIN.sub("", raw).strip()  # WhatsApp's *bold* and _italics_ say nothing here
        if not line:
            continue
        labelled = _labelled(line)
        if labelled is not None:
            current, value = labelled
            found.setdefault(current, [])
            if current == "courier":
                found["note"] = [*found.get("note", []), _unbulleted(line)]  # label and all
            elif value:
                found[current].append(value)
        elif current in ("address", "address_part", "items", "note"):
            found[current].append(_unbulleted(line))  # an address or a list over more lines
    return found


def _labelled(line: str) -> tuple[str, str] | None:
    """The part a line's label names ("other" for a label of something else: "Total",
    "Tanggal") and what follows it; None when the line has no label."""
    match = _LABEL.match(line)
    if match is None:
        return None
    words = re.sub(r"[^a-z]+", " ", match[1].lower()).split()
    if not words or len(words) > _LABEL_WORDS:
        return None
    if _ORDER_CODE.intersection(words) or (
        _NUMBER.intersection(words) and _ORDER.intersection(words)
    ):
        return "code", match[2].strip()  # "No. pesanan: INV-1001" is about an order placed
    for part, known in _LABELS:
        if known.intersection(words):
            return part, match[2].strip()
    return "other", match[2].strip()


def _unbulleted(line: str) -> str:
    return re.sub(r"^(?:[-•*·>]+\s*|\d{1,2}[.)]\s+)", "", line).strip()


def _joined(values: list[str] | None, between: str) -> str:
    return between.join(" ".join(v.split()) for v in values or () if v.strip())


def _items(found: dict[str, list[str]]) -> str:
    """The products, one a line or comma separated; a lone product takes the form's colour,
    size and count ("Produk: Kaos Polos", "Warna: Hitam", "Ukuran: XL", "Jumlah: 2")."""
    lines = [piece.strip() for value in found.get("items", []) for piece in value.split(",")]
    lines = [line for line in lines if line]
    extra = [*found.get("variant", []), *found.get("qty", [])]
    if extra and len(lines) <= 1:
        return " ".join([*lines, *extra])
    return ", ".join(lines)


# -- an order in one sentence ------------------------------------------------------------------

_PHONE = re.compile(r"(?<![\w+])(?:\+62|62|0)\s?8[\d .-]{6,15}\d\b")
# Where a sentence says whom it is for, and where to: "a.n Joko", "alamat Jl. Anggrek 3".
_NAMED = re.compile(r"\b(?:a\.?\s?n\.?|atas nama|nama(?:nya)?|penerima(?:nya)?)(?=[\s:])", re.I)
_WHERE = re.compile(r"\b(?:alamat(?:nya)?|almt|(?:di)?kirim(?:kan)? ke(?: alamat)?)(?=[\s:])", re.I)
_CALLED = re.compile(r"\b(?:no\.?\s?|nomor\s)?(?:hp|wa|telp|tlp|phone)\b[\s.:]*", re.I)
# What comes before the products, and after them whom the order is for ("untuk customer saya").
_OPENING = re.compile(
    r"^(?:(?:halo|hai|kak|kakak|min|admin|saya|aku|sy|mau|ingin|pengen|order|pesan|beli|ambil"
    r"|dong|ya|yang|tolong)\b[\s,.:]*)+",
    re.I,
)
_FOR_WHOM = re.compile(
    r"\s*\b(?:untuk|buat|utk|for)\s+(?:customer|pelanggan|pembeli|konsumen|buyer|teman|orang)"
    r"(?:\s+(?:saya|sy|ku|aku|my))?\b.*$",
    re.I,
)


def read_sentence(text: str) -> OrderForm | None:
    """An order written out in one message with the recipient's number: "mau order kaos
    hitam L 2 untuk customer saya a.n Joko 0813-2222-3333 alamat Jl. Anggrek 3 Malang", or
    "order tote 1 kirim ke Budi, 0812-3334-444, Jl. Mawar 2 Depok". None without a number
    and an address."""
    said = " ".join(text.split())
    phone = _PHONE.search(said)
    where = _WHERE.search(said)
    if phone is None or where is None:
        return None
    named = _NAMED.search(said)
    called = _CALLED.search(said, 0, phone.start())  # "no hp 0812…": the number's own label
    stops = (phone, where, named, called)
    items = said[: min(m.start() for m in stops if m is not None)]
    items = _FOR_WHOM.sub("", _OPENING.sub("", items.strip(" ,.;:")))
    name = _until(said, named.end(), stops) if named is not None else ""
    address = _until(said, where.end(), stops)
    if named is None and where.end() <= phone.start():
        # "kirim ke Budi, 0812…, Jl. Mawar 2": the name before the number, the address after
        after = said[phone.end() :].strip(" ,.;:")
        if address and after:
            name, address = address, _until(said, phone.end(), stops)
    return OrderForm(name=name, phone=phone.group(), address=address, items=items.strip(" ,.;:"))


def _until(said: str, start: int, marks: tuple[re.Match[str] | None, ...]) -> str:
    """The words from `start` up to the next mark after it (or the end)."""
    ends = [m.start() for m in marks if m is not None and m.start() >= start]
    return said[start : min(ends, default=len(said))].strip(" ,.;:")


# ------------------------------------------------------------------------------- products


def names_a_product(words: str) -> bool:
    """Whether a wish to buy names what ("mau order tote 1", not "mau beli 2")."""
    named = classify(words).query or product_words(words) or ""
    return any(ch.isalpha() for ch in named)


# Between products named one after another: "kaos hitam L 2 sama tote 1", "a tee and a tote".
BETWEEN_PRODUCTS = re.compile(r"\s*(?:[,;&+]|\b(?:dan|sama|serta|and|plus)\b)\s*", re.IGNORECASE)


def pieces(words: str) -> list[str]:
    """The products a message names one after another, each in words of its own; the
    message alone when it names one. Another size or colour of the first is the first in
    that size or colour ("kaos hitam L 2 dan XL 1"); a size or colour the first leaves open
    is the first's own ("kaos hitam dan ukuran L" is one product)."""
    each = _EACH.search(words)  # "kaos hitam L dan XL masing-masing 1": a count for all
    parts = [part for part in BETWEEN_PRODUCTS.split(_EACH.sub(" ", words)) if part.strip()]
    if len(parts) < 2 or not names_a_product(parts[0]):
        return [words]
    named = [parts[0]]
    for part in parts[1:]:
        other = part if _names_a_kind(part) else _another_variant(parts[0], part)
        if other is None:
            return [words]
        named.append(other)
    if each is not None:
        named = [" ".join(f"{part} {each[1]}".split()) for part in named]
    return named


_EACH = re.compile(r"\b(?:masing-masing|masing2|masing|each|semuanya)\s+(\d{1,3})\b", re.I)


def _another_variant(first: str, part: str) -> str | None:
    """The first product in the size or colour a part names ("XL 1" after "kaos hitam L 2":
    "kaos hitam xl 1"); None when the first names no size, or no colour, to replace."""
    had, said = _query_words(first), _query_words(part)
    sizes, colours = [w for w in said if size_of(w)], [w for w in said if colour_of(w)]
    if not (sizes or colours):
        return None
    if (sizes and not any(size_of(w) for w in had)) or (
        colours and not any(colour_of(w) for w in had)
    ):
        return None  # what the first leaves open: it is the first's own
    base = [
        w
        for w in had
        if not w.isdigit() and not (sizes and size_of(w)) and not (colours and colour_of(w))
    ]
    return " ".join([*base, *sizes, *colours, *(w for w in said if w.isdigit())])


def _query_words(words: str) -> list[str]:
    return (classify(words).query or product_words(words) or "").split()


def _names_a_kind(part: str) -> bool:
    """Whether words name a product, not only a size, a colour or how many."""
    named = _query_words(part)
    return any(
        any(ch.isalpha() for ch in word)
        and not size_of(word)
        and not colour_of(word)
        and word not in _SIZE_WORDS
        for word in named
    )


# Words beside a size or colour that name no product: "ukuran L", "XL masing-masing 1".
_SIZE_WORDS = frozenset(
    {"ukuran", "size", "warna", "color", "colour", "yang", "yg", "masing-masing", "masing", "each"}
)
