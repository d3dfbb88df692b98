"""Test-wide configuration: the stack fixtures, and tier markers from the directory.

Tests under ``tests/integration`` are marked ``integration`` and those under
``tests/e2e`` are marked ``e2e`` automatically, so ``-m "not e2e"`` works
without decorating every test.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.fixtures.stack"]

_TIER_DIRS = {"integration": pytest.mark.integration, "e2e": pytest.mark.e2e}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with the tier its directory names."""
    for item in items:
        for part in item.path.parts:
            marker = _TIER_DIRS.get(part)
            if marker is not None:
                item.add_marker(marker)
