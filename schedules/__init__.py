"""Pure air-time scheduling logic: slots and recurrence, placements, fit checks, playlist compilation.

Dataclasses in, dataclasses out; no database, no web framework, no clock of its own.
"""
