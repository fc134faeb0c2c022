"""A delivery's last error in words an operator reads, in the reader's language.

Pushes record their errors in English (the logs and the API keep that text, which names hosts, keys and
system errors); pages show what went wrong in the reader's language, with the technical part kept as it is.
"""

from __future__ import annotations

import re

from broadcast.i18n import _

# The push's own sentences (broadcast/services/pushing.py, emergency_delivery.py and broadcast/channels/sftp.py),
# most specific first: (pattern, function of the match giving the sentence).
_KNOWN = (
    (re.compile(r"the station lacks SSH host, user, remote folder or pinned host key"),
     lambda m: _("The station has no SSH host, user, remote folder or pinned host key yet.")),
    (re.compile(r"host key mismatch: re-pin the station's host key first"),
     lambda m: _("The station's SSH host key changed: check the box and pin the new key.")),
    (re.compile(r"audio (?P<sha>[0-9a-f]+) is not in the server's store( yet)?"),
     lambda m: _("The audio %(sha)s is not in the server's store yet.", sha=m["sha"][:12])),
    (re.compile(r"(?P<address>\S+) (offered host key|has no) .*"),
     lambda m: _("%(address)s showed another SSH host key than the pinned one.", address=m["address"])),
    (re.compile(r"cannot connect to (?P<address>\S+): (?P<detail>.*)"),
     lambda m: _("Cannot connect to %(address)s (%(detail)s).", address=m["address"], detail=m["detail"])),
    (re.compile(r"SSH (negotiation|handshake) with (?P<address>\S+) failed: (?P<detail>.*)"),
     lambda m: _("The SSH connection to %(address)s failed (%(detail)s).", address=m["address"],
                 detail=m["detail"])),
    (re.compile(r"(?P<address>\S+) refused our key .*"),
     lambda m: _("%(address)s refused the server's SSH key.", address=m["address"])),
    (re.compile(r"authenticating to (?P<address>\S+) failed: (?P<detail>.*)"),
     lambda m: _("Logging in to %(address)s failed (%(detail)s).", address=m["address"], detail=m["detail"])),
    (re.compile(r"(?P<address>\S+) did not start its SFTP subsystem: (?P<detail>.*)"),
     lambda m: _("%(address)s did not start SFTP (%(detail)s).", address=m["address"], detail=m["detail"])),
)


def describe(error: str | None) -> str | None:
    """The error as a sentence in the reader's language; an unknown one is shown after a translated lead."""
    if not error:
        return None
    for pattern, sentence in _KNOWN:
        found = pattern.fullmatch(error)
        if found:
            return sentence(found)
    return _("Sending failed (%(detail)s).", detail=error)
