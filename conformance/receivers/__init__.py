"""Driving an HTTP receiver of telephony events and judging its answers (the ``receivers``
extra: schemathesis and httpx).

* :mod:`.checks`: the check families and what each answer must be;
* :mod:`.deliveries`: the deliveries sent (documented examples and their mutations,
  signatures, streams, retries); :mod:`.generated`: those schemathesis generates;
* :mod:`.signing`: signing a delivery, every part configurable;
* :mod:`.transport`: a running server or an ASGI/WSGI app in process, and ``curl`` commands;
* :mod:`.settings` and :mod:`.plugin`: ``pytest --telephony-receiver-app …``.
"""

from __future__ import annotations

from .checks import CHECKS, Delivery, Failure
from .deliveries import check_receiver, deliveries, example_deliveries, signature_deliveries, stream_deliveries
from .signing import Signer
from .transport import Receiver, curl_command, is_asgi

__all__ = [
    "CHECKS",
    "Delivery",
    "Failure",
    "Receiver",
    "Signer",
    "check_receiver",
    "curl_command",
    "deliveries",
    "example_deliveries",
    "is_asgi",
    "signature_deliveries",
    "stream_deliveries",
]
