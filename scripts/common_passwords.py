#!/usr/bin/env python3
"""Write broadcast/data/common-passwords.txt: the 10,000 most common passwords, most common first.

The list is the head of the one Django ships for its CommonPasswordValidator
(django/contrib/auth/common-passwords.txt.gz: 20,000 passwords from leaks ranked by frequency, compiled by
Royce Williams, lowercased and deduplicated; BSD-licensed with Django). Run it with Django's wheel, e.g.

    pip download django==5.2.17 --no-deps -d /tmp/django && scripts/common_passwords.py /tmp/django/*.whl
"""

from __future__ import annotations

import gzip
import sys
import zipfile
from pathlib import Path

TOP = 10_000
MEMBER = "django/contrib/auth/common-passwords.txt.gz"
OUT = Path(__file__).resolve().parent.parent / "broadcast" / "data" / "common-passwords.txt"


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        ranked = gzip.decompress(archive.read(MEMBER)).decode("utf-8").splitlines()
    top = [line.strip() for line in ranked if line.strip()][:TOP]
    OUT.write_text("\n".join(top) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(top)} passwords from {Path(wheel).name}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
