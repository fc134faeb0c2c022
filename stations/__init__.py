"""The station side: the manifest wire format shared with the server, and the agent run at a station.

Installed alone on a station box, so it imports nothing of the central service.
"""
