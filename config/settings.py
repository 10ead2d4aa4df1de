"""One frozen settings object, built by the entry point and passed down.

Nothing reads the environment at import time: `Settings()` is called once in the CLI (or a
test fixture) and handed to whatever needs it. With neither `KAFKA_BOOTSTRAP_SERVERS` nor
`DATABASE_URL` set, the local services that `yiwang up` manages are used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PROCESS_STARTED = datetime.now(UTC)
"""When this process started (as near as we can tell): a shifted clock runs on from then, so
every part of one process reads the same shifted time."""
DEV_JWT_SECRET = "yiwang-dev-secret-not-for-production"  # noqa: S105 - documented dev default
DEV_SEARCH_KEY = "yiwang-dev-search-key-not-for-production"


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

    kafka_port: int = 29092
    """Local ports sit below 32768, outside Linux's ephemeral range (32768–60999): an outgoing
    connection can never hold one for a moment while a broker or PostgreSQL restarts on it."""
    kafka_controller_port: int = 29093
    kafka_heap: str = "768m"
    kafka_brokers: int = Field(default=1, ge=1, le=9)
    """How many KRaft nodes the local Kafka has: 1, or a replicated cluster (3: a controller
    quorum of three, topics at replication factor 3, min.insync.replicas 2)."""
    kafka_node_heap: str = "320m"
    """JVM heap of each node of a local multi-broker cluster (three JVMs share one machine)."""
    kafka_port_step: int = 10
    """Node i of a local cluster listens on kafka_port + i * step (its controller likewise)."""
    kafka_jars: Path | None = None
    """Where the broker's jars are (default: under home); lets a second broker share them."""
    pg_port: int = 25432
    pg_cluster: str = Field(default="yiwang", pattern=r"^[a-z][a-z0-9_]{0,30}$")
    """The Debian cluster name `up` creates and `down` stops (nothing else is ever touched)."""
    pg_database: str = "yiwang"
    pg_user: str = "yiwang"
    pg_password: str = "yiwang"  # noqa: S105 - the local cluster listens on 127.0.0.1 only

    topic_prefix: str = ""
    """Prepended to every topic name: lets tests (and staging) share a broker safely."""
    replication_factor: int = 1
    """Replication factor for the topics `yiwang up` declares: 1 on a single local broker;
    unless set, min(3, kafka_brokers) on a local cluster. Set it for an external cluster."""

    api_host: str = "127.0.0.1"
    api_port: int = 8080
    metrics_port: int = 9108
    log_level: str = "INFO"

    jwt_secret: str = DEV_JWT_SECRET
    """HS256 key for API tokens. The default is for development only: the API warns when it is used."""
    search_key: str = DEV_SEARCH_KEY
    """HMAC key of the reporters' phone index (dispatch/search): a phone is searchable through
    its keyed hash only. Changing it needs `yiwang search reindex`; the API warns on the default."""
    token_ttl_s: int = 8 * 3600
    """Lifetime of a token issued by login or `yiwang token` (a shift), unless asked otherwise."""
    accounts_file: Path | None = None
    """Operator and grid-worker logins (salted scrypt hashes); None: config/accounts.toml."""
    channels_file: Path | None = None
    """Notification channels, routes and templates of the notices; None: config/channels.toml."""
    sla_tick_s: float = 1.0
    """How often the SLA tracker claims due incidents."""
    clock_from: datetime | None = None
    """Run the process's clock from this instant on instead of the real time (ISO-8601 with an
    offset): to rehearse a date such as the New Year boundary, and for tests. None: real time."""

    @model_validator(mode="before")
    @classmethod
    def _replicate_on_a_cluster(cls, data: Any) -> Any:
        """A local cluster replicates its topics unless told otherwise (`kafka_brokers=3` alone
        gives replication factor 3)."""
        if isinstance(data, dict) and "replication_factor" not in data:
            brokers = int(data.get("kafka_brokers", 1))
            if brokers > 1:
                return {**data, "replication_factor": min(3, brokers)}
        return data

    @property
    def min_insync_replicas(self) -> int:
        """Writes with acks=all need this many replicas in sync: 2 of 3, 1 without replication."""
        return 2 if self.replication_factor >= 3 else 1

    @property
    def local_kafka_ports(self) -> list[tuple[int, int]]:
        """(client port, controller port) of each local node, node 1 first."""
        return [
            (self.kafka_port + step, self.kafka_controller_port + step)
            for step in range(0, self.kafka_brokers * self.kafka_port_step, self.kafka_port_step)
        ]

    @property
    def uses_dev_jwt_secret(self) -> bool:
        return self.jwt_secret == DEV_JWT_SECRET

    @property
    def uses_dev_search_key(self) -> bool:
        return self.search_key == DEV_SEARCH_KEY

    @property
    def uses_local_kafka(self) -> bool:
        return not self.kafka_bootstrap_servers

    @property
    def uses_local_db(self) -> bool:
        return not self.database_url

    @property
    def bootstrap_servers(self) -> str:
        if self.kafka_bootstrap_servers:
            return self.kafka_bootstrap_servers
        return ",".join(f"127.0.0.1:{port}" for port, _ in self.local_kafka_ports)

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
