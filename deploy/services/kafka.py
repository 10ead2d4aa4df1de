"""A single-node Apache Kafka (KRaft) from Maven Central jars, owned by this project.

Jars, data, config, log and pid file live under the settings' home (~/.cache/yiwang), never
in the repository. Every step is idempotent: a running, healthy broker is reused.
"""

from __future__ import annotations

import os
import re
import signal
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


SESSION_TIMEOUT_MS = 6000
"""How long the controller waits for a silent node's heartbeat before fencing it."""


@dataclass(frozen=True, slots=True)
class KafkaState:
    running: bool
    pid: int | None
    healthy: bool


@dataclass(frozen=True, slots=True)
class KafkaNode:
    """One KRaft node (broker and controller in one JVM) of the local Kafka."""

    node_id: int
    port: int
    controller_port: int
    config_path: Path
    data_dir: Path
    pid_file: Path
    log_file: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def local_nodes(settings: Settings, version: str) -> tuple[KafkaNode, ...]:
    """The nodes `yiwang up` manages. One node keeps the single broker's historic paths; the
    nodes of a cluster each get their own config, data directory, pid file and log."""
    root = settings.home / "kafka"
    if settings.kafka_brokers == 1:
        return (
            KafkaNode(
                1,
                settings.kafka_port,
                settings.kafka_controller_port,
                root / "server.properties",
                root / f"data-{version}",
                settings.run_dir / "kafka.pid",
                settings.log_dir / "kafka.log",
            ),
        )
    return tuple(
        KafkaNode(
            i,
            port,
            controller_port,
            root / f"cluster-node-{i}.properties",
            root / f"cluster-{version}" / f"node-{i}",
            settings.run_dir / f"kafka-{i}.pid",
            settings.log_dir / f"kafka-{i}.log",
        )
        for i, (port, controller_port) in enumerate(settings.local_kafka_ports, start=1)
    )


def node_properties(settings: Settings, node: KafkaNode, nodes: tuple[KafkaNode, ...]) -> str:
    """The server.properties of one node: a standalone controller, or a static quorum of all."""
    if len(nodes) == 1:
        quorum = f"controller.quorum.bootstrap.servers=127.0.0.1:{node.controller_port}"
    else:
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in nodes)
        quorum = f"controller.quorum.voters={voters}"
    return PROPERTIES_TEMPLATE.read_text().format(
        node_id=node.node_id,
        quorum=quorum,
        port=node.port,
        controller_port=node.controller_port,
        data_dir=node.data_dir,
        replication=min(settings.replication_factor, len(nodes)),
        min_isr=settings.min_insync_replicas if len(nodes) >= 3 else 1,
        session_timeout_ms=SESSION_TIMEOUT_MS,
    )


