"""One typed settings object for the central service, validated at start-up.

Values come, strongest first, from: arguments given to ``load_settings`` (tests), environment
variables, the optional file ``<instance>/config.toml``, then the defaults below. A bad value stops
the program with a message that names the setting and says what to fix.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"
SUPPORTED_DATABASES = ("sqlite", "postgresql")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")  # where a service listens for this machine alone
_PUBLIC_URL = re.compile(r"https?://[^/\s?#@]+(/[^\s?#]*)?")  # no query, fragment or user


class ConfigError(Exception):
    """The configuration cannot be used; the message says which setting and what to fix."""


class _InstanceToml(PydanticBaseSettingsSource):
    """Reads ``config.toml`` from the instance folder, if there is one."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path):
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        if path.is_file():
            try:
                raw = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{path.name}: không đọc được tệp TOML ({exc}). / invalid TOML.") from exc
            self._data = {key.lower(): value for key, value in raw.items()}

    def get_field_value(self, field, field_name):  # pragma: no cover - required by the base class
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    """Everything the service can be configured with."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    instance_path: Path = DEFAULT_INSTANCE
    database_url: str = ""
    audio_dir: Path | None = None
    # Where the audio is kept: "" = files under AUDIO_DIR (one node); s3://bucket/prefix = an S3-compatible object
    # store that several nodes share. Its credentials come from boto3's chain (AWS_ACCESS_KEY_ID and
    # AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role), never from this file.
    audio_store_url: str = Field(default="", pattern=r"^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s?#]*)?)?$")
    # The store's address when it is not AWS, e.g. http://minio:9000; and the address stations reach it by,
    # when that differs (a presigned link names its host, so it cannot be rewritten afterwards).
    audio_store_endpoint_url: str = Field(default="", pattern=r"^(https?://[^\s/?#@]+/?)?$")
    audio_store_public_endpoint_url: str = Field(default="", pattern=r"^(https?://[^\s/?#@]+/?)?$")
    audio_store_region: str = Field(default="", pattern=r"^[a-z0-9-]*$")
    # With a bucket: stations fetch audio from it by a presigned link ("redirect", the service answers 302), or
    # through the service ("stream"); and how long a presigned link works.
    audio_store_serve: Literal["redirect", "stream"] = "redirect"
    audio_store_url_expiry_s: int = Field(default=300, ge=10, le=7 * 24 * 3600)
    # With a bucket: this node's copies of the audio it needed as files (ffmpeg, SFTP push); may be emptied.
    audio_cache_dir: Path | None = None
    # ... kept under this size by removing the files used longest ago (0: no bound).
    audio_cache_max_mb: int = Field(default=5120, ge=0)
    timezone: str = "Asia/Ho_Chi_Minh"
    tts_engine: Literal["espeak", "gtts", "edge", "http"] = "espeak"
    tts_fallback_engine: Literal["espeak", "gtts", "edge", "http"] = "espeak"
    # Voice of the configured engine; empty: the engine's own default (espeak-ng "vi").
    tts_voice: str = ""
    # One table per engine, e.g. in config.toml: [tts_options.http] url = "https://tts.example/v1"
    tts_options: dict[str, Any] = Field(default_factory=dict)
    tts_timeout_s: float = Field(default=20.0, gt=0)
    tts_retries: int = Field(default=2, ge=0, le=10)
    # The one format every station receives, and the loudness it is normalized to (EBU R128-style).
    station_bitrate: str = Field(default="64k", pattern=r"^\d{2,3}k$")
    station_sample_rate: int = Field(default=44100, ge=8000, le=48000)
    target_lufs: float = Field(default=-16.0, ge=-40, le=-5)
    true_peak_db: float = Field(default=-1.0, ge=-9, le=0)
    upload_max_mb: int = Field(default=200, ge=1)
    upload_max_minutes: float = Field(default=90, gt=0)
    default_locale: Literal["vi", "en"] = "vi"
    secret_key: str = ""
    # A slot occurrence this close to air no longer changes, except for emergency items.
    showlock_minutes: int = Field(default=30, ge=0, le=24 * 60)
    # How many days ahead playlists are compiled and sent (stations must keep playing offline for days).
    schedule_days: int = Field(default=7, ge=1, le=31)
    # Processes that share a large compile (thousands of stations, e.g. the nightly one): 0 = one per CPU
    # (at most 4), 1 = compile in the calling process only.
    compile_workers: int = Field(default=0, ge=0, le=32)
    # A station that has not been heard from for this long is shown offline.
    station_offline_after_s: int = Field(default=180, ge=30)
    # The station map's tiles, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png ("" = no tiles: the map draws
    # the area's outline and communes from the service's own data, so it works without internet), and the
    # attribution the tile provider asks for.
    map_tile_url: str = Field(default="", pattern=r"^(https?://[^\s\"'<>]+)?$")
    map_tile_attribution: str = Field(default="", max_length=300)
    # MQTT broker for nudging agents at once when their manifest changes ("" = no broker; agents still poll),
    # e.g. mqtt://127.0.0.1:1883. Each station's topic is <prefix>/<code>/manifest, retained.
    mqtt_url: str = Field(default="", pattern=r"^(mqtts?://[^/:]+(:\d+)?/?)?$")
    mqtt_topic_prefix: str = Field(default="radio/stations", pattern=r"^[^#+]+$")
    # Redis for the web nodes of one service that share a PostgreSQL database but not an instance folder
    # (e.g. redis://127.0.0.1:6379/0): command wake-ups and cache drops are published on REDIS_CHANNEL so
    # every node hears them. "" = one node: the instance folder carries them (generation files, local sockets).
    redis_url: str = Field(default="", pattern=r"^((rediss?|unix)://\S+)?$")
    redis_channel: str = Field(default="radio:wakeups", min_length=1, pattern=r"^\S+$")
    # A task queue for when one machine is not enough (e.g. amqp://guest:guest@127.0.0.1:5672// for RabbitMQ,
    # redis://127.0.0.1:6379/1): the scheduler then sends rendering, compile shares and SFTP pushes to
    # `flask jobs worker` processes on any machine. "" = the scheduler does that work itself.
    task_broker_url: str = Field(default="", pattern=r"^((amqps?|pyamqp|rediss?)://\S+)?$")
    # The broker's queue for this service's tasks (several services, or test runs, may share one broker).
    task_queue: str = Field(default="broadcast", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    # Work sent to the queue and still not finished after this long is taken as lost and sent again.
    task_lost_after_s: int = Field(default=900, ge=60)
    # Stations per compile task on the queue (communes are never split).
    task_compile_stations: int = Field(default=200, ge=1, le=10_000)
    # SFTP push: the service's private key (made on first use, its public half goes into each station's
    # authorized_keys), how many stations at once, and the retry schedule of failed pushes.
    ssh_key_path: Path | None = None
    delivery_concurrency: int = Field(default=8, ge=1, le=256)
    delivery_timeout_s: float = Field(default=60.0, gt=0)
    delivery_retry_base_s: float = Field(default=30.0, gt=0)
    delivery_retry_cap_s: float = Field(default=3600.0, gt=0)
    delivery_max_attempts: int = Field(default=20, ge=1)
    # Emergency broadcasts: a second approver must approve one before it is sent (the two-person rule), and a
    # station that has not acknowledged one this long after it was sent is listed as silent.
    emergency_two_person: bool = True
    emergency_silent_after_s: int = Field(default=60, ge=5, le=3600)
    # E-mail to the approvers of an area while an emergency broadcast waits for them: the mail server as
    # smtp://host:25 (smtps:// for TLS from the start; user:password@ when it asks for a login) and the sender.
    # "" = no e-mail (the banner on the pages and the emergency.pending webhook event still tell them).
    smtp_url: str = Field(default="", pattern=r"^(smtps?://\S+)?$")
    smtp_from: str = Field(default="radio@localhost", pattern=r"^[^\s,<>]+@[^\s,<>]+$")
    # CAP 1.2 alerts: senders whose "Actual" alerts air without a person approving them (e.g. the national
    # disaster authority); alerts from any other sender wait for an approver. "" or [] trusts nobody.
    cap_trusted_senders: list[str] = Field(default_factory=list)
    # Senders whose alerts are accepted at all (empty: any sender; a file from anyone else is refused).
    cap_accepted_senders: list[str] = Field(default_factory=list)
    # How this service signs the CAP alerts it publishes: <sender> (an address, no spaces or commas) and a name.
    cap_sender: str = Field(default="commune-radio@province.invalid", pattern=r"^[^\s,<&]+$")
    cap_sender_name: str = "Đài truyền thanh cơ sở"
    # Live announcements (the "speak now" page, broadcast.services.live_relay): the Icecast server the service feeds,
    # with its source password, as icecast://source:PASSWORD@127.0.0.1:8000 ("" = no live announcements), and
    # that server's address as stations reach it, e.g. http://stream.tuyenquang.gov.vn:8000 (each announcement
    # gets a mount of its own under it; "" = the feed's host and port over http). The longest announcement one
    # may start, and how long the speaker's browser may send no audio before the announcement ends by itself.
    live_icecast_url: str = Field(default="", pattern=r"^(icecast://[^\s/@:]+:[^\s/@]+@[^\s/:]+(:\d+)?/?)?$")
    live_listen_url: str = Field(default="", pattern=r"^(https?://[^\s?#@]+)?$")
    live_max_minutes: int = Field(default=60, ge=1, le=360)
    live_silence_s: float = Field(default=10.0, ge=2, le=120)
    # The service's address as people and their players reach it, e.g. https://radio.tuyenquang.gov.vn, for the
    # absolute links in exported playlists. "" = the address of each request, which behind a reverse proxy may
    # be an internal one.
    public_url: str = ""
    # Networks that webhooks and CAP audio downloads may reach although they are not public (loopback, private,
    # link-local…), as comma-separated CIDRs, e.g. "10.20.0.0/16" for a receiver on the province's network.
    # "" = public addresses only, so nobody can make the service call the machines around it.
    outbound_allow_networks: str = ""
    # Statistics pushed up to the provincial or national data-sharing platform (LGSP/NGSP): each night the previous
    # day's figures of STATISTICS_PUSH_AREA (a code; "" = every province with stations) go to STATISTICS_PUSH_URL
    # ("" = no push), retried with backoff until acknowledged. Authenticated by a static bearer token, or by an
    # OAuth2 client-credentials token from STATISTICS_OAUTH_TOKEN_URL (what LGSP gateways commonly ask for).
    statistics_push_url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    statistics_push_area: str = ""
    statistics_push_token: str = ""
    statistics_oauth_token_url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    statistics_oauth_client_id: str = ""
    statistics_oauth_client_secret: str = ""
    statistics_oauth_scope: str = ""
    # The address the web service listens on (scripts/run binds gunicorn to HOST); only decides the default of
    # SESSION_COOKIE_SECURE below.
    host: str = "127.0.0.1"
    # A person's session ends this long after logging in, or after this long without a request, whichever is
    # first; logging out ends it on the server at once (broadcast.web.sessions).
    session_lifetime_hours: float = Field(default=12, gt=0, le=31 * 24)
    session_idle_minutes: float = Field(default=60, gt=0, le=31 * 24 * 60)
    # Send the session cookie over HTTPS only. Default: on, unless the service listens on this machine alone
    # (127.0.0.1, localhost), where there is no HTTPS; behind a TLS proxy it must stay on.
    session_cookie_secure: bool | None = None
    # Login throttling (broadcast.web.login_throttle), in the "N per period" notation of the limits library
    # ("5 per 15 minutes", several separated by ";"): every attempt from one client address; attempts on one
    # account from one address (cleared by a successful login); attempts on one account from all addresses,
    # beyond which each address gets only its first attempt checked. Nothing ever locks the right password out.
    login_limit_per_address: str = "30 per minute;300 per hour"
    login_limit_per_account_address: str = "5 per 15 minutes"
    login_limit_per_account: str = "30 per hour"
    # Two-factor login (TOTP, broadcast.web.two_factor): the roles that must have it, separated by commas ("" for
    # none); after the password, such a person without it is sent to enrol before anything else. Optional for
    # the other roles. Logins through the identity provider (OIDC) and API tokens are not asked for a code.
    totp_required_roles: str = Field(default="admin,approver", pattern=r"^\s*((admin|editor|approver|operator)"
                                                                      r"\s*(,\s*|$))*$")
    # Single sign-on through the province's OpenID Connect identity provider (broadcast.web.sso): its issuer as the
    # ID tokens name it, e.g. https://sso.tuyenquang.gov.vn/realms/egov ("" = off: no button, no routes), this
    # service's client id and secret there, the ID token claim that holds the username of an existing account
    # here (accounts, roles and areas are still managed here), the scopes asked for and the button's text.
    oidc_issuer: str = Field(default="", pattern=r"^(https?://[^\s?#]+)?$")
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_username_claim: str = Field(default="preferred_username", min_length=1)
    oidc_scopes: str = "openid profile email"
    oidc_label: str = Field(default="Đăng nhập một lần (SSO)", min_length=1, max_length=80)
    # Reverse proxies in front of the service that append the client's address to X-Forwarded-For (and set
    # X-Forwarded-Proto), e.g. 1 behind one nginx. 0: none, the connection's address is the client's. Behind a
    # proxy it must be set, or every person shares the proxy's address and its login throttle.
    trusted_proxies: int = Field(default=0, ge=0, le=5)
    sql_echo: bool = False

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        instance = Path(os.environ.get("INSTANCE_PATH", DEFAULT_INSTANCE))
        init_instance = init_settings().get("instance_path")
        if init_instance:
            instance = Path(init_instance)
        return (init_settings, env_settings, _InstanceToml(settings_cls, instance / "config.toml"))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Ho_Chi_Minh") from exc
        return value

    @field_validator("public_url")
    @classmethod
    def _service_address(cls, value: str) -> str:
        if value and not _PUBLIC_URL.fullmatch(value):
            raise ValueError(f"{value!r} is not the address of a web service; write it as https://radio.example.vn")
        return value.rstrip("/")  # links are made by appending a path that starts with "/"

    @field_validator("outbound_allow_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        from broadcast.channels.outbound import parse_networks

        parse_networks(value)  # raises ValueError naming the bad part
        return value

    @field_validator("login_limit_per_address", "login_limit_per_account_address", "login_limit_per_account")
    @classmethod
    def _rate_limits(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate limit; write it as '5 per 15 minutes'") from None
        return value

    @field_validator("oidc_issuer")
    @classmethod
    def _identity_provider(cls, value: str) -> str:
        # Tokens and the client secret cross this connection: plain HTTP only to a provider on this machine.
        host = urlsplit(value).hostname or ""
        if value.startswith("http://") and host not in LOCAL_HOSTS and not host.startswith("127."):
            raise ValueError(f"{value!r}: the identity provider must be reached over https://")
        return value

    @field_validator("oidc_client_id")
    @classmethod
    def _client_of_the_provider(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("oidc_issuer") and not value:
            raise ValueError("OIDC_ISSUER is set: give the client id this service has at the identity provider")
        return value

    @field_validator("oidc_scopes")
    @classmethod
    def _openid_scope(cls, value: str) -> str:
        if "openid" not in value.split():
            raise ValueError(f"{value!r} lacks the scope openid, without which no ID token is issued")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(
                "not a database URL; use sqlite:///path/to/file.db or postgresql://user@host:5432/name"
            ) from exc
        if url.get_backend_name() not in SUPPORTED_DATABASES:
            raise ValueError(f"database {url.get_backend_name()!r} is not supported; use sqlite or postgresql")
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, with the SQLite default in the instance folder and psycopg 3 as driver."""
        if not self.database_url:
            return f"sqlite:///{self.instance_path / 'broadcast.db'}"
        url = make_url(self.database_url)
        if url.drivername == "postgresql":  # name the driver we install, whatever SQLAlchemy's default
            url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False)

    @property
    def resolved_ssh_key_path(self) -> Path:
        return self.ssh_key_path or self.instance_path / "ssh" / "id_ed25519"

    @property
    def resolved_audio_dir(self) -> Path:
        return self.audio_dir or self.instance_path / "audio"

    @property
    def resolved_audio_cache_dir(self) -> Path:
        return self.audio_cache_dir or self.instance_path / "audio-cache"

    @property
    def resolved_session_cookie_secure(self) -> bool:
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return self.host.strip("[]") not in LOCAL_HOSTS

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]).upper() or "?"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"  {name}: {message}")
    return "Cấu hình không hợp lệ (invalid configuration):\n" + "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Build and check the settings; prepare the instance folder and the secret key.

    Raises ConfigError with a message for people, never a traceback.
    """
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    _prepare_instance(settings)
    _check_speech(settings)
    if not settings.secret_key:
        settings = settings.model_copy(update={"secret_key": _instance_secret(settings.instance_path)})
    return settings


def _check_speech(settings: Settings) -> None:
    """Build the configured engines once, so a bad engine option stops start-up instead of every render."""
    from broadcast.audio_setup import speech_engine

    for name in {settings.tts_engine, settings.tts_fallback_engine}:
        try:
            speech_engine(settings, name)
        except ValueError as exc:
            raise ConfigError(f"Cấu hình không hợp lệ (invalid configuration):\n  TTS_OPTIONS.{name}: {exc}") from None


def _prepare_instance(settings: Settings) -> None:
    folders = [(settings.instance_path, "INSTANCE_PATH"), (settings.resolved_audio_dir, "AUDIO_DIR")]
    if settings.audio_store_url:
        folders.append((settings.resolved_audio_cache_dir, "AUDIO_CACHE_DIR"))
    for folder, name in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"Cấu hình không hợp lệ (invalid configuration):\n  {name}: cannot create {folder} ({exc.strerror})"
            ) from None
        if not os.access(folder, os.W_OK):
            raise ConfigError(
                f"Cấu hình không hợp lệ (invalid configuration):\n  {name}: {folder} is not writable"
            )


def _instance_secret(instance: Path) -> str:
    """The session-signing key, generated once into the instance folder and never committed."""
    path = instance / "secret_key"
    if path.is_file():
        return path.read_text(encoding="ascii").strip()
    key = secrets.token_hex(32)
    # Create with owner-only permissions, atomically, so two starting processes agree on one key.
    tmp = instance / f".secret_key.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key)
    try:
        os.link(tmp, path)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
    finally:
        tmp.unlink()
    return key
