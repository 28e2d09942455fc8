"""A customer's draft order's products: those chosen, and the one being chosen.

The draft keeps them in its data: `lines` the products chosen ([sku, qty], one line a
product), `sku` and `qty` the one being chosen (the last, which a change of mind changes),
and `then` the products named at once ("kaos hitam L 2 sama tote 1") that wait their turn.
What to ask or answer is handlers/drafts.py's; this module only reads and writes them.
"""

from __future__ import annotations

import re

from handlers.context import Context
from handlers.forms import pieces
from handlers.intents import classify, product_words
from handlers.ordering import MAX_QTY
from models.catalog import Product
from models.chat_orders import OrderDraft, products_by_sku
from models.search import find_products

MAX_LINES = 20  # products in one order placed in chat


async def chosen(ctx: Context, draft: OrderDraft) -> list[tuple[Product, int]]:
    """The draft's products and how many of each, in the order chosen; one chosen twice is
    one line."""
    wanted: dict[str, int] = {}
    for sku, qty in [*(draft.data.get("lines") or []), [draft.data["sku"], draft.data["qty"]]]:
        wanted[sku] = min(wanted.get(sku, 0) + int(qty), MAX_QTY)
    products = await products_by_sku(ctx.session, list(wanted))
    return [(products[sku], qty) for sku, qty in wanted.items() if sku in products]


def keep(draft: OrderDraft, rows: list[tuple[Product, int]]) -> None:
    """Write the draft's products back: the last one is the one being chosen."""
    *lines, (last, qty) = [[product.sku, count] for product, count in rows]
    kept = {k: v for k, v in draft.data.items() if k not in ("sku", "qty", "query", "lines")}
    draft.data = {**kept, "sku": last, "qty": qty, **({"lines": lines} if lines else {})}


def set_aside(draft: OrderDraft) -> bool:
    """Keep the product being chosen among the lines, to choose another; False, with those
    waiting their turn dropped, when the order has no room for one more."""
    sku, qty = draft.data["sku"], int(draft.data["qty"])
    lines = [
        [chosen_sku, min(count + qty, MAX_QTY) if chosen_sku == sku else count]
        for chosen_sku, count in draft.data.get("lines") or []
    ]
    if not any(chosen_sku == sku for chosen_sku, _ in lines):
        lines.append([sku, qty])
    if len(lines) >= MAX_LINES:
        draft.data = {key: value for key, value in draft.data.items() if key != "then"}
        return False
    kept = {k: v for k, v in draft.data.items() if k not in ("sku", "qty", "query")}
    draft.data = {**kept, "lines": lines}
    return True


def take_back(draft: OrderDraft) -> None:
    """No other product after all: the last one kept is the one being chosen again."""
    *lines, (sku, qty) = draft.data["lines"]
    kept = {k: v for k, v in draft.data.items() if k not in ("sku", "qty", "query", "lines")}
    draft.data = {**kept, "sku": sku, "qty": qty, **({"lines": lines} if lines else {})}


def next_named(draft: OrderDraft) -> str | None:
    """The next of the products named at once, taken from those waiting; None when none is."""
    then = draft.data.get("then")
    if not then:
        return None
    draft.data = {key: value for key, value in draft.data.items() if key != "then"}
    if then[1:]:
        draft.data = {**draft.data, "then": then[1:]}
    return str(then[0])


async def take_first(ctx: Context, draft: OrderDraft, words: str) -> str:
    """The first of the products a message names one after another ("kaos hitam L 2 sama
    tote 1"); the draft keeps the others to add once it is chosen. The message as it is when
    it names one product, or when what follows names nothing the shop sells ("L sama kayak
    kemarin")."""
    first, *rest = pieces(words)
    if not all([await sold(ctx, piece) for piece in rest]):
        return words
    if rest:
        draft.data = {**draft.data, "then": [*rest, *(draft.data.get("then") or [])]}
    return first


async def sold(ctx: Context, words: str) -> bool:
    """Whether words name something the shop sells, one product or several."""
    found = await find_products(ctx.session, _query(words), limit=5, cache=ctx.catalog)
    return bool(found.products) and not found.missing


async def the_one_chosen(ctx: Context, draft: OrderDraft, words: str) -> Product | None:
    """The product being chosen, when the words name it and nothing else."""
    found = await find_products(ctx.session, _query(words), limit=5, cache=ctx.catalog)
    if found.missing or [p.sku for p in found.products] != [draft.data["sku"]]:
        return None
    return found.products[0]


async def one_of(
    ctx: Context, draft: OrderDraft, words: str
) -> tuple[Product, list[tuple[Product, int]]] | None:
    """The one of the draft's products the words name ("totenya": the tote), with them all;
    None when they name none of them, or several."""
    rows = await chosen(ctx, draft)
    skus = [product.sku for product, _ in rows]
    found = await find_products(ctx.session, _query(words), limit=5, cache=ctx.catalog, among=skus)
    if found.missing or len(found.products) != 1:
        return None
    return found.products[0], rows


_A_COUNT = re.compile(r"(?<![\w-])(\d{1,3})(?![\w-])")


def count_named(said: str) -> tuple[int, str] | None:
    """The one count a message says and the words beside it ("kaosnya jadi 3": 3, the
    tee); None without exactly one count and a word."""
    counts = _A_COUNT.findall(said)
    if len(counts) != 1 or not 1 <= int(counts[0]) <= MAX_QTY:
        return None
    named = _A_COUNT.sub(" ", said)
    return (int(counts[0]), named) if any(ch.isalpha() for ch in _query(named)) else None


def _query(words: str) -> str:
    """The words that name a product ("totenya gak jadi" → "tote")."""
    return classify(words).query or product_words(words) or ""
