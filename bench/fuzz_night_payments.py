"""The fuzz properties of the suite for payments (BR Code decoder, webhook bodies, the webhooks
over HTTP) run long, for a night: ``python -m bench.fuzz_night_payments [examples]`` (default
20,000 each).

The suite runs them at a few hundred examples; this runs the same tests with
REGUA_FUZZ_EXAMPLES set, so a failure found here is replayed by the suite's own test (and
Hypothesis keeps the failing example in its database).
"""

from __future__ import annotations

import os
import subprocess
import sys

TESTS = ("tests/payments/test_fuzz.py", "tests/web/test_webhook_fuzz.py")


def main() -> int:
    examples = sys.argv[1] if len(sys.argv) > 1 else "20000"
    env = {**os.environ, "REGUA_FUZZ_EXAMPLES": examples}
    return subprocess.call([sys.executable, "-m", "pytest", "-q", *TESTS], env=env)


if __name__ == "__main__":
    raise SystemExit(main())
