"""The conversation benchmark runs at a smoke size, and every question gets its own answer."""

from __future__ import annotations

import pytest

from bench import conversation
from bench.common import backends


@pytest.mark.slow
async def test_every_question_is_answered_right_on_every_backend() -> None:
    size = conversation.SIZES["smoke"]
    for backend in backends():
        result = await conversation.measure(size, backend)
        assert result["right"] == size.questions, backend
