"""Reading boundary files and estimating outlines (broadcast.services.outline_geometry), by tables."""

from __future__ import annotations

import json
import random

import pytest
import shapely
from shapely.geometry import Point, box, shape

from broadcast.errors import InvalidInput
from broadcast.services import outline_geometry as g


def collection(*features, crs=None) -> bytes:
    document = {"type": "FeatureCollection", "features": list(features)}
    if crs:
        document["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(document).encode()


def square(x, y, side=0.01, **properties) -> dict:
    return {"type": "Feature", "properties": properties,
            "geometry": shapely.geometry.mapping(box(x, y, x + side, y + side))}


@pytest.mark.parametrize(("data", "message"), [
    (b"\xff\xfe", "not valid JSON"),
    (b"{\"type\": \"Topology\"}", "not a GeoJSON FeatureCollection"),
    (b"[1, 2]", "not a GeoJSON FeatureCollection"),
    (collection(), "no features"),
    (collection(square(105, 22), crs="urn:ogc:def:crs:EPSG::3405"), "EPSG::3405"),
    (b"{\"type\": \"FeatureCollection\", \"features\": [7]}", "#1 is not a GeoJSON Feature"),
])
def test_files_that_are_not_boundaries_are_refused_with_the_reason(data, message):
    with pytest.raises(InvalidInput) as refused:
        g.read_features(data)
    assert message in str(refused.value.message)
    assert refused.value.field == "file"


@pytest.mark.parametrize("crs", [None, "urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326"])
def test_a_wgs84_file_is_read_feature_by_feature(crs):
    features = g.read_features(collection(square(105, 22, ma_xa="00001", ten="Xã A"), square(105.1, 22, code=2),
                                          crs=crs))
    assert [f.label for f in features] == ["Xã A", "#2"]
    assert features[1].properties == {"code": 2}


@pytest.mark.parametrize(("geometry", "message"), [
    (None, "has no geometry"),
    ({"type": "Point", "coordinates": [105, 22]}, "is a Point, not an area"),
    ({"type": "LineString", "coordinates": [[105, 22], [106, 23]]}, "is a LineString"),
    ({"type": "Polygon", "coordinates": "nonsense"}, "cannot be read"),
    # VN-2000 / UTM metres: eastings and northings, not degrees.
    ({"type": "Polygon", "coordinates": [[[500000, 2500000], [501000, 2500000], [501000, 2501000],
                                          [500000, 2500000]]]}, "looks projected"),
])
def test_a_feature_that_is_not_an_area_in_degrees_is_refused(geometry, message):
    feature = g.Feature(3, {"ten": "Xã B"}, geometry)
    with pytest.raises(InvalidInput) as refused:
        g.area_of(feature)
    assert message in str(refused.value.message) and "Xã B" in str(refused.value.message)


def test_a_self_touching_boundary_is_repaired_to_its_area():
    bow_tie = {"type": "Polygon", "coordinates": [[[105, 22], [105.1, 22.1], [105.1, 22], [105, 22.1], [105, 22]]]}
    repaired = g.area_of(g.Feature(1, {}, bow_tie))
    assert repaired.is_valid and repaired.geom_type in ("Polygon", "MultiPolygon")
    assert repaired.area == pytest.approx(0.005, rel=1e-6)  # both triangles kept


def test_drawing_keeps_the_shape_with_fewer_points_rounded_to_a_metre():
    rng = random.Random(7)
    # A wobbly circle of 2,000 points, about 10 km across, with a few metres of noise.
    circle = Point(105, 22).buffer(0.05, quad_segs=500).exterior.coords[:2000]
    polygon = shapely.Polygon([(x + rng.uniform(-0.00002, 0.00002), y) for x, y in circle])
    drawn = g.for_drawing(polygon)
    points = drawn["coordinates"][0]
    assert len(points) < 500
    assert all(round(x, 5) == x and round(y, 5) == y for x, y in points)
    assert shape(drawn).symmetric_difference(polygon).area / polygon.area < 0.01


@pytest.mark.parametrize(("value", "variants"), [
    ("00001", {"00001"}),
    (1, {"1", "01", "001", "00001"}),
    ("26", {"26", "026", "00026"}),
    ("123", {"123", "00123"}),
    (" 08 ", {"08", "008", "00008"}),
    ("HG-1", {"HG-1"}),
    (True, set()),
    (None, set()),
    (2.0, set()),
    ("", set()),
])
def test_codes_are_matched_with_or_without_their_leading_zeros(value, variants):
    assert g.code_variants(value) == variants


@pytest.mark.parametrize(("properties", "expected"), [
    # The property that names most known codes wins, whatever it is called.
    ([{"ma_xa": "00001", "id": 1}, {"ma_xa": "00004", "id": 2}], "ma_xa"),
    ([{"MA": 1, "name": "X"}, {"MA": 4, "name": "Y"}], "MA"),
    ([{"gid": "VNM.1", "name": "X"}], None),
    # "id" names one code by chance (00002); "code" names both.
    ([{"id": 2, "code": "00001"}, {"id": 9, "code": "00004"}], "code"),
])
def test_the_code_property_is_found_by_what_it_matches(properties, expected):
    features = [g.Feature(n, p, None) for n, p in enumerate(properties, start=1)]
    assert g.code_property(features, {"00001", "00002", "00004", "08"}) == expected


def test_estimated_cells_share_out_the_land_around_the_centres():
    rng = random.Random(3)
    centres = [(f"{n:05d}", 105 + rng.random() * 0.5, 22 + rng.random() * 0.5) for n in range(120)]
    cells = g.estimated_cells(centres)
    assert set(cells) == {code for code, _, _ in centres}
    for code, lon, lat in centres:
        assert cells[code].contains(Point(lon, lat))  # each commune holds its own centre
    total = sum(c.area for c in cells.values())
    union = shapely.union_all(list(cells.values()))
    assert total == pytest.approx(union.area, rel=1e-9)  # no two cells overlap
    assert union.geom_type == "Polygon"  # one piece with no gaps
    assert union.contains(shapely.MultiPoint([(lon, lat) for _, lon, lat in centres]).convex_hull)


def test_cells_stay_inside_the_province_boundary_when_one_is_known():
    province = box(105, 22, 105.2, 22.1)
    centres = [("a", 105.05, 22.05), ("b", 105.15, 22.05), ("c", 105.1, 22.08)]
    cells = g.estimated_cells(centres, province)
    assert shapely.union_all(list(cells.values())).equals_exact(province, 1e-9) or \
        shapely.union_all(list(cells.values())).symmetric_difference(province).area < 1e-12
    assert cells["a"].bounds[0] == pytest.approx(105) and cells["b"].bounds[2] == pytest.approx(105.2)


@pytest.mark.parametrize("centres", [
    [("a", 105.0, 22.0)],
    [("a", 105.0, 22.0), ("b", 105.0, 22.0)],  # two communes given the same centre share one cell
    [("a", 105.0, 22.0), ("b", 105.1, 22.0)],
    [("a", 105.0, 22.0), ("b", 105.1, 22.0), ("c", 105.2, 22.0)],  # on one line: no hull area of their own
])
def test_few_or_aligned_centres_still_get_an_area_each(centres):
    cells = g.estimated_cells(centres)
    assert set(cells) == {code for code, _, _ in centres}
    for code, lon, lat in centres:
        assert cells[code].geom_type == "Polygon" and cells[code].area > 0
        assert cells[code].contains(Point(lon, lat))


def test_no_centres_no_cells():
    assert g.estimated_cells([]) == {}


@pytest.mark.parametrize(("lon", "lat", "metres"), [
    (105.05, 22.05, 0),  # inside
    (105.11, 22.05, 1030),  # 0.01° east of the edge at 22° N
    (105.05, 22.11, 1113),  # 0.01° north
])
def test_distance_outside_a_boundary_in_metres(lon, lat, metres):
    assert g.distance_m(box(105, 22, 105.1, 22.1), lon, lat) == pytest.approx(metres, abs=15)
