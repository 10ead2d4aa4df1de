"""A single-node Apache Kafka (KRaft) from Maven Central jars, owned by this project.

Jars, data, config, log and pid file live under the settings' home (~/.cache/yiwang), never
in the repository. Every step is idempotent: a running, healthy broker is reused.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.errors import KafkaConnectionError, KafkaTimeoutError

from config.settings import Settings
from deploy.services.common import (
    ServiceError,
    port_open,
    process_alive,
    process_cmdline,
    read_pid,
    require_tool,
    run,
    say,
    stream,
    terminate,
    wait_until,
)

KAFKA_DIR = Path(__file__).resolve().parent.parent / "kafka"
POM = KAFKA_DIR / "pom.xml"
PROPERTIES_TEMPLATE = KAFKA_DIR / "server.properties"
START_TIMEOUT_S = 90.0
# What "the broker does not answer" looks like; a configuration error must still surface.
UNREACHABLE = (KafkaConnectionError, KafkaTimeoutError, OSError)


def pinned_version(pom: Path = POM) -> str:
    """The broker version the pom pins (the `kafka.version` property)."""
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom.read_text())
    if match is None:
        raise ServiceError(f"{pom}: no <kafka.version> property")
    return match.group(1).strip()


@dataclass(frozen=True, slots=True)
class KafkaState:
    running: bool
    pid: int | None
    healthy: bool


class LocalKafka:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.version = pinned_version()
        root = settings.home / "kafka"
        self.lib_dir = settings.kafka_jars or root / self.version / "lib"
        self.data_dir = root / f"data-{self.version}"
        self.config_path = root / "server.properties"
        self.pid_file = settings.run_dir / "kafka.pid"
        self.log_file = settings.log_dir / "kafka.log"

    # --- state ---------------------------------------------------------------------
    def pid(self) -> int | None:
        """The pid of *our* broker, if it is alive (a stale or reused pid does not count)."""
        pid = read_pid(self.pid_file)
        if pid is None or not process_alive(pid):
            return None
        cmdline = process_cmdline(pid)
        if "kafka.Kafka" not in cmdline or str(self.config_path) not in cmdline:
            return None
        return pid

    def healthy(self) -> bool:
        return broker_reachable(self.settings.bootstrap_servers, timeout_ms=3000)

    def state(self) -> KafkaState:
        pid = self.pid()
        return KafkaState(running=pid is not None, pid=pid, healthy=pid is not None and self.healthy())

    # --- steps ---------------------------------------------------------------------
    def ensure_jars(self) -> None:
        marker = self.lib_dir / ".complete"
        if marker.exists():
            return
        require_tool("java", "install a Java 17+ runtime (apt-get install openjdk-17-jre-headless)")
        mvn = require_tool("mvn", "install Maven (apt-get install maven)")
        say(f"fetching Apache Kafka {self.version} jars from Maven Central (first run only)")
        self.lib_dir.mkdir(parents=True, exist_ok=True)
        counter = {"n": 0}

        def progress(line: str) -> str | None:
            if "Downloaded from" in line:
                counter["n"] += 1
                if counter["n"] % 10 == 0:
                    return f"  … {counter['n']} artifacts downloaded"
            return None

        stream(
            [
                mvn,
                "-B",
                "-f",
                str(POM),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={self.lib_dir}",
            ],
            what="mvn dependency:copy-dependencies (is Maven Central reachable?)",
            show=progress,
            log_file=self.settings.log_dir / "kafka-fetch.log",
        )
        jars = list(self.lib_dir.glob("*.jar"))
        if not any(j.name.startswith(f"kafka_2.13-{self.version}") for j in jars):
            raise ServiceError(f"Maven finished but kafka_2.13-{self.version}.jar is missing")
        marker.write_text(f"{len(jars)} jars\n")
        say(f"Kafka {self.version}: {len(jars)} jars in {self.lib_dir}")

    def write_config(self) -> None:
        text = PROPERTIES_TEMPLATE.read_text().format(
            port=self.settings.kafka_port,
            controller_port=self.settings.kafka_controller_port,
            data_dir=self.data_dir,
        )
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        if not self.config_path.exists() or self.config_path.read_text() != text:
            self.config_path.write_text(text)

    def ensure_formatted(self) -> None:
        if (self.data_dir / "meta.properties").exists():
            return
        java = require_tool("java", "install a Java 17+ runtime")
        classpath = f"{self.lib_dir}/*"
        cluster_id = (
            run(
                [java, "-cp", classpath, "kafka.tools.StorageTool", "random-uuid"],
                what="kafka-storage random-uuid",
            )
            .strip()
            .splitlines()[-1]
        )
        run(
            [
                java,
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(self.config_path),
                "--standalone",
            ],
            what="kafka-storage format",
        )
        say(f"formatted Kafka storage in {self.data_dir} (cluster {cluster_id})")

    def start(self) -> str:
        """Bring the broker up; returns what happened ('reused' or 'started')."""
        if self.pid() is not None:
            if wait_until(self.healthy, timeout_s=START_TIMEOUT_S):
                return "reused"
            raise ServiceError(
                f"our Kafka (pid {self.pid()}) runs but does not answer on "
                f"{self.settings.bootstrap_servers}; see {self.log_file} or run `yiwang down`"
            )
        for port in (self.settings.kafka_port, self.settings.kafka_controller_port):
            if port_open(port):
                raise ServiceError(
                    f"port {port} is taken by another process: stop it, or set "
                    "YIWANG_KAFKA_PORT / YIWANG_KAFKA_CONTROLLER_PORT, or point "
                    "KAFKA_BOOTSTRAP_SERVERS at an existing broker"
                )
        self.ensure_jars()
        self.write_config()
        self.ensure_formatted()
        java = require_tool("java", "install a Java 17+ runtime")
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        say(f"starting Kafka {self.version} on {self.settings.bootstrap_servers}")
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                [
                    java,
                    f"-Xmx{self.settings.kafka_heap}",
                    f"-Xms{self.settings.kafka_heap}",
                    "-XX:+UseG1GC",
                    "-Djava.awt.headless=true",
                    "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
                    "-Dorg.slf4j.simpleLogger.showDateTime=true",
                    "-cp",
                    f"{self.lib_dir}/*",
                    "kafka.Kafka",
                    str(self.config_path),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{proc.pid}\n")

        def ready() -> bool:
            if proc.poll() is not None:
                raise ServiceError(
                    f"Kafka exited with code {proc.returncode} while starting: "
                    f"{_last_error(self.log_file)} (log: {self.log_file})"
                )
            return port_open(self.settings.kafka_port) and self.healthy()

        if not wait_until(ready, timeout_s=START_TIMEOUT_S, interval_s=0.5):
            raise ServiceError(f"Kafka did not become ready in {START_TIMEOUT_S:.0f}s; see {self.log_file}")
        return "started"

    def stop(self) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        say(f"stopping Kafka (pid {pid})")
        terminate(pid, grace_s=30)
        self.pid_file.unlink(missing_ok=True)
        return True


def broker_reachable(bootstrap: str, *, timeout_ms: int = 5000) -> bool:
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
            client_id="yiwang-health",
        )
    except UNREACHABLE:
        return False
    try:
        admin.describe_cluster()
        return True
    except UNREACHABLE:
        return False
    finally:
        admin.close()


def _last_error(log_file: Path) -> str:
    try:
        lines = log_file.read_text(errors="replace").splitlines()
    except OSError:
        return "no log"
    for line in reversed(lines[-200:]):
        if "ERROR" in line or "Exception" in line:
            return line.strip()[:300]
    return lines[-1].strip()[:300] if lines else "empty log"
