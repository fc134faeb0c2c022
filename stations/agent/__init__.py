"""The station agent: keeps a commune station's schedule, airs it on time and reports what aired.

Run it with ``python -m stations.agent --config station.toml`` (or the ``radio-agent`` wrapper that
``stations/agent/install.sh`` writes). It imports only :mod:`stations.manifest` and small libraries
(requests, paho-mqtt), since it is installed alone on a station box.

Modules, each named after what it does:

- :mod:`~stations.agent.config`: the one typed settings object, read from TOML and validated at start-up;
- :mod:`~stations.agent.server`: the HTTP calls to the central service (timeouts, bounded retries);
- :mod:`~stations.agent.cache`: the audio cache and the installed manifest on disk (verified, atomic);
- :mod:`~stations.agent.sync`: getting a new manifest and its audio, over HTTP or from an SSH push inbox;
- :mod:`~stations.agent.asrun`: the as-run log and small persistent state, in a local SQLite file;
- :mod:`~stations.agent.player`: the player command as a subprocess;
- :mod:`~stations.agent.playout`: the engine that decides what plays when (injectable clock and player), and
  :mod:`~stations.agent.jobs`, what it airs, and :mod:`~stations.agent.relay`, the bookkeeping and the probe
  of live relays;
- :mod:`~stations.agent.commands`: remote commands (play now, play a stream, stop, volume, emergencies);
- :mod:`~stations.agent.nudges`: the optional MQTT subscription;
- :mod:`~stations.agent.agent`: the threads that run all of it; :mod:`~stations.agent.cli`: the command line.
"""

# 1.1.0: live relays (manifest entries of kind stream, the play_stream command). An older agent refuses a
# manifest that holds a relay, and keeps airing the one it has.
AGENT_VERSION = "1.1.0"
