"""Pure air-time scheduling logic: slots and recurrence, placements, fit checks, playlist compilation.

Dataclasses in, dataclasses out; no database, no web framework, no clock of its own.
"""

from schedules.compile import compile_day, compile_days
from schedules.fingerprint import (
    SharedContent,
    canonical_content,
    content_text,
    fingerprint,
    fingerprint_content,
    playlist_text,
)
from schedules.fit import check_fits, fit_runs, lay_out
from schedules.media import AudioRef, StreamRef
from schedules.occurrences import DEFAULT_ZONE, Occurrence, localize, occurrence_key, occurrences
from schedules.ordering import CLASS_RANK, plan_occurrence, rank_key, rank_placements
from schedules.overlaps import Overlap, validate_slots
from schedules.placements import ITEM_CLASSES, CarriedItem, PlacementRule
from schedules.playlist import DayPlaylist, Entry, FilledOccurrence
from schedules.problems import KINDS, SEVERITIES, Problem
from schedules.recurrence import parse_rule, recurring_dates
from schedules.sequence import Piece, Run, sequence_runs
from schedules.showlock import DEFAULT_SHOWLOCK, is_locked, is_over
from schedules.slots import POLICIES, SlotRule, effective_slots, slot_aliases
from schedules.summary import ProblemSummary, format_duration, summarize_problems

__all__ = [
    "CLASS_RANK", "DEFAULT_SHOWLOCK", "DEFAULT_ZONE", "ITEM_CLASSES", "KINDS", "POLICIES", "SEVERITIES",
    "AudioRef", "CarriedItem", "DayPlaylist", "Entry", "FilledOccurrence", "Occurrence", "Overlap", "Piece",
    "PlacementRule", "Problem", "ProblemSummary", "Run", "SharedContent", "SlotRule", "StreamRef",
    "canonical_content", "check_fits", "content_text", "compile_day", "compile_days", "effective_slots", "fingerprint",
    "fingerprint_content", "fit_runs", "playlist_text",
    "format_duration", "is_locked", "is_over", "lay_out", "localize", "occurrence_key", "occurrences",
    "parse_rule", "plan_occurrence", "rank_key", "rank_placements", "recurring_dates", "sequence_runs",
    "slot_aliases", "summarize_problems", "validate_slots",
]