class LocalKafka:
    """The local Kafka: one node or a replicated cluster, per `settings.kafka_brokers`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.version = pinned_version()
        root = settings.home / "kafka"
        self.lib_dir = settings.kafka_jars or root / self.version / "lib"
        self.nodes = local_nodes(settings, self.version)
        self.heap = settings.kafka_heap if len(self.nodes) == 1 else settings.kafka_node_heap
        self._procs: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def log_file(self) -> Path:
        return self.nodes[0].log_file

    def node(self, node_id: int) -> KafkaNode:
        return next(n for n in self.nodes if n.node_id == node_id)

    # --- state ---------------------------------------------------------------------
    def node_pid(self, node: KafkaNode) -> int | None:
        """The pid of *our* node, if it is alive (a stale or reused pid does not count)."""
        pid = read_pid(node.pid_file)
        if pid is None or not process_alive(pid):
            return None
        cmdline = process_cmdline(pid)
        if "kafka.Kafka" not in cmdline or str(node.config_path) not in cmdline:
            return None
        return pid

    def pid(self) -> int | None:
        """The first node's pid (the only one of a single broker)."""
        return self.node_pid(self.nodes[0])

    def pids(self) -> dict[int, int | None]:
        return {n.node_id: self.node_pid(n) for n in self.nodes}

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

    def write_config(self, node: KafkaNode) -> None:
        text = node_properties(self.settings, node, self.nodes)
        node.config_path.parent.mkdir(parents=True, exist_ok=True)
        if not node.config_path.exists() or node.config_path.read_text() != text:
            node.config_path.write_text(text)

    def ensure_formatted(self) -> None:
        """Format every node's storage once, all with one cluster id."""
        todo = [n for n in self.nodes if not (n.data_dir / "meta.properties").exists()]
        if not todo:
            return
        java = require_tool("java", "install a Java 17+ runtime")
        classpath = f"{self.lib_dir}/*"
        cluster_id = (
            self._existing_cluster_id()
            or (
                run(
                    [java, "-cp", classpath, "kafka.tools.StorageTool", "random-uuid"],
                    what="kafka-storage random-uuid",
                )
                .strip()
                .splitlines()[-1]
            )
        )
        standalone = ["--standalone"] if len(self.nodes) == 1 else []
        for node in todo:
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
                    str(node.config_path),
                    *standalone,
                ],
                what=f"kafka-storage format (node {node.node_id})",
            )
            say(f"formatted Kafka storage in {node.data_dir} (cluster {cluster_id})")

    def _existing_cluster_id(self) -> str | None:
        for node in self.nodes:
            meta = node.data_dir / "meta.properties"
            if meta.exists():
                for line in meta.read_text().splitlines():
                    if line.startswith("cluster.id="):
                        return line.split("=", 1)[1].strip()
        return None

    def start(self) -> str:
        """Bring every node up; returns what happened ('reused' or 'started')."""
        down = [n for n in self.nodes if self.node_pid(n) is None]
        if not down:
            if wait_until(self.healthy, timeout_s=START_TIMEOUT_S):
                return "reused"
            raise ServiceError(
                f"our Kafka (pids {sorted(p for p in self.pids().values() if p)}) runs but does not "
                f"answer on {self.settings.bootstrap_servers}; see {self.log_file} or run `yiwang down`"
            )
        for node in down:
            for port in (node.port, node.controller_port):
                if port_open(port):
                    raise ServiceError(
                        f"port {port} is taken by another process: stop it, or set "
                        "YIWANG_KAFKA_PORT / YIWANG_KAFKA_CONTROLLER_PORT, or point "
                        "KAFKA_BOOTSTRAP_SERVERS at an existing broker"
                    )
        self.ensure_jars()
        for node in self.nodes:
            self.write_config(node)
        self.ensure_formatted()
        say(f"starting Kafka {self.version} on {self.settings.bootstrap_servers}")
        for attempt in range(1, BIND_ATTEMPTS + 1):
            marks = {n.node_id: _log_size(n.log_file) for n in down}
            for node in down:
                self._launch(node)
            try:
                if not wait_until(self._ready, timeout_s=START_TIMEOUT_S, interval_s=0.5):
                    raise ServiceError(
                        f"Kafka did not become ready in {START_TIMEOUT_S:.0f}s; see {self.log_file}"
                    )
                return "started"
            except ServiceError:
                # Our ports lie in Linux's ephemeral range: a client's outgoing connection can
                # hold one for a moment (bind refused while nothing listens). Try again then.
                busy = [n for n in down if _bind_refused(n.log_file, marks[n.node_id])]
                if not busy or attempt == BIND_ATTEMPTS:
                    raise
                say(f"a port of Kafka node(s) {[n.node_id for n in busy]} was busy; starting again")
                self.stop()
                down = [n for n in self.nodes if self.node_pid(n) is None]
        raise AssertionError("unreachable")

    def start_node(self, node_id: int) -> None:
        """Restart one node of a running cluster (after a kill), and wait until it answers."""
        node = self.node(node_id)
        if self.node_pid(node) is not None:
            return
        self._launch(node)
        if not wait_until(lambda: self._node_ready(node), timeout_s=START_TIMEOUT_S, interval_s=0.5):
            raise ServiceError(f"Kafka node {node_id} did not come back in {START_TIMEOUT_S:.0f}s")

    def _launch(self, node: KafkaNode) -> None:
        java = require_tool("java", "install a Java 17+ runtime")
        node.log_file.parent.mkdir(parents=True, exist_ok=True)
        node.pid_file.parent.mkdir(parents=True, exist_ok=True)
        with node.log_file.open("ab") as log:
            proc = subprocess.Popen(
                [
                    java,
                    f"-Xmx{self.heap}",
                    f"-Xms{self.heap}",
                    "-XX:+UseG1GC",
                    "-Djava.awt.headless=true",
                    "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
                    "-Dorg.slf4j.simpleLogger.showDateTime=true",
                    "-cp",
                    f"{self.lib_dir}/*",
                    "kafka.Kafka",
                    str(node.config_path),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._procs[node.node_id] = proc
        node.pid_file.write_text(f"{proc.pid}\n")

    def _node_ready(self, node: KafkaNode) -> bool:
        proc = self._procs.get(node.node_id)
        if proc is not None and proc.poll() is not None:
            raise ServiceError(
                f"Kafka node {node.node_id} exited with code {proc.returncode} while starting: "
                f"{_last_error(node.log_file)} (log: {node.log_file})"
            )
        return port_open(node.port) and broker_reachable(node.address, timeout_ms=3000)

    def _ready(self) -> bool:
        return all(self._node_ready(n) for n in self.nodes)

    def kill_node(self, node_id: int) -> None:
        """kill -9 one node: no controlled shutdown, no leadership handed over."""
        pid = self.node_pid(self.node(node_id))
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not process_alive(pid), timeout_s=30, interval_s=0.1)
        proc = self._procs.pop(node_id, None)
        if proc is not None:
            proc.wait(timeout=30)

    def freeze_node(self, node_id: int, *, frozen: bool) -> None:
        """SIGSTOP (frozen) or SIGCONT one node: a process that hangs without dying."""
        pid = self.node_pid(self.node(node_id))
        if pid is None:
            raise ServiceError(f"Kafka node {node_id} is not running")
        os.kill(pid, signal.SIGSTOP if frozen else signal.SIGCONT)

    def stop(self) -> bool:
        """SIGTERM every node at once (a cluster shut down one node at a time would lose its
        quorum half way and hang in controlled shutdown), SIGKILL what is left after 30 s."""
        running = [(n, pid) for n in self.nodes if (pid := self.node_pid(n)) is not None]
        for node, pid in running:
            say(f"stopping Kafka node {node.node_id} (pid {pid})")
            os.kill(pid, signal.SIGCONT)  # a frozen node could not act on SIGTERM
            os.kill(pid, signal.SIGTERM)
        for node, pid in running:
            terminate(pid, grace_s=30)
            node.pid_file.unlink(missing_ok=True)
        return bool(running)


BIND_ATTEMPTS = 4


def _log_size(log: Path) -> int:
    return log.stat().st_size if log.exists() else 0


def _bind_refused(log: Path, since: int) -> bool:
    """Whether the node's log, past `since`, says its listening port could not be bound."""
    if not log.exists():
        return False
    with log.open("rb") as f:
        f.seek(since)
        return b"Address already in use" in f.read()


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
