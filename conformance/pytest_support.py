"""What the three pytest plugins (captures, consumers, receivers) share, written once.

Each plugin module declares its options (:class:`Option`, :func:`add_options`) and, when
its targets are given, registers a run object (a :class:`GeneratedItemsPlugin`) that holds
the run's state and answers the hooks: the report header, leaving the project's own tests
alone, and adding its items after collection, under a collector per target. An item fails
with a report that is the whole message (:class:`ReportedFailure`): no traceback of our own
code, which would only hide the finding.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import ReprEntryNative, ReprExceptionInfo, ReprFileLocation, ReprTraceback


@dataclass(frozen=True)
class Option:
    """One command-line option: ``--NAME``, with the keyword arguments of ``addoption``."""

    name: str
    help: str
    settings: dict[str, Any] = field(default_factory=dict)


def add_options(parser: pytest.Parser, group: str, title: str, options: Sequence[Option]) -> None:
    """Declare a plugin's options in a group of their own in ``pytest --help``."""
    declared = parser.getgroup(group, title)
    for option in options:
        declared.addoption(f"--{option.name}", help=option.help, **option.settings)


class GeneratedCollector(pytest.Collector):
    """A parent for items the plugin creates directly (a capture, a consumer, a receiver)."""

    def collect(self) -> list[pytest.Item]:  # pragma: no cover - items are added directly
        return []


class ReportedFailure(Exception):
    """An item's failure whose text is the report to show; its first line is the headline,
    and ``line`` (when known) the capture line that ``--tb=line`` points at."""

    def __init__(self, text: str, line: int | None = None) -> None:
        super().__init__(text)
        self.line = line


class ReportingItem(pytest.Item):
    """An item that shows a :class:`ReportedFailure` as its bare text."""

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ReportedFailure):
            path, line = self.reportinfo()[:2]
            at = excinfo.value.line if excinfo.value.line is not None else (line or 0) + 1
            return _report(str(excinfo.value), path, at)
        return str(super().repr_failure(excinfo, style=style))


def _report(text: str, path: os.PathLike[str] | str, line: int) -> ReprExceptionInfo:
    """``text`` as a failure whose short summary is its first line: a bare string would be
    repeated whole in "short test summary info" on CI (where pytest does not trim it); a
    traceback-shaped report also survives pytest-xdist's trip between processes."""
    headline = text.partition("\n")[0]
    shown = ReprTraceback([ReprEntryNative([text if text.endswith("\n") else text + "\n"])], None, "native")
    return ReprExceptionInfo(shown, ReprFileLocation(str(path), line, headline))


#: One target's items: ``(its name, [(item class, item name, keyword arguments), …])``; each
#: item is also given the run object, as ``run``.
TargetItems = tuple[str, list[tuple[type[pytest.Item], str, dict[str, Any]]]]


class GeneratedItemsPlugin:
    """The run object of a plugin whose targets were given: registered with pytest's plugin
    manager, it keeps the run's state and answers the hooks every plugin answers alike.

    Arguments:
        prefix: the first part of its items' node ids (``telephony-fuzz``).
        targets_given: its targets were named on the command line (not in a config file).
    """

    prefix = ""

    def __init__(self, targets_given: bool) -> None:
        self.targets_given = targets_given

    def header(self) -> str | None:
        """The line this run adds to pytest's report header."""
        return None

    def targets(self) -> Iterable[TargetItems]:
        """Each target and the items that check it."""
        return ()

    def pytest_report_header(self) -> str | None:
        return self.header()

    def pytest_ignore_collect(self, collection_path: Path, config: pytest.Config) -> bool | None:
        return skip_project_tests(config, self.targets_given)

    @pytest.hookimpl(tryfirst=True)  # before -k/-m deselection, so those select our items too
    def pytest_collection_modifyitems(self, session: pytest.Session, items: list[pytest.Item]) -> None:
        for target, planned in self.targets():
            name = node_name(target)
            parent = GeneratedCollector.from_parent(session, name=name, nodeid=f"{self.prefix}::{name}")
            for item_class, item_name, kwargs in planned:
                items.append(item_class.from_parent(parent, name=item_name, run=self, **kwargs))


def node_name(target: str) -> str:
    """A target's name as a node id part: pytest reads ``[…]`` in a node id as parameters
    (and fails on ``calls[1].ndjson``), so brackets are percent-encoded, as in a URL."""
    return target.replace("[", "%5B").replace("]", "%5D")


def skip_project_tests(config: pytest.Config, targets_given: bool) -> bool | None:
    """For ``pytest_ignore_collect``: when a plugin's target was given on the command line
    and no test paths were, run only the plugin's items, not the project's own tests, so
    ``pytest --telephony-… X`` works in any folder (with or without a conftest)."""
    if targets_given and config.args_source != pytest.Config.ArgsSource.ARGS:
        return True
    return None
