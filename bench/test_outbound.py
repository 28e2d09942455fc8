"""The outbound, saturation and backlog benchmarks, at smoke size: they run and measure what
they say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench import backlog, outbound, saturation
from bench.common import Table
from models.enums import Channel


@pytest.mark.slow
@pytest.mark.parametrize("kind", [Channel.TELEGRAM, Channel.WHATSAPP])
async def test_outbound_pushes_every_row_and_the_baseline_sends_the_same_texts(
    kind: Channel, tmp_path: Path
) -> None:
    result = await outbound.measure(kind, "sqlite", "smoke", tmp_path)
    chats, per_chat = outbound.SIZES["smoke"]
    assert result["pushes"] == chats * per_chat
    assert result["kabar_sent"] == result["raw_sent"] == result["pushes"]
    assert result["kabar_rate"] > 0 and result["raw_rate"] > 0


@pytest.mark.slow
async def test_saturation_delivers_everything_without_one_429(tmp_path: Path) -> None:
    result = await saturation.measure("smoke", tmp_path)
    assert result["sent"] == result["dispatcher_sent"] == result["pushes"]
    assert result["too_many"] == 0
    # Measured on the fake's clock: evenly paced sends never run above the limit.
    assert 0 < result["rate"] <= saturation.PER_SECOND


async def test_backlog_claims_the_limit_each_time_until_the_rows_run_out(tmp_path: Path) -> None:
    result = await backlog.measure("sqlite", 1_000, tmp_path)
    # 1,000 due, 512 a claim: the first two claims take them all, the rest find none left.
    assert result["taken"] == 1_000
    assert len(result["times"]) == backlog.CLAIMS


def test_every_benchmark_renders_a_markdown_table() -> None:
    table = Table("t", ["a", "b"])
    table.add(1234, 0.5)
    assert table.render().splitlines()[-1] == "| 1,234 | 0.50 |"


def test_make_bench_names_an_unknown_benchmark_in_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "outbond"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "no benchmark named 'outbond'; choose from outbound" in done.stderr
    assert "Traceback" not in done.stderr
