"""Test-wide configuration: the stack fixtures, and tier markers from the directory.

Tests under ``tests/integration`` are marked ``integration`` and those under
``tests/e2e`` are marked ``e2e`` automatically, so ``-m "not e2e"`` works
without decorating every test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# Property tests check rules, not speed: a loaded machine (2 CPUs shared with the servers of
# the other tiers) must not fail them on hypothesis' 200 ms per-example deadline.
settings.register_profile("contacthub", deadline=None)
settings.load_profile("contacthub")

pytest_plugins = ["tests.fixtures.stack"]

_TESTS_DIR = Path(__file__).resolve().parent
_TIER_DIRS = {"integration": pytest.mark.integration, "e2e": pytest.mark.e2e}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with the tier its directory names."""
    for item in items:
        try:
            tier = item.path.resolve().relative_to(_TESTS_DIR).parts[0]
        except (ValueError, IndexError):
            continue
        marker = _TIER_DIRS.get(tier)
        if marker is not None:
            item.add_marker(marker)
