"""The visits benchmark at its smoke size: every question of every batch is stored."""

from __future__ import annotations

from pathlib import Path

from bench import visits


async def test_visits_log_every_question_of_every_batch(tmp_path: Path) -> None:
    result = await visits.measure("sqlite", 3, 5, tmp_path)

    # Five timed batches and the warm-up's one, three questions each, two log rows a question.
    assert result["logged"] == (5 + 1) * 3 * 2
    assert result["cpu_ms"] > 0 and result["wall_ms"] > 0
