"""Fit checks: lay an occurrence's airings end to end, settle overflow by the slot's policy, fill underflow.

Overflow policies: "reject" airs what fits in airing order and leaves out the rest with an error (a rejecting
slot never runs past its end: placements are refused before they overflow it, and what still overflows, such
as speech that came out longer than its estimate, is left out, not aired late); "drop" removes airings in give-way order
until the rest fits (then lets back in any removed airing that fits after all, highest-ranked first);
"move_next" does the same but hands the removed airings to the slot's next occurrence (an airing longer than
the whole slot is dropped instead: it would be moved for ever). Underflow gets the
slot's filler, repeated back to back after one ``gap_ms`` pause, the last piece cut at the occurrence end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from schedules.media import StreamRef
from schedules.occurrences import Occurrence, Timeline
from schedules.placements import CarriedItem, PlacementRule
from schedules.playlist import Entry, FilledOccurrence
from schedules.problems import Problem
from schedules.sequence import Piece, Run, sequence_runs
from schedules.slots import SlotRule


def check_fits(placement: PlacementRule, slot: SlotRule) -> Problem | None:
    """A "never_fits" error if the placement's airings (with the slot's gaps) exceed the whole slot."""
    count = placement.repeat_count
    need = count * placement.duration_ms + (count - 1) * slot.gap_ms
    if need <= slot.duration_ms:
        return None
    return Problem("never_fits", "error", slot.id, slot_time=slot.time_label, amount_ms=need - slot.duration_ms,
                   item_ids=(placement.item_id,), placement_ids=(placement.id,))


def _length(count: int, total_ms: int, gap_ms: int) -> int:
    return total_ms + gap_ms * (count - 1) if count else 0


def _ids(pieces: Sequence[Piece]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    items = tuple(sorted({p.item_id for p in pieces if p.item_id is not None}))
    placements = tuple(sorted({p.placement_id for p in pieces if p.placement_id is not None}))
    return items, placements


def _problem(kind: str, severity: str, slot: SlotRule, occ: Occurrence, amount_ms: int,
             pieces: Sequence[Piece] = ()) -> Problem:
    items, placements = _ids(pieces)
    return Problem(kind, severity, slot.id, occ.key, slot.time_label, amount_ms, items, placements)


def lay_out(occurrence: Occurrence, ordered: Sequence[Piece], slot: SlotRule, zone: ZoneInfo
            ) -> tuple[list[Entry], int]:
    """Entries for ``ordered`` laid end to end from the occurrence start, and where the content ends (ms)."""
    entries: list[Entry] = []
    clock = 0
    content_end = 0
    at = Timeline(occurrence.start, zone, sum(p.duration_ms for p in ordered) + slot.gap_ms * len(ordered))
    for piece in ordered:
        start, content_end = clock, clock + piece.duration_ms
        audio = piece.audio
        if isinstance(audio, StreamRef):  # a relay falls back on its slot's filler when the stream fails
            audio = audio.with_fallback(slot.filler)
        entries.append(Entry(at(start), at(content_end), "item", piece.item_id, piece.placement_id, piece.repeat,
                             audio, piece.duration_ms, piece.title, piece.item_class))
        clock = content_end + slot.gap_ms
    return entries, content_end


def _within_end(ordered: Sequence[Piece], slot_ms: int, gap_ms: int) -> tuple[list[Piece], list[Piece]]:
    """The pieces that fit before the slot ends, in airing order, and those left out.

    Emergency airings are never left out: a warning airs even when it runs late.
    """
    kept: list[Piece] = []
    left_out: list[Piece] = []
    clock = 0
    for piece in ordered:
        if clock + piece.duration_ms <= slot_ms or piece.item_class == "emergency":
            kept.append(piece)
            clock += piece.duration_ms + gap_ms
        else:
            left_out.append(piece)
    return kept, left_out


def _fill(occurrence: Occurrence, slot: SlotRule, entries: list[Entry], content_end: int, zone: ZoneInfo) -> None:
    filler = slot.filler
    if filler is None:
        return
    clock = content_end + slot.gap_ms if entries else 0
    index = 0
    at = Timeline(occurrence.start, zone, slot.duration_ms)
    while clock < slot.duration_ms:
        play = min(filler.duration_ms, slot.duration_ms - clock)
        entries.append(Entry(at(clock), at(clock + play), "filler", None, None, index, filler, play))
        clock += play
        index += 1


def fit_runs(occurrence: Occurrence, slot: SlotRule, runs: Sequence[Run], victims: Sequence[tuple[int, int]],
             zone: ZoneInfo, placements_by_id: Mapping[int, PlacementRule], *, locked: bool = False
             ) -> FilledOccurrence:
    """Settle one occurrence: apply the overflow policy, sequence, lay out, fill, and report problems.

    ``victims`` lists the airings allowed to give way, first to go first; ``placements_by_id`` turns moved
    airings back into placements for the next occurrence.
    """
    slot_ms, gap = slot.duration_ms, slot.gap_ms
    count = sum(len(run.pieces) for run in runs)
    total = sum(piece.duration_ms for run in runs for piece in run.pieces)
    overflow = _length(count, total, gap) - slot_ms
    removed: set[tuple[int, int]] = set()
    if overflow > 0 and slot.policy != "reject":
        for run_index, piece_index in victims:
            if _length(count, total, gap) <= slot_ms:
                break
            removed.add((run_index, piece_index))
            count -= 1
            total -= runs[run_index].pieces[piece_index].duration_ms
        # Greedy removal can overshoot (a long item went after a short one); let the short ones back in,
        # highest-ranked first, so no more air time is lost than the overflow needs.
        for run_index, piece_index in reversed(victims):
            duration = runs[run_index].pieces[piece_index].duration_ms
            if (run_index, piece_index) in removed and _length(count + 1, total + duration, gap) <= slot_ms:
                removed.discard((run_index, piece_index))
                count += 1
                total += duration
    kept = runs if not removed else [
        run._replace(pieces=tuple(p for i, p in enumerate(run.pieces) if (r, i) not in removed))
        for r, run in enumerate(runs)]
    ordered = sequence_runs(kept, gap)
    left_out: list[Piece] = []
    if overflow > 0 and slot.policy == "reject":
        ordered, left_out = _within_end(ordered, slot_ms, gap)
    entries, content_end = lay_out(occurrence, ordered, slot, zone)

    problems: list[Problem] = []
    too_long = [piece for piece in ordered if piece.duration_ms > slot_ms]
    gone = [runs[r].pieces[i] for r, i in sorted(removed)]
    too_long += [piece for piece in (*gone, *left_out) if piece.duration_ms > slot_ms]
    if too_long:
        problems.append(_problem("never_fits", "error", slot, occurrence,
                                 max(p.duration_ms for p in too_long) - slot_ms, too_long))
    if overflow > 0:
        still = content_end - slot_ms > 0 or slot.policy == "reject"
        problems.append(_problem("overflow", "error" if still else "warning", slot, occurrence, overflow))
    carried: list[CarriedItem] = []
    dropped: list[Piece] = []
    for piece in gone:
        placement = placements_by_id.get(piece.placement_id) if piece.placement_id is not None else None
        if slot.policy == "move_next" and placement is not None and piece.duration_ms <= slot_ms:
            carried.append(CarriedItem(slot.id, placement, piece.repeat, occurrence.key))
        else:
            dropped.append(piece)
    if dropped:
        problems.append(_problem("dropped", "warning", slot, occurrence, sum(p.duration_ms for p in dropped), dropped))
    if left_out:
        problems.append(_problem("dropped", "error", slot, occurrence, sum(p.duration_ms for p in left_out),
                                 left_out))
    if carried:
        moved = [Piece.of(item.placement, item.repeat) for item in carried]
        problems.append(_problem("moved", "warning", slot, occurrence, sum(p.duration_ms for p in moved), moved))
    if content_end < slot_ms:
        severity = "info" if slot.filler is not None else "warning"
        problems.append(_problem("underflow", severity, slot, occurrence, slot_ms - content_end))
        _fill(occurrence, slot, entries, content_end, zone)
    unrendered = [piece for piece in ordered if piece.audio is None]
    if unrendered:
        problems.append(_problem("not_rendered", "warning", slot, occurrence, 0, unrendered))
    return FilledOccurrence(occurrence, tuple(entries), tuple(problems), tuple(carried), locked)
