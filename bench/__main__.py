"""Run every benchmark: ``python -m bench [--quick]``."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    names = sorted(
        m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not m.name.startswith("_")
    )
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        sys.stdout.write(f"\n=== bench.{name} ===\n")
        module.main(["--quick"] if quick else [])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
