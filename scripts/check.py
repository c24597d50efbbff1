"""Run the project's checks: ruff, mypy (strict, on src/circuits), then pytest.

python scripts/check.py [pytest arguments]
"""

from __future__ import annotations

import subprocess
import sys


def main() -> int:
    steps = [
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "src",
            "tests",
            "scripts",
            "examples",
            "benchmarks",
        ],
        [sys.executable, "-m", "mypy"],
        [sys.executable, "-m", "pytest", *sys.argv[1:]],
    ]
    for cmd in steps:
        print("+", " ".join(cmd[2:]), flush=True)
        rc = subprocess.call(cmd)
        if rc:
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
