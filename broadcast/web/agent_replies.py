"""What station agents answer to a command, in the reader's language.

Agents (stations.agent) answer in English: they carry no translations. Pages show the known answers in the
reader's language, with what the agent named (a volume, a time, a system error) kept as it said it; an answer
not known here is shown as the agent said it.
"""

from __future__ import annotations

import re

from broadcast.i18n import _l

# Remote control (play now, stop, volume): stations/agent/commands.py and playout.py.
REMOTE_REPLIES = (
    (re.compile(r"playing"), _l("playing")),
    (re.compile(r"nothing was playing"), _l("nothing was playing")),
    (re.compile(r"stopped (?P<what>.*)"), _l("stopped")),
    (re.compile(r"volume (?P<volume>\d+)"), _l("volume set to %(volume)s")),
    (re.compile(r"volume (?P<volume>\d+) stored; (?P<why>.*)"),
     _l("volume %(volume)s kept for later, but the station could not set it now: %(why)s")),
    (re.compile(r"the playout engine did not answer"), _l("the station's player did not answer")),
    (re.compile(r"bad command: (?P<why>.*)"), _l("the station could not read the command: %(why)s")),
    (re.compile(r"unknown command kind .*"), _l("the station does not know this command (update its agent)")),
)
# Live relays (a "speak now" announcement, a play_stream command): stations/agent/playout.py.
RELAY_REPLIES = (
    (re.compile(r"relaying until (?P<time>\d\d:\d\d(:\d\d)?)"), _l("relaying until %(time)s")),
    (re.compile(r"the relay will not resume"), _l("the relay will not resume")),
    (re.compile(r"that relay was not playing"), _l("that stream was not playing")),
    (re.compile(r"emergency \d+ is on air"), _l("an emergency broadcast is on air")),
    (re.compile(r"bad play_stream: (?P<why>.*)"), _l("the station could not read the command: %(why)s")),
)
# Emergencies: stations/agent/emergencies.py.
EMERGENCY_REPLIES = (
    (re.compile(r"received; airs (?P<n>\d+) times from (?P<time>\d\d:\d\d(:\d\d)?)"),
     _l("received; airs %(n)s times from %(time)s")),
    (re.compile(r"emergency \d+ already received"), _l("already received (by another path, or sent again)")),
    (re.compile(r"emergency \d+ was cancelled"), _l("it had been cancelled when it arrived")),
    (re.compile(r"emergency \d+ expired at .*"), _l("it had expired when it arrived")),
    (re.compile(r"emergency \d+ cancelled; (?P<n>\d+) airings dropped"),
     _l("cancelled; %(n)s airings dropped")),
    (re.compile(r"audio not available: (?P<why>.*)"), _l("the station could not fetch the audio: %(why)s")),
    (re.compile(r"bad emergency: (?P<why>.*)"), _l("the station could not read the warning: %(why)s")),
)


def agent_reply(text: str | None) -> str:
    """An agent's answer in the reader's language (the agent's own words when the answer is not known)."""
    said = (text or "").strip()
    for pattern, message in (*EMERGENCY_REPLIES, *RELAY_REPLIES, *REMOTE_REPLIES):
        found = pattern.fullmatch(said)
        if found:
            return str(message) % found.groupdict()
    return said or "—"
