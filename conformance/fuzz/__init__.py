"""Fuzzing the code that consumes telephony events (the ``fuzz`` extra: hypothesis).

* :mod:`.values`, :mod:`.generate`, :mod:`.streams`: valid events and streams, built from
  the schemas; :mod:`.broken`: broken ones, one mutator per rule;
  :mod:`.strategies`: the public strategies, for a user's own ``@given`` tests;
* :mod:`.consumers`: one adapter per kind of consumer (a callable, a daily-python
  ``EventHandler``, a program), delivering a stream as that consumer receives it;
* :mod:`.runner`: hypothesis over the strategy families, shrinking a failure;
  :mod:`.failures`: what a failure says, and the file that replays it (:mod:`.replay`);
* :mod:`.plugin`: ``pytest --telephony-consumer …``.
"""
