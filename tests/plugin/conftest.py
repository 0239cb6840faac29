"""Fixtures for every plugin test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _not_in_ci_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    # Under CI=true (or BUILD_NUMBER) pytest prints each failure's whole text again in the
    # short summary, so every finding line would appear twice in the output we count.
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("BUILD_NUMBER", raising=False)
