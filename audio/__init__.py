"""Speech and audio processing: Vietnamese text rules, speech engines, probing, loudness, encoding.

A pure library: it imports nothing of the central service, Flask or SQLAlchemy.
"""
