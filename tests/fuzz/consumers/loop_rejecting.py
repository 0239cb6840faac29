"""A looping program (--telephony-consumer-loop) that answers "rejected" to any stream holding a
dialin-warning, valid or not, and "handled" to the rest; it prints a log line to stdout too."""

import json
import sys


def main() -> None:
    stream: list[dict] = []
    for line in sys.stdin:
        if line.strip():
            stream.append(json.loads(line))
            continue
        print("log: a stream of", len(stream), "events", flush=True)
        warned = any(isinstance(e, dict) and e.get("action") == "dialin-warning" for e in stream)
        print("rejected" if warned else "handled", flush=True)
        stream = []


main()
