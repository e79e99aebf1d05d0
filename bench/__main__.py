"""The bench's workers, each run in a fresh interpreter: ``python -m bench scale N FOLDER OUT`` or ``peer OUT``."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

from bench.peer import peer_worker
from bench.scale import scale_worker


def main(argv: list[str]) -> int:
    """Run the worker ``argv[0]`` names."""
    command = argv[0] if argv else ""
    if command == "scale":
        scale_worker(int(argv[1]), Path(argv[2]), Path(argv[3]))
    elif command == "peer":
        with contextlib.redirect_stdout(io.StringIO()):  # the peer's libraries print progress
            peer_worker(Path(argv[1]))
    else:
        print(f"unknown bench worker {command!r}; expected scale or peer", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
