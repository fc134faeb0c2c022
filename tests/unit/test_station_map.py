"""The station map's pure pieces: the state a station shows, and the one a commune is tinted by."""

from __future__ import annotations

import pytest

from broadcast.services.station_map import MapStation, most_urgent, state_counts


@pytest.mark.parametrize(("status", "behind", "state"), [
    ("online", False, "online"),
    ("playing", False, "playing"),
    ("online", True, "behind"),
    ("playing", True, "behind"),
    ("offline", True, "offline"),  # silence comes first: its version says nothing then
    ("unknown", False, "unknown"),
])
def test_the_state_a_station_shows(status, behind, state):
    assert MapStation("A", "A", "X", "00001", 0, 0, status, behind, False).state == state


def test_state_counts_name_every_state():
    found = [MapStation(c, c, "X", "00001", 0, 0, s, b, False) for c, s, b in
             (("a", "online", False), ("b", "online", True), ("c", "offline", False))]
    assert state_counts(found) == {"offline": 1, "unknown": 0, "behind": 1, "playing": 0, "online": 1}


@pytest.mark.parametrize(("states", "tint"), [
    ([], None),
    (["online"], "online"),
    (["online", "playing"], "playing"),
    (["playing", "behind", "online"], "behind"),
    (["online", "unknown", "behind"], "unknown"),
    (["behind", "offline", "unknown"], "offline"),
])
def test_a_commune_is_tinted_by_its_most_urgent_station(states, tint):
    found = [MapStation(str(n), "A", "X", "00001", 0, 0, s, False, False) for n, s in enumerate(states)]
    found = [MapStation(s.code, s.name, s.commune, s.commune_code, 0, 0, "online", True, False) if s.status == "behind"
             else s for s in found]
    assert most_urgent(found) == tint
