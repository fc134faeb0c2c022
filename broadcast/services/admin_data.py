"""Official administrative units, read from the maintained ``vietnamadminunits`` package.

It carries both maps keyed by statistics-office codes: 63 provinces / 696 districts / 10,035 communes
before 1 July 2025, and 34 provinces / 3,321 communes after, with coordinates and the old-to-new
correspondence. Nothing here touches our database.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LEGACY_TABLE = "admin_units_legacy"
CURRENT_TABLE = "admin_units"
_PROVINCE_PREFIXES = ("thanhpho", "tinh")


@dataclass(frozen=True)
class Unit:
    level: str  # province, district, commune
    code: str
    name: str
    short_name: str
    kind: str
    lat: float | None
    lon: float | None
    parent_code: str | None
    key: str  # the package's ascii key, used by its old-to-new correspondence


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    short_name: str
    key: str


@cache
def _data_dir() -> Path:
    # Located without importing the package: its __init__ builds address parsers we do not use (~1 s).
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the vietnamadminunits package is not installed (see requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def query(sql: str, params: tuple = ()) -> list[dict]:
    """Rows of the package's own SQLite data set, opened read-only."""
    with sqlite3.connect(f"file:{_data_dir() / 'dataset.db'}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params)]


def fold(text: str) -> str:
    """Lower-case ASCII letters and digits only: "Tỉnh Hà Giang" -> "tinhhagiang"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _table(structure: str) -> str:
    return LEGACY_TABLE if structure == "legacy" else CURRENT_TABLE


@cache
def provinces(structure: str) -> tuple[Province, ...]:
    rows = query(
        f"SELECT DISTINCT provinceCode, province, provinceShort, provinceKey FROM [{_table(structure)}]"  # noqa: S608
        " ORDER BY provinceCode"
    )
    return tuple(Province(r["provinceCode"], r["province"], r["provinceShort"], r["provinceKey"]) for r in rows)


def find_province(structure: str, text: str) -> Province | None:
    """The province named (with or without "Tỉnh", accents or spaces) or coded by ``text``."""
    wanted = fold(text)
    for prefix in _PROVINCE_PREFIXES:
        if wanted.startswith(prefix) and len(wanted) > len(prefix):
            wanted = wanted.removeprefix(prefix)
            break
    for province in provinces(structure):
        if text.strip().zfill(2) == province.code or fold(province.short_name) == wanted:
            return province
    return None


def suggest_provinces(structure: str, text: str, limit: int = 3) -> list[str]:
    import difflib

    names = {fold(p.short_name): p.short_name for p in provinces(structure)}
    return [names[k] for k in difflib.get_close_matches(fold(text), list(names), n=limit, cutoff=0.5)]


def units(structure: str, province_code: str) -> list[Unit]:
    """The province itself, then (legacy) its districts, then its communes, in code order."""
    rows = query(f"SELECT * FROM [{_table(structure)}] WHERE provinceCode = ? ORDER BY wardCode",  # noqa: S608
                 (province_code,))
    if not rows:
        return []
    first = rows[0]
    kind = first["province"].removesuffix(first["provinceShort"]).strip()
    result = [Unit("province", province_code, first["province"], first["provinceShort"], kind,
                   first["provinceLat"], first["provinceLon"], None, first["provinceKey"])]
    if structure == "legacy":
        seen: set[str] = set()
        for r in sorted(rows, key=lambda r: r["districtCode"]):
            if r["districtCode"] in seen:
                continue
            seen.add(r["districtCode"])
            result.append(Unit("district", r["districtCode"], r["district"], r["districtShort"], r["districtType"],
                               r["districtLat"], r["districtLon"], province_code,
                               f"{r['provinceKey']}_{r['districtKey']}"))
        # Island districts without communes (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, ...) come as a row with no ward.
        for r in (r for r in rows if r["wardCode"]):
            result.append(Unit("commune", r["wardCode"], r["ward"], r["wardShort"], r["wardType"], r["wardLat"],
                               r["wardLon"], r["districtCode"],
                               f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}"))
    else:
        for r in rows:
            result.append(Unit("commune", r["wardCode"], r["ward"], r["wardShort"], r["wardType"], r["wardLat"],
                               r["wardLon"], province_code, f"{r['provinceKey']}_{r['wardKey']}"))
    return result


@cache
def _correspondence() -> dict:
    return json.loads((_data_dir() / "converter_2025.json").read_text(encoding="utf-8"))


def successors(current_province_key: str) -> list[tuple[str, str, bool]]:
    """(legacy commune key, 2025 commune key, whether it is the unit's main successor) for a 2025 province.

    Keys are those of ``Unit.key``. A legacy commune split between several new ones appears once per
    part, with ``True`` only for the part the package marks as the default.
    """
    data = _correspondence()
    pairs: list[tuple[str, str, bool]] = []
    for new_ward, legacy_keys in data["DICT_PROVINCE_WARD_NO_DIVIDED"].get(current_province_key, {}).items():
        pairs.extend((legacy, f"{current_province_key}_{new_ward}", True) for legacy in legacy_keys)
    for legacy, parts in data["DICT_PROVINCE_WARD_DIVIDED"].get(current_province_key, {}).items():
        pairs.extend((legacy, f"{current_province_key}_{p['newWardKey']}", bool(p["isDefaultNewWard"]))
                     for p in parts)
    return pairs


def merged_into(legacy_province: Province) -> Province | None:
    """The 2025 province that took over a legacy province."""
    for new_key, legacy_keys in _correspondence()["DICT_PROVINCE"].items():
        if legacy_province.key in legacy_keys:
            return next((p for p in provinces("2025") if p.key == new_key), None)
    return None
