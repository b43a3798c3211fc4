"""Wall time and request count of a full conformance run, by injected latency and worker count.

    python -m benchmarks.run [--latencies 0,20,100] [--workers 0,4] [--repeat 3] [--areas]
    (from the project root)

Each run starts a fresh reference deployment with the given per-request latency, runs the whole
suite against it (no rate limit), and reads the number of HTTP requests the deployment served.
The lower bound of a run is requests x latency / workers: the time the round trips alone take.
A shared 2-core machine is noisy, so each cell is run --repeat times and the median is shown,
with the spread of wall times beside it.

"fixed s" is the median wall time of the same run with every test deselected: starting the
processes (each xdist worker imports pytest, schemathesis and hypothesis and collects the suite),
the session-start check, one token per worker, the run-end sweep and the exit. "tests ratio"
divides what remains by the bound: how close the tests themselves come to it.

--areas adds one serial run per suite module at 0 ms latency and prints the requests each area
sends; each such run also pays the session start (the session-start check and the run-end sweep).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from ghippo_conformance import paths
from ghippo_reference.server import start
from selftest.suite_process import run_suite

NO_TEST = "no_test_is_named_this"  # a -k expression that deselects every test


def run_once(latency_ms: int, workers: int, *selection: str) -> tuple[float, int, int]:
    with start(latency_s=latency_ms / 1000) as reference:
        parallel = ["-n", str(workers)] if workers else []
        started = time.monotonic()
        run = run_suite(reference.base_url, "dce5-aksk", reference.credentials, *parallel, *selection)
        return time.monotonic() - started, reference.request_count, run.exit_code


def print_cells(latencies: list[int], worker_counts: list[int], repeat: int) -> None:
    print(
        f"{'latency':>8} {'workers':>8} {'wall s':>8} {'spread':>11} {'requests':>9} {'bound s':>8} "
        f"{'ratio':>6} {'fixed s':>8} {'tests ratio':>11}  exit"
    )
    for latency_ms in latencies:
        for workers in worker_counts:
            runs = [run_once(latency_ms, workers) for _ in range(repeat)]
            fixed = statistics.median(run_once(latency_ms, workers, "-k", NO_TEST)[0] for _ in range(repeat))
            wall = statistics.median(r[0] for r in runs)
            requests = round(statistics.median(r[1] for r in runs))
            exits = ",".join(sorted({str(r[2]) for r in runs}))
            spread = f"{min(r[0] for r in runs):.1f}-{max(r[0] for r in runs):.1f}"
            bound = requests * latency_ms / 1000 / max(workers, 1)
            ratio, tests_ratio = (f"{wall / bound:.2f}", f"{(wall - fixed) / bound:.2f}") if bound else ("-", "-")
            print(
                f"{latency_ms:>6}ms {workers or 'serial':>8} {wall:>8.1f} {spread:>11} {requests:>9} "
                f"{bound:>8.1f} {ratio:>6} {fixed:>8.1f} {tests_ratio:>11}  {exits}",
                flush=True,
            )


def print_areas() -> None:
    modules = sorted(p.name for p in Path(paths.SUITES).glob("test_*.py"))
    print(f"\n{'area':>12} {'requests':>9}  (serial, 0 ms, each with its own session start)")
    for module in modules:
        _, requests, _ = run_once(0, 0, "-k", module)
        print(f"{module.removeprefix('test_').removesuffix('.py'):>12} {requests:>9}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latencies", default="0,20,100", help="per-request latencies in ms")
    parser.add_argument("--workers", default="0,4", help="xdist worker counts; 0 means a serial run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell; the median is shown")
    parser.add_argument("--areas", action="store_true", help="also count the requests of each suite module")
    args = parser.parse_args()
    print_cells([int(v) for v in args.latencies.split(",")], [int(v) for v in args.workers.split(",")], args.repeat)
    if args.areas:
        print_areas()


if __name__ == "__main__":
    main()
