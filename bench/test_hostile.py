"""The hostile-clients benchmark, small: refusals come unread, slow clients are all cut off."""

from __future__ import annotations

import pytest

from bench.hostile import SIZES, run

pytestmark = pytest.mark.slow  # runs kabar and a fake Twilio, each in a process of its own


async def test_big_bodies_are_refused_and_every_slow_client_is_cut_off() -> None:
    size = SIZES["smoke"]
    big, slow = await run("smoke")
    answers = {row[0]: row[1] for row in big.rows}
    # Refused unread; closing on unread bytes may reset the connection before the 413 is read.
    assert answers["unsigned"] == "403" and answers["forged signature"] in ("413", "reset")
    (row,) = [dict(zip(slow.columns, cells, strict=True)) for cells in slow.rows]
    assert row["connected"] == size.clients and row["cut off"] == size.clients
    assert row["/healthz 200"] == size.health_checks and row["/healthz failed"] == 0
