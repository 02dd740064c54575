"""What every benchmark shares: argument parsing, percentiles, the JSON figure line."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small smoke size")
    return parser.parse_args(argv)


def percentiles(samples: Sequence[float], ps: Sequence[float] = (50, 99)) -> dict[float, float]:
    """Nearest-rank percentiles of ``samples`` (empty input gives NaN)."""
    if not samples:
        return dict.fromkeys(ps, math.nan)
    ordered = sorted(samples)
    out = {}
    for p in ps:
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        out[p] = ordered[rank - 1]
    return out


def emit(bench: str, metric: str, value: float, unit: str, n: int) -> None:
    """One JSON line per figure on stdout, as the conventions require."""
    line = {"bench": bench, "metric": metric, "value": round(float(value), 4), "unit": unit,
            "n": int(n)}
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def table(title: str, rows: Sequence[tuple[str, str]]) -> None:
    """A small human table: metric name and formatted value."""
    width = max((len(r[0]) for r in rows), default=10)
    sys.stdout.write(f"\n{title}\n{'-' * (width + 20)}\n")
    for name, value in rows:
        sys.stdout.write(f"{name:<{width}}  {value}\n")
    sys.stdout.flush()
