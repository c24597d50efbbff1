"""Tests of ``circuits.core``."""
