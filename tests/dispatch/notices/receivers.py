"""Real local receivers for the channels' tests: an HTTP server that captures every request
(the SMS API, WeCom and DingTalk robots) and can be told to hang or refuse, and aiosmtpd."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.net import free_port


@dataclass
class Captured:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class HttpReceiver:
    url: str
    requests: list[Captured] = field(default_factory=list)
    hang_s: dict[str, float] = field(default_factory=dict)  # path -> seconds to hold the answer
    refuse: set[str] = field(default_factory=set)  # paths answered with a robot's error code

    def on(self, path: str) -> list[Captured]:
        return [r for r in self.requests if r.path == path]

    def accepted_sms(self) -> list[Captured]:
        """What a gateway that honours `request_id` accepts: the first of each id."""
        seen: dict[str, Captured] = {}
        for r in self.on("/sms"):
            seen.setdefault(r.body["request_id"], r)
        return list(seen.values())


@contextmanager
def http_receiver() -> Iterator[HttpReceiver]:
    holder: list[HttpReceiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver = holder[0]
            path = self.path.split("?", 1)[0]
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            receiver.requests.append(Captured(path, dict(self.headers), body))
            time.sleep(receiver.hang_s.get(path, 0))
            answer = (
                {"errcode": 310000, "errmsg": "keywords not in content"}
                if path in receiver.refuse
                else {
                    "errcode": 0,
                    "errmsg": "ok",
                }
            )
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder.append(HttpReceiver(f"http://127.0.0.1:{server.server_address[1]}"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class MailReceiver:
    port: int
    messages: list[Message] = field(default_factory=list)


@contextmanager
def smtp_receiver() -> Iterator[MailReceiver]:
    box = MailReceiver(0)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.messages.append(message_from_bytes(envelope.original_content or envelope.content))
            return "250 OK"

    box.port = free_port()  # aiosmtpd's start() connects to its port: name one
    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
