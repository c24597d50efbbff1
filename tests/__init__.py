"""The test-suite (a package, so ``tests.strategies`` is importable)."""
