"""Area outlines as geometry, for the station map: reading a boundary file (GeoJSON), making each boundary fit
to draw, telling which property of the file holds the areas' codes, and estimating outlines from centres where
no boundary is held.

Pure functions on shapely geometries and plain data (no database), so they are tested by tables.

Coordinates are [longitude, latitude] in WGS 84, as GeoJSON (RFC 7946) requires. Vietnam's own VN-2000 grids
are in metres: a file in them is refused with a message saying so, rather than drawn in the sea.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import shapely
import shapely.affinity
from shapely.geometry import MultiPoint, Point, mapping, shape
from shapely.geometry.base import BaseGeometry

from broadcast.errors import InvalidInput
from broadcast.i18n import _l

# Outlines are kept for drawing: about 20 m of detail, coordinates to about a metre.
SIMPLIFY_DEGREES = 0.0002
DECIMALS = 5
# The CRS names that mean plain longitude/latitude in WGS 84 (the old GeoJSON "crs" member, still written by
# QGIS and ogr2ogr).
WGS84_NAMES = {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "urn:ogc:def:crs:EPSG::4326",
               "EPSG:4326", "CRS84", "OGC:CRS84"}
# Property names that boundary files use for a unit's name, to name a feature in messages.
NAME_KEYS = ("name", "ten", "ten_xa", "ten_tinh", "tenxa", "NAME_3", "NAME_2", "NAME_1", "Ten", "TEN", "NAME")


@dataclass(frozen=True)
class Feature:
    """One feature of a boundary file: its properties and its geometry as read (not yet checked)."""

    number: int  # 1-based, for messages
    properties: dict
    geometry: dict | None

    @property
    def label(self) -> str:
        """What a person would call it: its name if the file gives one, else its number."""
        for key in NAME_KEYS:
            value = self.properties.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return f"#{self.number}"


def read_features(data: bytes) -> list[Feature]:
    """The features of a GeoJSON FeatureCollection (or a single Feature), in WGS 84 longitude/latitude."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(_l("The file is not GeoJSON (not valid JSON: %(why)s).", why=str(exc)[:120]),
                           field="file") from exc
    if not isinstance(document, dict) or document.get("type") not in ("FeatureCollection", "Feature"):
        raise InvalidInput(_l("The file is not a GeoJSON FeatureCollection."), field="file")
    crs = document.get("crs")
    if isinstance(crs, dict):
        name = str((crs.get("properties") or {}).get("name", ""))
        if name and name not in WGS84_NAMES:
            raise InvalidInput(_l("The file's coordinates are in %(crs)s; export it in WGS 84 longitude and latitude "
                                  "(EPSG:4326), e.g. with ogr2ogr -t_srs EPSG:4326.", crs=name), field="file")
    raw = document.get("features") if document["type"] == "FeatureCollection" else [document]
    if not isinstance(raw, list) or not raw:
        raise InvalidInput(_l("The file holds no features."), field="file")
    features = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise InvalidInput(_l("Feature #%(n)s is not a GeoJSON Feature.", n=number), field="file")
        properties = item.get("properties") if isinstance(item.get("properties"), dict) else {}
        geometry = item.get("geometry") if isinstance(item.get("geometry"), dict) else None
        features.append(Feature(number, properties, geometry))
    return features


def area_of(feature: Feature) -> BaseGeometry:
    """The feature's boundary as a valid (Multi)Polygon in longitude/latitude, or a message saying what is wrong."""
    if feature.geometry is None:
        raise InvalidInput(_l("%(feature)s has no geometry.", feature=feature.label))
    try:
        geometry = shape(feature.geometry)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:
        raise InvalidInput(_l("%(feature)s: the geometry cannot be read (%(why)s).", feature=feature.label,
                              why=str(exc)[:120])) from exc
    if geometry.geom_type not in ("Polygon", "MultiPolygon") or geometry.is_empty:
        raise InvalidInput(_l("%(feature)s is a %(kind)s, not an area (Polygon or MultiPolygon).",
                              feature=feature.label, kind=geometry.geom_type))
    west, south, east, north = geometry.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise InvalidInput(_l("%(feature)s has coordinates such as %(x).0f, %(y).0f, which are not longitude and "
                              "latitude: the file looks projected (in metres, e.g. VN-2000); export it in WGS 84 "
                              "(EPSG:4326).", feature=feature.label, x=west, y=south))
    if not geometry.is_valid:
        # Self-touching rings are common in exported boundaries; repair them, keep only the area parts.
        repaired = shapely.make_valid(geometry)
        parts = [g for g in getattr(repaired, "geoms", [repaired]) if g.geom_type in ("Polygon", "MultiPolygon")]
        geometry = shapely.union_all(parts) if parts else repaired
        if geometry.is_empty or geometry.geom_type not in ("Polygon", "MultiPolygon"):
            raise InvalidInput(_l("%(feature)s: the boundary crosses itself and cannot be repaired.",
                                  feature=feature.label))
    return geometry


