"""The area tree a placement's targets are picked from: the user's areas down to communes, and their stations.

A province may have ~10,000 stations, and a page listing them all would be slow to send and to use on a phone.
So the tree is taken breadth-first, one whole level at a time, while it fits in a budget of nodes: a commune
operator gets their commune with its stations, a province editor the province with its communes (and their
stations when there are only a few hundred). Below that, an area is unfolded when asked for: ``children``
gives one level (the page loads it in place, or reloads the form with the area open), and ``target_tree``
unfolds the areas named in ``expand`` and those holding a chosen target, so a chosen box is always shown.

Each area carries how many communes and stations lie under it, for the page's "3 communes, 12 stations".
With ``stations=False`` the tree stops at the communes (an emergency broadcast goes to areas, not stations).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcast.db.models import Area, Level, Station, Structure, User
from broadcast.services import scope
from broadcast.services.schedule_inputs import ancestor_paths

BUDGET = 400  # nodes rendered up-front; beyond it, areas unfold on request
CHUNK = 500  # codes per IN list


@dataclass
class TreeNode:
    """An area or a station as the picker shows it; ``value`` is what the form sends (the placement target)."""

    kind: str  # "area" or "station"
    id: int
    value: str  # the area's code, or "station:<code>"
    name: str
    level: str | None  # province, district, commune; None for a station
    path: str  # the area's path, or its commune's for a station
    communes: int = 0  # communes in the subtree (1 for a commune)
    stations: int = 0  # stations in the subtree (1 for a station)
    children: list[TreeNode] | None = None  # None: not loaded (ask ``children``)
    open: bool = False

    @property
    def unloaded(self) -> bool:
        """Has something below it that is not loaded yet."""
        return self.children is None and (self.level != Level.COMMUNE.value or self.stations > 0)


@dataclass
class _Counts:
    """Communes and stations under each area path, and the stations right at each commune."""

    communes: dict[str, int]
    stations: dict[str, int]
    own_stations: dict[str, int]


def _prefix(session: Session, user: User) -> str | None:
    """The path every area of the user's tree starts with: their own area's, or for an administrator of the
    whole service the 2025 map's (the legacy map's only when no 2025 unit is loaded)."""
    if not scope.covers_everything(user):
        return user.scope_area.path if user.scope_area is not None else None
    current = Area.path_for(Structure.CURRENT, [])
    has_current = session.scalar(select(Area.id).where(Area.path.startswith(current)).limit(1))
    return current if has_current is not None else Area.path_for(Structure.LEGACY, [])


def _roots(session: Session, user: User, prefix: str) -> list[Area]:
    if not scope.covers_everything(user):
        return [user.scope_area]
    return list(session.scalars(select(Area).where(Area.path.startswith(prefix), Area.parent_id.is_(None))
                                .order_by(Area.code)))


def _counts(session: Session, prefix: str) -> _Counts:
    """Two grouped queries, summed up the tree in Python (a province has a few hundred communes)."""
    counts = _Counts(defaultdict(int), defaultdict(int), defaultdict(int))
    for path in session.scalars(select(Area.path).where(Area.level == Level.COMMUNE, Area.path.startswith(prefix))):
        for above in ancestor_paths(path):
            counts.communes[above] += 1
    query = (select(Area.path, func.count(Station.id)).join(Station, Station.commune_id == Area.id)
             .where(Area.path.startswith(prefix)).group_by(Area.path))
    for path, number in session.execute(query):
        counts.own_stations[path] = number
        for above in ancestor_paths(path):
            counts.stations[above] += number
    return counts


def _area_node(area: Area, counts: _Counts, stations: bool = True) -> TreeNode:
    node = TreeNode("area", area.id, area.code, area.name, area.level.value, area.path,
                    communes=counts.communes.get(area.path, 0), stations=counts.stations.get(area.path, 0))
    if area.level is Level.COMMUNE and (node.stations == 0 or not stations):
        node.children = []  # nothing below: a plain box, nothing to unfold
    return node


def _station_node(station: Station, path: str) -> TreeNode:
    return TreeNode("station", station.id, f"station:{station.code}", station.name, None, path, stations=1,
                    children=[])


def _chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _open_paths(session: Session, prefix: str, selected: Iterable[str], expand: Iterable[int]) -> set[str]:
    """The areas to show unfolded: those asked for, and those above a chosen target (so its box shows)."""
    wanted = set()
    codes = [c.strip() for c in selected if c and c.strip()]
    station_codes = [c.removeprefix("station:") for c in codes if c.startswith("station:")]
    area_codes = [c for c in codes if not c.startswith("station:")]
    for part in _chunks(station_codes):
        query = (select(Area.path).join(Station, Station.commune_id == Area.id)
                 .where(Station.code.in_(part), Area.path.startswith(prefix)))
        wanted.update(p for path in session.scalars(query) for p in ancestor_paths(path))
    for part in _chunks(area_codes):
        query = select(Area.path).where(Area.code.in_(part), Area.path.startswith(prefix))
        wanted.update(p for path in session.scalars(query) for p in ancestor_paths(path)[:-1])
    ids = [i for i in expand if isinstance(i, int)]
    for part in _chunks(ids):
        query = select(Area.path).where(Area.id.in_(part), Area.path.startswith(prefix))
        wanted.update(p for path in session.scalars(query) for p in ancestor_paths(path))
    return wanted


def _load_children(session: Session, parents: list[TreeNode], counts: _Counts, stations: bool = True
                   ) -> list[TreeNode]:
    """Fill in the children of ``parents`` (areas first, then stations, each by code); returns the new areas."""
    by_id = {p.id: p for p in parents}
    for parent in parents:
        parent.children = []
    found: list[TreeNode] = []
    for part in _chunks(list(by_id)):
        for area in session.scalars(select(Area).where(Area.parent_id.in_(part)).order_by(Area.code)):
            node = _area_node(area, counts, stations)
            by_id[area.parent_id].children.append(node)
            found.append(node)
        if not stations:
            continue
        query = select(Station).where(Station.commune_id.in_(part)).order_by(Station.code)
        for station in session.scalars(query):
            parent = by_id[station.commune_id]
            parent.children.append(_station_node(station, parent.path))
    return found


def target_tree(session: Session, user: User, *, selected: Iterable[str] = (), expand: Iterable[int] = (),
                budget: int = BUDGET, stations: bool = True) -> list[TreeNode]:
    """The user's tree (their area, or every province for an administrator), unfolded as far as the budget
    allows, plus the areas in ``expand`` and those above the ``selected`` target codes."""
    prefix = _prefix(session, user)
    if prefix is None:
        return []
    counts = _counts(session, prefix)
    opened = _open_paths(session, prefix, selected, expand)
    roots = [_area_node(a, counts, stations) for a in _roots(session, user, prefix)]
    shown, frontier, whole_levels = len(roots), roots, True
    for node in roots:
        node.open = True
    while frontier:
        waiting = [n for n in frontier if n.children is None]
        if whole_levels:
            size = sum(counts.own_stations.get(n.path, 0) for n in waiting) if stations else 0
            ids = [n.id for n in waiting]
            size += sum(session.scalar(select(func.count(Area.id)).where(Area.parent_id.in_(part))) or 0
                        for part in _chunks(ids))
            whole_levels = shown + size <= budget
            shown += size if whole_levels else 0
        unfold = waiting if whole_levels else [n for n in waiting if n.path in opened]
        frontier = _load_children(session, unfold, counts, stations) if unfold else []
    _mark_open(roots, opened)
    return roots


def _mark_open(nodes: list[TreeNode], opened: set[str]) -> None:
    for node in nodes:
        if node.kind == "area":
            node.open = node.open or node.path in opened
            _mark_open(node.children or [], opened)


def children(session: Session, user: User, area: Area, *, stations: bool = True) -> list[TreeNode]:
    """One level below ``area`` (its districts or communes, or a commune's stations), for the picker."""
    scope.require_area(user, area)
    counts = _counts(session, area.path)
    parent = _area_node(area, counts, stations)
    _load_children(session, [parent], counts, stations)
    return parent.children or []
