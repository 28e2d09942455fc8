"""The front-desk benchmark runs at a smoke size, and staff get what each message owes them."""

from __future__ import annotations

import pytest

from bench import frontdesk
from bench.common import backends


@pytest.mark.slow
async def test_every_proof_and_every_plea_reaches_staff() -> None:
    size = frontdesk.SIZES["smoke"]
    results = await frontdesk.measure(size)
    assert [r["backend"] for r in results] == backends()
    for r in results:
        for kind in ("proof", "handover"):
            assert r[kind]["samples"] == size.messages, (r["backend"], kind)
            assert r[kind]["right"] == size.messages, (r["backend"], kind)
