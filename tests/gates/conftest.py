"""Fixtures for the CI gates (issue 17): severities, fail-on, required actions, baselines,
configuration and the machine reports, tried as a user would: the CLI as a subprocess, the
plugin through pytester."""

from __future__ import annotations

from pathlib import Path

import pytest
from _gates import GOOD, NO_ENDPOINT, STOPPED


@pytest.fixture
def defective(tmp_path: Path) -> Path:
    """S201 at lines 2 and 4, L302 at line 5, C101 at line 6."""
    path = tmp_path / "defective.ndjson"
    path.write_text("\n".join([GOOD, NO_ENDPOINT, GOOD, NO_ENDPOINT, STOPPED, "{oops"]) + "\n")
    return path


@pytest.fixture
def warned(tmp_path: Path) -> Path:
    """One warning alone: L301, a dialout-answered with no dialout-connected before it."""
    path = tmp_path / "warned.ndjson"
    answered = (
        '{"action":"dialout-answered","callClientId":"c","sessionId":"o","sipCallId":"x@sip.daily.co",'
        '"destination":"+12098888888","provider":"daily"}'
    )
    path.write_text(GOOD + "\n" + answered + "\n")
    return path
