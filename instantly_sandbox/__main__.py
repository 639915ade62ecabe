"""`python -m instantly_sandbox --port 8765 ...`: the same options as `ops-instantly sandbox`."""

from __future__ import annotations

import argparse

from . import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="instantly_sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--rate-per-second", type=float, default=100)
    parser.add_argument("--rate-per-minute", type=float, default=6000)
    parser.add_argument(
        "--rate-window", choices=("sliding", "fixed"), default="sliding", help="how the rate limit counts"
    )
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--state", default=None, help="JSON file: loaded at start if present, saved on exit")
    args = parser.parse_args()
    serve(
        port=args.port,
        host=args.host,
        latency_ms=args.latency_ms,
        rate_per_second=args.rate_per_second,
        rate_per_minute=args.rate_per_minute,
        rate_window=args.rate_window,
        fail_rate=args.fail_rate,
        seed=args.seed,
        state_file=args.state,
    )


if __name__ == "__main__":
    main()
