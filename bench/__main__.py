"""Run the benchmarks: `python -m bench [NAME ...] [--smoke]` (every one when none is named)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import time

from bench.common import header

NAMES = [
    "outbound",
    "saturation",
    "backlog",
    "visits",
    "inbound",
    "conversation",
    "frontdesk",
    "scale",
    "hostile",
]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(NAMES)}")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check they work")
    args = parser.parse_args()
    unknown = [name for name in args.names if name not in NAMES]
    if unknown:
        parser.error(f"no benchmark named {unknown[0]!r}; choose from {', '.join(NAMES)}")
    header("kabar benchmarks" + (" (smoke sizes)" if args.smoke else ""))
    for name in args.names or NAMES:
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        for table in asyncio.run(module.run("smoke" if args.smoke else "full")):
            table.print()
        print(f"({name}: {time.perf_counter() - started:.0f} s)\n", flush=True)


if __name__ == "__main__":
    main()
