"""Delivery channels: each module gets a station's manifest and audio to it one way."""
