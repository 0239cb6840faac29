"""What the three pytest plugins (captures, consumers, receivers) share.

Each plugin adds its own test items after collection, under a collector that collects
nothing itself, and fails them with a report that is the whole message (no traceback of
our own code, which would only hide the finding).
"""

from __future__ import annotations

from typing import Any

import pytest


class GeneratedCollector(pytest.Collector):
    """A parent for items the plugin creates directly (a capture, a consumer, a receiver)."""

    def collect(self) -> list[pytest.Item]:  # pragma: no cover - items are added directly
        return []


class ReportedFailure(Exception):
    """An item's failure whose text is the report to show."""


class ReportingItem(pytest.Item):
    """An item that shows a :class:`ReportedFailure` as its bare text."""

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ReportedFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))


def skip_project_tests(config: pytest.Config, targets_given: bool) -> bool | None:
    """For ``pytest_ignore_collect``: when a plugin's target was given on the command line
    and no test paths were, run only the plugin's items, not the project's own tests, so
    ``pytest --telephony-… X`` works in any folder (with or without a conftest)."""
    if targets_given and config.args_source != pytest.Config.ArgsSource.ARGS:
        return True
    return None
