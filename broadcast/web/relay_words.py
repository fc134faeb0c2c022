"""What a station agent says of a live relay (stations.agent.relay, in English: the agent has no translations), as
the operator's as-run page shows it: the seconds relayed and of filler in the reader's language, then the agent's
own technical detail (a player's or a server's words, which are not translated). Other reasons pass unchanged."""

from __future__ import annotations

import re

from broadcast.formats import spoken_length
from broadcast.i18n import _

_PARTLY = re.compile(r"partly relayed: stream (?P<relayed>\d+) s, filler (?P<filler>\d+) s"
                     r"(?:, silence (?P<silence>\d+) s)?(?:; the stream dropped (?P<drops>\d+) times?)?"
                     r"(?: \((?P<why>.*?)\))?(?P<rest>;.*)?")
_FAILED = re.compile(r"the stream did not play \((?P<why>.*)\); filler (?P<filler>\d+) s"
                     r"(?:, silence (?P<silence>\d+) s)?(?P<rest>;.*)?")


def relay_reason(text: str | None) -> str | None:
    """A relay's as-run reason in the reader's language; any other text as it is."""
    if not text:
        return text
    found = _PARTLY.fullmatch(text) or _FAILED.fullmatch(text)
    if found is None:
        return text
    parts = found.groupdict()
    if "relayed" in parts:
        words = _("partly relayed: stream %(relayed)s, filler %(filler)s",
                  relayed=spoken_length(int(parts["relayed"])), filler=spoken_length(int(parts["filler"])))
    else:
        words = _("the stream did not play; filler %(filler)s", filler=spoken_length(int(parts["filler"])))
    if parts.get("silence"):
        words += ", " + _("silence %(length)s", length=spoken_length(int(parts["silence"])))
    if parts.get("drops"):
        words += "; " + _("the stream dropped %(n)s times", n=parts["drops"])
    detail = "; ".join(p.strip("; ") for p in (parts.get("why"), parts.get("rest")) if p)
    return f"{words} ({detail})" if detail else words
