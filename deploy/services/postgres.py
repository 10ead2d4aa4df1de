"""PostgreSQL 15 + PostGIS 3 from Debian packages, in a cluster of our own.

The cluster is named `yiwang` (port 25432 by default) so that `yiwang down` can stop exactly
what `yiwang up` started and never touches another cluster on the machine. As root (or with
passwordless sudo) it is a normal Debian cluster (`pg_createcluster`); as an ordinary user it
lives under the settings' home and runs as that user.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from config.settings import Settings
from deploy.services.common import ServiceError, as_root_prefix, port_open, run, say, wait_until
from deploy.services.packages import ensure_packages as ensure_debian_packages
from deploy.services.packages import missing_packages as missing_debian_packages

PG_MAJOR = "15"
PACKAGES = ("postgresql-15", "postgresql-15-postgis-3")
BIN = Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin")

# Settings for a dispatch workload on a small machine: durable commits stay on.
SERVER_OPTIONS = {
    "listen_addresses": "127.0.0.1",
    "max_connections": "200",
    "max_locks_per_transaction": "256",  # the intake locks a few merge cells per report
    "shared_buffers": "256MB",
    "work_mem": "16MB",
    "maintenance_work_mem": "128MB",
    "max_wal_size": "2GB",
    "checkpoint_completion_target": "0.9",
    "timezone": "UTC",
}


@dataclass(frozen=True, slots=True)
class PostgresState:
    installed: bool
    cluster_exists: bool
    running: bool


def missing_packages() -> list[str]:
    return missing_debian_packages(PACKAGES)


class LocalPostgres:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = settings.pg_port
        self.cluster = settings.pg_cluster
        self.privileged = os.geteuid() == 0 or _passwordless_sudo()
        self.user_data_dir = settings.home / "postgres" / PG_MAJOR / settings.pg_cluster
        self.socket_dir = settings.run_dir
        self.log_file = (
            Path(f"/var/log/postgresql/postgresql-{PG_MAJOR}-{self.cluster}.log")
            if self.privileged
            else settings.log_dir / "postgres.log"
        )

    # --- state ---------------------------------------------------------------------
    def cluster_exists(self) -> bool:
        if self.privileged:
            return Path(f"/etc/postgresql/{PG_MAJOR}/{self.cluster}/postgresql.conf").exists()
        return (self.user_data_dir / "PG_VERSION").exists()

    def running(self) -> bool:
        if not self.cluster_exists():
            return False
        if self.privileged:
            proc = subprocess.run(
                ["pg_lsclusters", "-h", PG_MAJOR, self.cluster],
                capture_output=True,
                text=True,
                check=False,
            )
            return " online" in proc.stdout
        pg_ctl = BIN / "pg_ctl"
        return (
            subprocess.run(
                [str(pg_ctl), "status", "-D", str(self.user_data_dir)],
                capture_output=True,
                check=False,
            ).returncode
            == 0
        )

    def state(self) -> PostgresState:
        return PostgresState(
            installed=not missing_packages(),
            cluster_exists=self.cluster_exists(),
            running=self.running(),
        )

    # --- steps ---------------------------------------------------------------------
    def ensure_packages(self) -> None:
        ensure_debian_packages(
            self.settings,
            PACKAGES,
            purpose="PostgreSQL 15 with PostGIS 3",
            otherwise="or set DATABASE_URL to an existing PostGIS",
        )

    def ensure_cluster(self) -> None:
        if self.cluster_exists():
            return
        if self.privileged:
            run(
                [
                    *as_root_prefix(),
                    "pg_createcluster",
                    PG_MAJOR,
                    self.cluster,
                    "-p",
                    str(self.port),
                    "--start-conf=manual",
                    "--",
                    "--auth-local=peer",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                what=f"pg_createcluster {PG_MAJOR} {self.cluster}",
            )
            conf_text = _server_conf(SERVER_OPTIONS)
            run(
                [*as_root_prefix(), "tee", f"/etc/postgresql/{PG_MAJOR}/{self.cluster}/conf.d/yiwang.conf"],
                what="write conf.d/yiwang.conf",
                input_text=conf_text,
            )
        else:
            self.user_data_dir.mkdir(parents=True, exist_ok=True)
            pwfile = self.settings.run_dir / "pg.pw"
            pwfile.parent.mkdir(parents=True, exist_ok=True)
            pwfile.write_text(self.settings.pg_password + "\n")
            run(
                [
                    str(BIN / "initdb"),
                    "-D",
                    str(self.user_data_dir),
                    "-U",
                    "postgres",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                what="initdb",
            )
            pwfile.unlink()
            with (self.user_data_dir / "postgresql.auto.conf").open("a") as conf:
                conf.write(
                    _server_conf(
                        {
                            **SERVER_OPTIONS,
                            "port": str(self.port),
                            "unix_socket_directories": str(self.socket_dir),
                        }
                    )
                )
        say(f"created PostgreSQL {PG_MAJOR} cluster '{self.cluster}' on port {self.port}")

    def configured_port(self) -> int | None:
        """The port the existing cluster is set to listen on (None when there is no cluster)."""
        if not self.cluster_exists():
            return None
        if self.privileged:
            out = subprocess.run(
                ["pg_lsclusters", "-h", PG_MAJOR, self.cluster], capture_output=True, text=True, check=False
            ).stdout.split()
            return int(out[2]) if len(out) > 2 and out[2].isdigit() else None
        ports = re.findall(
            r"^port = '(\d+)'$", (self.user_data_dir / "postgresql.auto.conf").read_text(), re.M
        )
        return int(ports[-1]) if ports else None

    def follow_port(self) -> None:
        """Move a stopped cluster created on another port (an older default) to the configured one.

        A running cluster is never restarted behind the user's back: they are told how to move it.
        """
        was = self.configured_port()
        if was is None or was == self.port:
            return
        if self.running():
            raise ServiceError(
                f"PostgreSQL cluster '{self.cluster}' runs on port {was}, but the configured port is "
                f"{self.port}: `yiwang down` then `yiwang up` moves it (or set YIWANG_PG_PORT={was})"
            )
        if self.privileged:
            run(
                [*as_root_prefix(), "pg_conftool", PG_MAJOR, self.cluster, "set", "port", str(self.port)],
                what=f"pg_conftool {PG_MAJOR} {self.cluster} set port {self.port}",
            )
        else:
            with (self.user_data_dir / "postgresql.auto.conf").open("a") as conf:
                conf.write(_server_conf({"port": str(self.port)}))
        say(f"PostgreSQL cluster '{self.cluster}' moved from port {was} to {self.port}")

    def start(self) -> str:
        self.ensure_packages()
        self.ensure_cluster()
        self.follow_port()
        if self.running():
            return "reused"
        if port_open(self.port):
            raise ServiceError(
                f"port {self.port} is taken by another process: stop it, set YIWANG_PG_PORT, "
                "or set DATABASE_URL to use an existing PostgreSQL"
            )
        say(f"starting PostgreSQL {PG_MAJOR} ('{self.cluster}') on 127.0.0.1:{self.port}")
        if self.privileged:
            run(
                [*as_root_prefix(), "pg_ctlcluster", PG_MAJOR, self.cluster, "start"],
                what=f"pg_ctlcluster {PG_MAJOR} {self.cluster} start (log: {self.log_file})",
            )
        else:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            run(
                [str(BIN / "pg_ctl"), "start", "-w", "-D", str(self.user_data_dir), "-l", str(self.log_file)],
                what=f"pg_ctl start (log: {self.log_file})",
            )
        if not wait_until(lambda: port_open(self.port), timeout_s=30):
            raise ServiceError(f"PostgreSQL did not open port {self.port}; see {self.log_file}")
        return "started"

    def stop(self) -> bool:
        if not self.running():
            return False
        say(f"stopping PostgreSQL cluster '{self.cluster}'")
        if self.privileged:
            run(
                [*as_root_prefix(), "pg_ctlcluster", PG_MAJOR, self.cluster, "stop", "-m", "fast"],
                what="pg_ctlcluster stop",
            )
        else:
            run(
                [str(BIN / "pg_ctl"), "stop", "-m", "fast", "-D", str(self.user_data_dir)], what="pg_ctl stop"
            )
        return True

    # --- database, role and extension ----------------------------------------------
    def psql(self, sql: str, *, database: str = "postgres") -> str:
        if self.privileged:
            cmd = [*as_root_prefix(), "runuser", "-u", "postgres", "--", "psql"]
            if os.geteuid() != 0:
                cmd = ["sudo", "-n", "-u", "postgres", "psql"]
            cmd += ["-p", str(self.port)]
        else:
            cmd = ["psql", "-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres"]
        cmd += ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql]
        return run(cmd, what=f"psql ({sql.split(maxsplit=1)[0]} …)")

    def ensure_database(self, name: str | None = None) -> bool:
        """Role, database and PostGIS extension; returns True when something was created."""
        s = self.settings
        database = _identifier(name or s.pg_database)
        user = _identifier(s.pg_user)
        password = s.pg_password.replace("'", "''")
        created = False
        if not self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{user}'").strip():  # noqa: S608
            self.psql(f"CREATE ROLE \"{user}\" LOGIN PASSWORD '{password}'")
            created = True
        if not self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'").strip():  # noqa: S608
            self.psql(f'CREATE DATABASE "{database}" OWNER "{user}"')
            created = True
        if not self.psql("SELECT 1 FROM pg_extension WHERE extname = 'postgis'", database=database).strip():
            self.psql("CREATE EXTENSION postgis", database=database)
            created = True
        return created

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{_identifier(name)}" WITH (FORCE)')


def _identifier(name: str) -> str:
    """Role and database names come from settings; only plain identifiers are accepted."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise ServiceError(f"{name!r} is not a plain PostgreSQL identifier (letters, digits, _)")
    return name


def _server_conf(options: dict[str, str]) -> str:
    return "".join(f"{key} = '{value}'\n" for key, value in options.items())


def _passwordless_sudo() -> bool:
    if shutil.which("sudo") is None:
        return False
    return subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False).returncode == 0
