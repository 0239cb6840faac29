"""Planted bug: a daily-python handler reading daily-js's errorMsg, which daily-python does not
promise (it documents 'message')."""

from typing import Any

from daily import EventHandler


class Handler(EventHandler):
    def on_dialin_error(self, data: Any) -> None:
        print(data["errorMsg"])  # BUG: daily-python's DialinEvent has 'message'
