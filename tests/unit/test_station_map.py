"""The station map's pure pieces: the outline drawn without tiles (a convex hull) and the state a station shows."""

from __future__ import annotations

import pytest

from broadcast.services.station_map import MapStation, convex_hull, state_counts


@pytest.mark.parametrize(("points", "hull"), [
    ([], []),
    ([(1.0, 1.0)], [(1.0, 1.0), (1.0, 1.0)]),
    ([(0.0, 0.0), (0.0, 0.0), (2.0, 0.0)], [(0.0, 0.0), (2.0, 0.0), (0.0, 0.0)]),
    # A square with a point inside and one on an edge: only the corners, counter-clockwise, closed.
    ([(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (1.0, 1.0), (1.0, 0.0)],
     [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (0.0, 0.0)]),
    ([(104.9, 22.8), (105.3, 23.2), (105.0, 22.5), (105.1, 22.9)],
     [(104.9, 22.8), (105.0, 22.5), (105.3, 23.2), (104.9, 22.8)]),
])
def test_convex_hull(points, hull):
    assert convex_hull(points) == hull


@pytest.mark.parametrize(("status", "behind", "state"), [
    ("online", False, "online"),
    ("playing", False, "playing"),
    ("online", True, "behind"),
    ("playing", True, "behind"),
    ("offline", True, "offline"),  # silence comes first: its version says nothing then
    ("unknown", False, "unknown"),
])
def test_the_state_a_station_shows(status, behind, state):
    assert MapStation("A", "A", "X", 0, 0, status, behind, False).state == state


def test_state_counts_name_every_state():
    found = [MapStation(c, c, "X", 0, 0, s, b, False) for c, s, b in
             (("a", "online", False), ("b", "online", True), ("c", "offline", False))]
    assert state_counts(found) == {"offline": 1, "unknown": 0, "behind": 1, "playing": 0, "online": 1}
