"""Wall time and request count of a full conformance run, by injected latency and worker count.

    python -m benchmarks.run [--latencies 0,20,100] [--workers 0,4]      (from the project root)

Each run starts a fresh reference deployment with the given per-request latency, runs the whole
suite against it (no rate limit), and reads the number of HTTP requests the deployment served.
The lower bound of a run is requests x latency / workers: the time the round trips alone take.
"""

from __future__ import annotations

import argparse
import time

from ghippo_conformance.suite_process import run_suite
from reference.server import start


def run_once(latency_ms: int, workers: int) -> tuple[float, int, int]:
    with start(latency_s=latency_ms / 1000) as reference:
        parallel = ["-n", str(workers)] if workers else []
        started = time.monotonic()
        run = run_suite(reference.base_url, "dce5-aksk", reference.credentials, *parallel)
        return time.monotonic() - started, reference.request_count, run.exit_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latencies", default="0,20,100", help="per-request latencies in ms")
    parser.add_argument("--workers", default="0,4", help="xdist worker counts; 0 means a serial run")
    args = parser.parse_args()
    print(f"{'latency':>8} {'workers':>8} {'wall s':>8} {'requests':>9} {'bound s':>8} {'ratio':>6}  exit")
    for latency_ms in (int(v) for v in args.latencies.split(",")):
        for workers in (int(v) for v in args.workers.split(",")):
            wall, requests, exit_code = run_once(latency_ms, workers)
            bound = requests * latency_ms / 1000 / max(workers, 1)
            ratio = f"{wall / bound:.2f}" if bound else "-"
            print(f"{latency_ms:>6}ms {workers or 'serial':>8} {wall:>8.1f} {requests:>9} {bound:>8.1f} {ratio:>6}  {exit_code}",
                  flush=True)


if __name__ == "__main__":
    main()
