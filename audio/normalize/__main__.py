"""Print the normalized reading of each line on stdin: `python -m audio.normalize < bulletin.txt`."""

from __future__ import annotations

import sys

from . import normalize


def main() -> int:
    """Normalize stdin line by line with the built-in lexicon, one output line per input line."""
    # Editors' terminals and scripts may run under a C locale; Vietnamese is always UTF-8 here.
    sys.stdin.reconfigure(encoding="utf-8")
    sys.stdout.reconfigure(encoding="utf-8")
    for line in sys.stdin:
        sys.stdout.write(normalize(line.rstrip("\r\n")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
