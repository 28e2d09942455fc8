"""The inbound benchmark, small: both bots answer every update, kabar with the customer's data."""

from __future__ import annotations

import pytest

from bench.inbound import SIZES, run

pytestmark = pytest.mark.slow  # each runs a benchmark, small


async def test_both_bots_answer_every_update_and_kabar_answers_with_real_data() -> None:
    size = SIZES["smoke"]
    (table,) = await run("smoke")
    rows = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
    assert {row["bot"] for row in rows} == {"raw PTB echo", "kabar"}
    for row in rows:
        # Every update got exactly its reply, and each reply was the right one: the echo of
        # the question, or kabar's answer naming the asker's own order code or the product.
        assert row["replies"] == size.updates, row
        assert row["answered right"] == size.updates, row
