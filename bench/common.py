"""What every benchmark shares: the machine line, percentiles, peak RSS, databases, tables."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.storage import Database
from tests.support.database import close_database, open_database, postgres_url

ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    """One line naming what the figures were measured on."""
    cores = os.cpu_count() or 1
    return (
        f"{cores} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}"
    )


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which `share` (0..1) of the values fall (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    """The middle value (nan for none)."""
    return statistics.median(values) if values else float("nan")


def peak_rss_mb() -> float:
    """The most resident memory this process has held so far, in MiB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / (1024 * 1024)


def backends() -> list[str]:
    """SQLite always; PostgreSQL when its URL is set."""
    return ["sqlite", "postgresql"] if postgres_url() else ["sqlite"]


@asynccontextmanager
async def fresh_database(backend: str, folder: Path) -> AsyncIterator[Database]:
    """An empty database migrated to head, dropped afterwards (a PG schema of its own)."""
    try:
        db, schema = await open_database(backend, folder)
    except LookupError as exc:
        raise RuntimeError(str(exc)) from exc
    try:
        yield db
    finally:
        await close_database(db, schema)
        if schema is None:
            await asyncio.to_thread(_remove_sqlite, Path(str(db.url.database)))


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@dataclass
class Table:
    """A Markdown table that prints as it is, ready to paste into docs/benchmarks.md."""

    title: str
    columns: Sequence[str]
    rows: list[Sequence[object]] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append(cells)

    def render(self) -> str:
        cells = [[str(c) for c in self.columns]] + [[_cell(c) for c in row] for row in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]

        def line(row: Sequence[str]) -> str:
            return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        return "\n".join([f"### {self.title}", "", line(cells[0]), rule, *map(line, cells[1:])])

    def print(self) -> None:
        print(self.render(), end="\n\n", flush=True)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # nan
            return "–"
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def header(name: str) -> None:
    """Print the benchmark's name and the machine it runs on."""
    print(f"## {name}\n\n{machine()}\n", flush=True)


def run_from_command_line(
    name: str, doc: str | None, run: Callable[[str], Coroutine[Any, Any, list[Table]]]
) -> None:
    """Run one benchmark as a program: `--smoke` for tiny sizes; print its tables."""
    parser = argparse.ArgumentParser(description=(doc or name).splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny run, to check it works")
    size = "smoke" if parser.parse_args().smoke else "full"
    header(name)
    for table in asyncio.run(run(size)):
        table.print()


class Helper:
    """A Python module run in its own process (a fake platform, a load driver).

    The child prints one JSON line when it is ready (its ports, say); `ready` holds it. The
    child exits when its stdin closes, so a crashed benchmark never leaves it behind.
    """

    def __init__(self, module: str, *args: str) -> None:
        self.argv = [sys.executable, "-m", module, *args]
        self.process: asyncio.subprocess.Process | None = None
        self.ready: dict[str, Any] = {}

    async def __aenter__(self) -> Helper:
        self.process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        if not line:
            await self.process.wait()
            raise RuntimeError(f"{' '.join(self.argv[2:])} exited before it was ready")
        self.ready = json.loads(line)
        return self

    async def __aexit__(self, *exc: object) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


async def stdin_closed() -> None:
    """In a helper process: return when the parent closes our stdin (or dies)."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


def announce(**ready: Any) -> None:
    """In a helper process: tell the parent we are ready, with these facts."""
    print(json.dumps(ready), flush=True)
