"""One frozen settings object, built by the entry point and passed down.

Nothing reads the environment at import time: `Settings()` is called once in the CLI (or a
test fixture) and handed to whatever needs it. With neither `KAFKA_BOOTSTRAP_SERVERS` nor
`DATABASE_URL` set, the local services that `yiwang up` manages are used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_PROCESS_STARTED = datetime.now(UTC)
"""When this process started (as near as we can tell): a shifted clock runs on from then, so
every part of one process reads the same shifted time."""
DEV_JWT_SECRET = "yiwang-dev-secret-not-for-production"  # noqa: S105 - documented dev default


def _default_home() -> Path:
    return Path.home() / ".cache" / "yiwang"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YIWANG_", frozen=True, extra="ignore")

    home: Path = Field(default_factory=_default_home)
    """Where local services keep jars, data, logs and pid files (outside the repository)."""

    kafka_bootstrap_servers: str | None = Field(
        default=None,
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "YIWANG_KAFKA_BOOTSTRAP_SERVERS"),
    )
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "YIWANG_DATABASE_URL")
    )

    kafka_port: int = 39092
    kafka_controller_port: int = 39093
    kafka_heap: str = "768m"
    kafka_jars: Path | None = None
    """Where the broker's jars are (default: under home); lets a second broker share them."""
    pg_port: int = 54329
    pg_cluster: str = Field(default="yiwang", pattern=r"^[a-z][a-z0-9_]{0,30}$")
    """The Debian cluster name `up` creates and `down` stops (nothing else is ever touched)."""
    pg_database: str = "yiwang"
    pg_user: str = "yiwang"
    pg_password: str = "yiwang"  # noqa: S105 - the local cluster listens on 127.0.0.1 only

    topic_prefix: str = ""
    """Prepended to every topic name: lets tests (and staging) share a broker safely."""
    replication_factor: int = 1
    """Replication factor for the topics `yiwang up` declares (1 on a single local broker)."""

    api_host: str = "127.0.0.1"
    api_port: int = 8080
    metrics_port: int = 9108
    log_level: str = "INFO"

    jwt_secret: str = DEV_JWT_SECRET
    """HS256 key for API tokens. The default is for development only: the API warns when it is used."""
    token_ttl_s: int = 8 * 3600
    """Lifetime of a token issued by login or `yiwang token` (a shift), unless asked otherwise."""
    accounts_file: Path | None = None
    """Operator and grid-worker logins (salted scrypt hashes); None: config/accounts.toml."""
    sla_tick_s: float = 1.0
    """How often the SLA tracker claims due incidents."""
    clock_from: datetime | None = None
    """Run the process's clock from this instant on instead of the real time (ISO-8601 with an
    offset): to rehearse a date such as the New Year boundary, and for tests. None: real time."""

    @property
    def uses_dev_jwt_secret(self) -> bool:
        return self.jwt_secret == DEV_JWT_SECRET

    @property
    def uses_local_kafka(self) -> bool:
        return not self.kafka_bootstrap_servers

    @property
    def uses_local_db(self) -> bool:
        return not self.database_url

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap_servers or f"127.0.0.1:{self.kafka_port}"

    @property
    def db_url(self) -> str:
        """SQLAlchemy URL; `postgresql://` is normalised to the psycopg 3 driver."""
        url = self.database_url or (
            f"postgresql+psycopg://{self.pg_user}:{self.pg_password}"
            f"@127.0.0.1:{self.pg_port}/{self.pg_database}"
        )
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        elif url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgres://")
        return url

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    def to_env(self) -> dict[str, str]:
        """These settings as environment variables, for a child process (`yiwang worker` …)."""
        env: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            if name == "kafka_bootstrap_servers":
                env["KAFKA_BOOTSTRAP_SERVERS"] = str(value)
            elif name == "database_url":
                env["DATABASE_URL"] = str(value)
            else:
                env[f"YIWANG_{name.upper()}"] = str(value)
        return env

    def clock(self) -> Callable[[], datetime]:
        """The process's clock: the real time, or running on from `clock_from` since the process
        started."""
        if self.clock_from is None:
            return lambda: datetime.now(UTC)
        origin, started = self.clock_from, _PROCESS_STARTED
        if origin.tzinfo is None:
            raise ValueError("YIWANG_CLOCK_FROM: give the instant with its UTC offset")
        return lambda: origin + (datetime.now(UTC) - started)

    def topic(self, name: str) -> str:
        """The broker-side name of a declared topic."""
        return f"{self.topic_prefix}{name}"


OWN_VARIABLES = ("YIWANG_", "KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")


def child_environment(settings: Settings, parent: Mapping[str, str], **extra: str) -> dict[str, str]:
    """The parent's environment minus its own Yiwang settings, plus exactly `settings`: what a
    child `yiwang …` process gets so that it sees the same topics, database and ports."""
    env = {k: v for k, v in parent.items() if not k.startswith(OWN_VARIABLES)}
    return env | settings.to_env() | extra
