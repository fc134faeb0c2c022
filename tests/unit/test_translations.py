"""Vietnamese comes first: every message in the code and templates has a Vietnamese translation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "broadcast" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"


def test_every_message_is_translated_to_vietnamese(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
         "--no-location", "-o", str(template), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    wanted = {m.id for m in read_po(template.open("rb")) if m.id}
    with CATALOG.open("rb") as fh:
        catalog = {m.id: m.string for m in read_po(fh) if m.id}
    missing = sorted(wanted - {k for k, v in catalog.items() if v})
    assert wanted, "extraction found no messages"
    assert not missing, f"untranslated (run scripts/translations): {missing}"


def test_placeholders_survive_translation():
    with CATALOG.open("rb") as fh:
        for message in read_po(fh):
            if message.id and message.string:
                for name in ("%(name)s", "%(code)s", "%(province)s", "%(message)s"):
                    assert (name in message.id) == (name in message.string), message.id
