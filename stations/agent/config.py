"""The agent's one typed settings object, read from a TOML file and validated at start-up.

Every problem is reported with the key it concerns and what to write instead; an unknown key is an error too,
so a misspelt option never silently falls back to its default. :data:`KEYS` documents every key (the
``--help`` text is made from it).
"""

from __future__ import annotations

import math
import textwrap
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from stations.manifest.checks import STATION_CODE

EMERGENCY_RESUME = ("restart", "continue", "skip")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(ValueError):
    """The configuration cannot be used; ``key`` names the setting, the message says what to fix."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class Key:
    name: str
    default: str  # as shown in --help; "required" when there is none
    help: str


KEYS: tuple[Key, ...] = (
    Key("server_url", "required", "base URL of the central service, e.g. \"http://10.0.0.5:5000\""),
    Key("token", "required", "this station's bearer token (flask --app broadcast stations token CODE)"),
    Key("station", "required", "the station's code, e.g. \"HG1-01\""),
    Key("cache_dir", "required", "folder for the installed manifest, the verified audio and the as-run log"),
    Key("player", "required", "player command as a list; \"{file}\" is replaced by the audio file, an optional "
        "\"{offset}\" by the seconds to start at, e.g. [\"ffplay\",\"-nodisp\",\"-autoexit\",\"-loglevel\","
        "\"error\",\"{file}\"]"),
    Key("stream_player", "player with {url}", "command that plays a live stream (Icecast/HTTP MP3 or HLS) as a "
        "list; \"{url}\" is replaced by its URL, e.g. [\"ffplay\",\"-nodisp\",\"-loglevel\",\"error\",\"{url}\"]; "
        "by default the player command with the URL in place of {file}"),
    Key("stream_retry_s", "30", "while a relay's stream is down, try it again this often (the filler plays meanwhile)"),
    Key("player_env", "{}", "extra environment for the player, e.g. {SDL_AUDIODRIVER = \"dummy\"}"),
    Key("player_timeout_margin_s", "30", "a player still running this long after the entry's play time has failed"),
    Key("inbox_dir", "none", "folder an SSH push writes into (manifest.json, audio/<sha256>.mp3)"),
    Key("poll_interval_s", "60", "seconds between manifest polls (and inbox checks)"),
    Key("heartbeat_interval_s", "60", "seconds between heartbeats"),
    Key("late_skip_s", "120", "an entry that would start more than this late is skipped (emergencies never are)"),
    Key("emergency_resume", "\"restart\"", "what the normal entry an emergency interrupted does after it: "
        "\"restart\", \"continue\" (needs \"{offset}\" in player) or \"skip\""),
    Key("filler_file", "none", "audio played instead of scheduled audio that is missing or fails verification"),
    Key("mqtt_url", "none", "mqtt://host:1883 (or mqtts://): manifest nudges and commands arrive at once"),
    Key("mqtt_topic_prefix", "\"radio/stations\"", "topics are <prefix>/<station>/manifest and .../commands"),
    Key("volume", "100", "initial volume 0-100 (a set_volume command replaces it, kept across restarts)"),
    Key("volume_command", "none", "run on start and on set_volume; \"{volume}\" is replaced, e.g. "
        "[\"amixer\",\"sset\",\"Master\",\"{volume}%\"]"),
    Key("commands_wait_s", "25", "long-poll wait for remote commands over HTTP (0 turns HTTP commands off)"),
    Key("http_timeout_s", "30", "timeout of one HTTP request (a long poll adds its wait)"),
    Key("log_level", "\"INFO\"", "DEBUG, INFO, WARNING or ERROR"),
)


@dataclass(frozen=True)
class AgentConfig:
    """Everything the agent can be configured with; see :data:`KEYS`."""

    server_url: str
    token: str
    station: str
    cache_dir: Path
    player: tuple[str, ...]
    stream_player: tuple[str, ...] = ()
    stream_retry_s: float = 30.0
    player_env: dict[str, str] = field(default_factory=dict)
    player_timeout_margin_s: float = 30.0
    inbox_dir: Path | None = None
    poll_interval_s: float = 60.0
    heartbeat_interval_s: float = 60.0
    late_skip_s: float = 120.0
    emergency_resume: str = "restart"
    filler_file: Path | None = None
    mqtt_url: str | None = None
    mqtt_topic_prefix: str = "radio/stations"
    volume: int = 100
    volume_command: tuple[str, ...] | None = None
    commands_wait_s: float = 25.0
    http_timeout_s: float = 30.0
    log_level: str = "INFO"

    @property
    def stream_command(self) -> tuple[str, ...]:
        """The stream player: ``stream_player``, else ``player`` with the URL for the file (from its start)."""
        if self.stream_player:
            return self.stream_player
        return tuple(part.replace("{file}", "{url}").replace("{offset}", "0") for part in self.player)

    @property
    def player_can_seek(self) -> bool:
        return any("{offset}" in part for part in self.player)


def load_config(path: Path | str) -> AgentConfig:
    """Read and validate the TOML file at ``path``; raise :class:`ConfigError` naming the first bad key."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError("--config", f"cannot read {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError("--config", f"{path} is not valid TOML: {exc}") from None
    return parse_config(raw, base=path.parent)


def parse_config(raw: dict[str, Any], base: Path | None = None) -> AgentConfig:
    """Validate a parsed TOML table; relative paths are taken from ``base`` (the config file's folder)."""
    known = {key.name for key in KEYS}
    for name in raw:
        if name not in known:
            raise ConfigError(name, f"is not a setting of the station agent (known: {', '.join(sorted(known))})")
    values = dict(raw)
    base = base or Path.cwd()

    def required(name: str) -> Any:
        if name not in values:
            raise ConfigError(name, "is missing; it is required")
        return values[name]

    server_url = _string(required("server_url"), "server_url")
    parts = urlsplit(server_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("server_url", f"{server_url!r} must be an http:// or https:// URL with a host")
    token = _string(required("token"), "token")
    station = _string(required("station"), "station")
    if not STATION_CODE.fullmatch(station):
        raise ConfigError("station", f"{station!r} must be 2 to 40 letters, digits, dots, dashes or underscores")
    player = _command(required("player"), "player", "{file}")
    config = AgentConfig(
        server_url=server_url.rstrip("/"),
        token=token,
        station=station,
        cache_dir=_path(required("cache_dir"), "cache_dir", base),
        player=player,
        stream_player=(_command(values["stream_player"], "stream_player", "{url}")
                       if "stream_player" in values else ()),
        stream_retry_s=_number(values, "stream_retry_s", 30.0, minimum=1),
        player_env=_env(values.get("player_env", {}), "player_env"),
        player_timeout_margin_s=_number(values, "player_timeout_margin_s", 30.0, minimum=0),
        inbox_dir=_path(values["inbox_dir"], "inbox_dir", base) if "inbox_dir" in values else None,
        poll_interval_s=_number(values, "poll_interval_s", 60.0, minimum=0.1),
        heartbeat_interval_s=_number(values, "heartbeat_interval_s", 60.0, minimum=0.1),
        late_skip_s=_number(values, "late_skip_s", 120.0, minimum=0),
        emergency_resume=_choice(values, "emergency_resume", "restart", EMERGENCY_RESUME),
        filler_file=_path(values["filler_file"], "filler_file", base) if "filler_file" in values else None,
        mqtt_url=_mqtt_url(values["mqtt_url"]) if "mqtt_url" in values else None,
        mqtt_topic_prefix=_string(values.get("mqtt_topic_prefix", "radio/stations"), "mqtt_topic_prefix").strip("/"),
        volume=_volume(values.get("volume", 100)),
        volume_command=(_command(values["volume_command"], "volume_command", "{volume}")
                        if "volume_command" in values else None),
        commands_wait_s=_number(values, "commands_wait_s", 25.0, minimum=0),
        http_timeout_s=_number(values, "http_timeout_s", 30.0, minimum=0.1),
        log_level=_choice(values, "log_level", "INFO", LOG_LEVELS, upper=True),
    )
    if config.emergency_resume == "continue" and not config.player_can_seek:
        raise ConfigError("emergency_resume", "\"continue\" needs a player that can start part-way: put "
                          "\"{offset}\" in player (ffplay: \"-ss\",\"{offset}\"; mpv: \"--start={offset}\"), "
                          "or use \"restart\" or \"skip\"")
    if config.filler_file is not None and not config.filler_file.is_file():
        raise ConfigError("filler_file", f"{config.filler_file} is not a file")
    if config.inbox_dir is not None and config.inbox_dir.exists() and not config.inbox_dir.is_dir():
        raise ConfigError("inbox_dir", f"{config.inbox_dir} is not a folder")
    return config


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(key, f"must be a non-empty string, not {value!r}")
    return value.strip()


def _path(value: Any, key: str, base: Path) -> Path:
    path = Path(_string(value, key)).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _number(values: dict[str, Any], key: str, default: float, *, minimum: float) -> float:
    value = values.get(key, default)
    # type() rather than isinstance(): TOML's true is a bool, which Python also counts as an int.
    if type(value) not in (int, float) or not math.isfinite(value) or value < minimum:
        raise ConfigError(key, f"must be a number of at least {minimum:g}, not {value!r}")
    return float(value)


def _choice(values: dict[str, Any], key: str, default: str, choices: tuple[str, ...], upper: bool = False) -> str:
    value = values.get(key, default)
    if isinstance(value, str) and upper:
        value = value.upper()
    if value not in choices:
        raise ConfigError(key, f"must be one of {', '.join(repr(c) for c in choices)}, not {value!r}")
    return value


def _command(value: Any, key: str, placeholder: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(p, str) and p for p in value):
        raise ConfigError(key, f"must be a list of strings (the program, then its arguments), not {value!r}")
    if not any(placeholder in part for part in value):
        raise ConfigError(key, f"must contain {placeholder!r} where the agent puts its value")
    return tuple(value)


def _env(value: Any, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ConfigError(key, f"must be a table of strings, e.g. {{SDL_AUDIODRIVER = \"dummy\"}}, not {value!r}")
    return dict(value)


def _volume(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= 100:
        raise ConfigError("volume", f"must be a whole number from 0 to 100, not {value!r}")
    return value


def _mqtt_url(value: Any) -> str:
    url = _string(value, "mqtt_url")
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ConfigError("mqtt_url", f"{url!r} must look like mqtt://host:1883 or mqtts://host:8883")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError("mqtt_url", f"{url!r} has a bad port") from None
    return url


def describe_keys(width: int = 100) -> str:
    """The config keys as --help shows them."""
    column = max(len(key.name) for key in KEYS) + 4
    return "\n".join(
        textwrap.fill(f"{key.help} (default: {key.default})", width, initial_indent=f"  {key.name:<{column - 2}}",
                      subsequent_indent=" " * column, break_on_hyphens=False, break_long_words=False)
        for key in KEYS)
