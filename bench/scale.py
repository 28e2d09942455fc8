"""Scale: shops of 10k, 100k and 1M orders on SQLite, and on PostgreSQL when it is configured.

Each backend and size runs in a fresh process (bench/scale_probe.py) that builds its database,
answers /status, /pesanan and /stok through the real conversation, moves the newest paid orders
with one bulk /tahap, imports an orders CSV, and reports the most memory it held.

    python -m bench.scale            # 10k, 100k, 1M orders (long: the 1M shop takes minutes)
    python -m bench.scale --smoke    # one small shop, in seconds
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from dataclasses import asdict, dataclass
from typing import Any

from bench.common import ROOT, Table, backends, header

log = logging.getLogger("bench.scale")

# What the issue asks for.
STATUS_P99_MS = 5.0
FLAT_RATIO = 1.5  # /status p99 at the largest size within this factor of the smallest's
STOCK_P99_MS = 20.0
RSS_MB = 150.0
BULK_S = 1.0
IMPORT_ROWS_PER_S = 20_000.0


@dataclass(frozen=True)
class Spec:
    """One shop size and how much to ask of it."""

    orders: int
    skus: int = 10_000
    bulk: int = 1_000  # paid orders one /tahap moves to packed
    samples: int = 500  # timed messages per command
    warmup: int = 50
    import_rows: int = 20_000


SIZES = {
    "full": (Spec(10_000), Spec(100_000), Spec(1_000_000)),
    "smoke": (Spec(1_000, skus=200, bulk=100, samples=20, warmup=5, import_rows=200),),
}


async def probe(backend: str, spec: Spec) -> dict[str, Any]:
    """Measure one backend and size in a process of its own; return what it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.scale_probe",
        backend,
        json.dumps(asdict(spec)),
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    out, _ = await process.communicate()
    lines = out.decode().strip().splitlines()
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"scale probe {backend} {spec.orders} failed ({process.returncode})")
    log.info("%s, %s orders: %s", backend, spec.orders, lines[-1])  # kept if a later size fails
    result: dict[str, Any] = json.loads(lines[-1])
    return result


async def measure(size: str) -> list[dict[str, Any]]:
    """Every backend at every size of this run, one process after another."""
    return [await probe(backend, spec) for backend in backends() for spec in SIZES[size]]


async def run(size: str) -> list[Table]:
    """Measure and tabulate: latencies, bulk/import/memory, and the targets met or missed."""
    return tables(await measure(size))


def _answered(result: dict[str, Any]) -> str:
    parts = (result[k] for k in ("status", "pesanan", "stock"))
    return " / ".join(f"{part['answered']}/{part['samples']}" for part in parts)


def tables(results: list[dict[str, Any]]) -> list[Table]:
    """The three tables of the benchmark from the probes' results."""
    latency = Table(
        "Scale: latency through the conversation (ms)",
        [
            "backend",
            "orders",
            "/status p50",
            "/status p99",
            "/pesanan p50",
            "/pesanan p99",
            "/stok p50",
            "/stok p99",
            "answered (status / pesanan / stok)",
        ],
    )
    work = Table(
        "Scale: bulk /tahap, CSV import, memory",
        [
            "backend",
            "orders",
            "build s",
            "bulk orders",
            "bulk moved",
            "bulk s",
            "import rows",
            "import rows/s",
            "peak RSS MB before import",
            "peak RSS MB",
        ],
    )
    for r in results:
        latency.add(
            r["backend"],
            r["orders"],
            r["status"]["p50"],
            r["status"]["p99"],
            r["pesanan"]["p50"],
            r["pesanan"]["p99"],
            r["stock"]["p50"],
            r["stock"]["p99"],
            _answered(r),
        )
        work.add(
            r["backend"],
            r["orders"],
            r["build_s"],
            r["bulk"]["codes"],
            r["bulk"]["packed"],
            r["bulk"]["seconds"],
            r["import"]["rows"],
            r["import"]["rows_per_s"],
            r["rss_serving_peak_mb"],
            r["rss_peak_mb"],
        )
    return [latency, work, targets(results)]


def targets(results: list[dict[str, Any]]) -> Table:
    """Each target with the worst figure measured against it."""
    table = Table("Scale: targets", ["target", "backend", "worst measured", "verdict"])
    for backend in dict.fromkeys(r["backend"] for r in results):
        mine = sorted((r for r in results if r["backend"] == backend), key=lambda r: r["orders"])
        status = max(r["status"]["p99"] for r in mine)
        flat = mine[-1]["status"]["p99"] / mine[0]["status"]["p99"]
        checks: list[tuple[str, str, bool]] = [
            (f"/status p99 <= {STATUS_P99_MS:g} ms", f"{status:.2f} ms", status <= STATUS_P99_MS),
            (
                f"/status p99 flat, {mine[0]['orders']:,} to {mine[-1]['orders']:,} orders",
                f"x{flat:.2f}",
                flat <= FLAT_RATIO,
            ),
        ]
        stock = max(r["stock"]["p99"] for r in mine)
        checks.append(
            (f"/stok p99 <= {STOCK_P99_MS:g} ms", f"{stock:.2f} ms", stock <= STOCK_P99_MS)
        )
        largest = f"{mine[-1]['orders']:,} orders"
        for what, key in (("before import", "rss_serving_peak_mb"), ("with import", "rss_peak_mb")):
            rss = mine[-1][key]
            checks.append(
                (f"peak RSS <= {RSS_MB:g} MB at {largest}, {what}", f"{rss:.0f} MB", rss <= RSS_MB)
            )
        bulk = max(r["bulk"]["seconds"] for r in mine)
        moved = all(r["bulk"]["packed"] == r["bulk"]["codes"] for r in mine)
        checks.append(
            (f"bulk /tahap <= {BULK_S:g} s, all moved", f"{bulk:.2f} s", bulk <= BULK_S and moved)
        )
        rate = min(r["import"]["rows_per_s"] for r in mine)
        checks.append(
            (
                f"import >= {IMPORT_ROWS_PER_S:,.0f} rows/s",
                f"{rate:,.0f} rows/s",
                rate >= IMPORT_ROWS_PER_S,
            )
        )
        for name, worst, ok in checks:
            table.add(name, backend, worst, "OK" if ok else "miss")
    return table


def main() -> None:
    """Print the benchmark's tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="one small shop, in seconds")
    size = "smoke" if parser.parse_args().smoke else "full"
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="  %(message)s")
    header(f"Scale ({size})")
    for table in asyncio.run(run(size)):
        table.print()


if __name__ == "__main__":
    main()
