"""The command line: ``python -m stations.agent --config station.toml`` (``radio-agent`` once installed).

Exit status: 0 when done (``--once``, ``--check-config``, or stopped by SIGTERM/SIGINT), 1 when ``--once``
could not bring the station up to date, 2 when the command line or the configuration is wrong.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import sys
from collections.abc import Sequence

from stations.agent import AGENT_VERSION
from stations.agent.config import ConfigError, describe_keys, load_config

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2

EPILOG = f"""\
configuration keys (TOML, one file per station):
{describe_keys()}

example station.toml:
  server_url = "http://127.0.0.1:5000"
  token = "st_..."
  station = "HG1-01"
  cache_dir = "/var/lib/radio-agent"
  player = ["ffplay", "-nodisp", "-autoexit", "-loglevel", "error", "{{file}}"]
  player_env = {{SDL_AUDIODRIVER = "dummy"}}   # only without a sound card (tests, demos)
  filler_file = "/var/lib/radio-agent/filler.mp3"

exit status: 0 done, 1 --once could not sync, 2 bad command line or configuration
"""


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog="radio-agent",
        description="Commune radio station agent: fetches the station's schedule and audio, airs it on time "
                    "through a player command, and reports what aired (as-run log), its heartbeat and commands.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    result.add_argument("--config", "-c", required=True, metavar="FILE", help="the station's TOML configuration")
    mode = result.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true",
                      help="sync once (manifest and audio, receipt, as-run events), then exit")
    mode.add_argument("--check-config", action="store_true", help="validate the configuration and exit")
    result.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="overrides log_level from the configuration")
    result.add_argument("--version", action="version", version=f"radio-agent {AGENT_VERSION}")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"radio-agent: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    logging.basicConfig(level=args.log_level or config.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if shutil.which(config.player[0]) is None:
        logging.getLogger(__name__).error("player: %s is not installed (or not on PATH): nothing can air",
                                          config.player[0])
    if args.check_config:
        print(f"configuration OK: station {config.station}, server {config.server_url}, cache {config.cache_dir}")
        return EXIT_OK

    from stations.agent.agent import Agent  # after the config check: --check-config needs no network libraries

    agent = Agent(config)
    try:
        if args.once:
            problems = agent.sync_once()
            try:
                agent.deliver_events()
            except Exception as exc:  # noqa: BLE001 - events stay queued for the next run
                logging.getLogger(__name__).warning("as-run events not delivered: %s", exc)
            installed = agent.syncer.installed
            print(f"installed version: {installed.version if installed else 'none'}")
            return EXIT_FAILED if problems else EXIT_OK
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: agent.stop())
        agent.run()
        return EXIT_OK
    finally:
        agent.close()