def for_drawing(geometry: BaseGeometry) -> dict:
    """The geometry as GeoJSON, simplified to about 20 m and rounded to about a metre (a map needs no more)."""
    simpler = shapely.set_precision(geometry.simplify(SIMPLIFY_DEGREES, preserve_topology=True), 10 ** -DECIMALS)
    if simpler.is_empty:  # an area smaller than the precision: keep it as it was
        simpler = geometry
    return mapping(simpler)


def code_variants(value) -> set[str]:
    """The strings a code in a file may stand for: as written, and zero-padded to the statistics office's widths
    (2 digits for a province, 3 for a district, 5 for a commune), since spreadsheets drop leading zeros."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return set()
    text = str(value).strip()
    variants = {text} if text else set()
    if text.isdigit():
        variants |= {text.zfill(width) for width in (2, 3, 5) if len(text) <= width}
    return variants


def code_property(features: list[Feature], known_codes: set[str]) -> str | None:
    """The property whose values match the most known area codes as written (then with zeros added: a plain
    feature number 1, 2, 3 would match commune codes 00001, 00002 ... by chance); None when none matches."""
    matches: dict[str, list[int]] = {}
    for feature in features:
        for key, value in feature.properties.items():
            if code_variants(value) & known_codes:
                score = matches.setdefault(key, [0, 0])
                score[0] += isinstance(value, str) and value.strip() in known_codes
                score[1] += 1
    if not matches:
        return None
    return max(sorted(matches), key=lambda key: matches[key])


def distance_m(geometry: BaseGeometry, lon: float, lat: float) -> float:
    """Roughly how far (metres) a point lies outside a boundary; 0 inside. Degrees of longitude are shrunk to
    their length at the point's latitude, which is good to a few per cent over the distances that matter here."""
    squeezed = shapely.affinity.scale(geometry, xfact=max(math.cos(math.radians(lat)), 0.01), yfact=1,
                                      origin=(lon, lat))
    return squeezed.distance(Point(lon, lat)) * 111_320


def estimated_cells(centres: Iterable[tuple[str, float, float]], clip: BaseGeometry | None = None
                    ) -> dict[str, BaseGeometry]:
    """Each area's estimated outline from (code, lon, lat) centres: the land nearer its centre than any other's
    (a Voronoi cell), within ``clip`` (the province's real boundary) or else within the centres' hull widened by
    about half the usual distance between neighbours. Areas sharing a centre share a cell."""
    centres = tuple(sorted(centres))
    return dict(_cells(centres, None if clip is None else clip.wkb))


@lru_cache(maxsize=64)
def _cells(centres: tuple[tuple[str, float, float], ...], clip_wkb: bytes | None) -> tuple:
    points = sorted({(lon, lat) for _, lon, lat in centres})
    if not points:
        return ()
    clip = shapely.from_wkb(clip_wkb) if clip_wkb is not None else _around(points)
    if len(points) == 1:
        cells = {points[0]: clip}
    else:
        polygons = shapely.voronoi_polygons(MultiPoint(points), extend_to=clip.envelope.buffer(1), ordered=True)
        cells = {point: cell.intersection(clip) for point, cell in zip(points, polygons.geoms, strict=True)}
    return tuple((code, cells[(lon, lat)]) for code, lon, lat in centres)


def _around(points: list[tuple[float, float]]) -> BaseGeometry:
    """The region the centres stand for when no boundary is known: their hull widened by half the median
    distance to the nearest neighbour (at least about 1 km, at most about 10 km)."""
    if len(points) == 1:
        spacing = 0.05
    else:
        each = shapely.points(points)
        _, nearest = shapely.STRtree(each).query_nearest(each, exclusive=True, return_distance=True)
        spacing = statistics.median(nearest)
    widen = min(max(spacing / 2, 0.01), 0.1)
    return MultiPoint(points).convex_hull.buffer(widen, quad_segs=4)
