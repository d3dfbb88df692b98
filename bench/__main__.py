"""``python -m bench [NAME ...]``: run every ``bench/bench_*.py`` module's ``main()``.

A benchmark module prints its own figures; this runner only finds the modules
(all of them, or those named on the command line, with or without the
``bench_`` prefix), runs them one after another and exits non-zero if any
failed. ``main()`` may be a coroutine function.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
import time
import traceback
from pathlib import Path


def discover() -> list[str]:
    """Names of the benchmark modules in this package, sorted."""
    return sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))


def run(name: str) -> bool:
    """Import ``bench.<name>`` and call its ``main()``; False if it raised."""
    print(f"== {name}", flush=True)
    started = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.{name}")
        result = module.main()
        if inspect.iscoroutine(result):
            asyncio.run(result)
    except Exception:
        traceback.print_exc()
        print(f"== {name}: FAILED after {time.perf_counter() - started:.1f}s", flush=True)
        return False
    print(f"== {name}: done in {time.perf_counter() - started:.1f}s", flush=True)
    return True


def main(argv: list[str]) -> int:
    """Run the benchmarks named in ``argv`` (all when empty)."""
    available = discover()
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in argv] or available
    unknown = [n for n in wanted if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(available)}")
        return 2
    if not wanted:
        print("no benchmarks yet (add bench/bench_<name>.py with a main())")
        return 0
    failed = [n for n in wanted if not run(n)]
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
