"""The HTTP layer: a stdlib ThreadingHTTPServer (HTTP/1.1 keep-alive) that routes, authenticates, rate-limits,
validates against the OpenAPI document, injects faults and serialises responses."""

from __future__ import annotations

import gc
import json
import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from . import _spec
from ._faults import Faults, RateLimiter
from ._router import ApiError, Request, Response, match
from ._state import State
from ._webhooks import Dispatcher

EMAILS_PER_MINUTE = 20  # SPEC GET /api/v2/emails: "a rate limit of 20 requests per minute"
JSON_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class Sandbox:
    """Everything behind the socket: state, limits, faults, stats and the request pipeline."""

    def __init__(
        self,
        *,
        seed: int,
        rate_per_second: float,
        rate_per_minute: float,
        rate_window: str = "sliding",
        api_keys: list[str] | None,
        state_file: str | Path | None,
        faults: dict[str, Any],
    ) -> None:
        self.state = State(seed)
        self.state_file = Path(state_file) if state_file else None
        if self.state_file and self.state_file.exists():
            self.state.load(self.state_file)
        self.api_keys = set(api_keys or ["sandbox-key"])
        self.limiter = RateLimiter(rate_per_second, rate_per_minute, rate_window)
        self.emails_limiter = RateLimiter(EMAILS_PER_MINUTE, EMAILS_PER_MINUTE, rate_window)
        self.faults = Faults(seed, **faults)
        self.stats: dict[str, Any] = Counter()
        self.per_path: Counter[str] = Counter()
        self.dispatcher = Dispatcher(self.state, self.stats)
        self.url = ""

    def save(self) -> None:
        if self.state_file:
            self.state.save(self.state_file)

    # -- pipeline ------------------------------------------------------------------------------------------
    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        raw: bytes,
        arrived: tuple[float, float] | None = None,
    ) -> tuple[int, Any]:
        """Route, authenticate, rate-limit, validate and run one request.

        `arrived` is (monotonic, wall) time when the request came in: it counts against the rate limit
        then, before any added latency, as a real server counts requests when they reach it.
        """
        route, params, exists = match(method, path)
        if route is None:
            return 404, {
                "message": f"Route {method}:{path} not found",
                "error": "Not Found",
                "statusCode": 404,
            }
        admin = path.startswith("/_sandbox/")
        try:
            if not admin:
                self._guard(method, route.template, headers, arrived)
            body = self._body(method, headers, raw)
            req = Request(method, path, route.template, params, {}, body, headers, query)
            if not admin:
                self._validate(req)
            else:
                req.query = {k: v[0] for k, v in query.items()}
            if route.locked:
                with self.state.lock:
                    result = route.handler(self, req)
            else:
                result = route.handler(self, req)
        except ApiError as exc:
            return exc.status, exc.body
        if isinstance(result, Response):
            return result.status, result.body
        return route.status, result

    def _guard(
        self, method: str, template: str, headers: dict[str, str], arrived: tuple[float, float] | None
    ) -> None:
        auth = headers.get("authorization", "")
        if not auth:
            raise ApiError(401, "Missing Authorization header")
        scheme, _, key = auth.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise ApiError(401, "Invalid Authorization header format, expected 'Bearer <api key>'")
        if key.startswith("sandbox-unpaid"):
            raise ApiError(402, "Workspace does not have an active paid plan")
        if key not in self.api_keys and not key.startswith("sandbox-readonly"):
            raise ApiError(401, "Invalid API key")
        if key.startswith("sandbox-readonly") and method != "GET" and template != "/api/v2/leads/list":
            raise ApiError(403, "API key does not have the required scope for this operation")
        if not self.limiter.allow(arrived) or (
            template == "/api/v2/emails" and not self.emails_limiter.allow(arrived)
        ):
            self.stats["rate_limited"] += 1
            raise ApiError(429, "Rate limit exceeded")

    @staticmethod
    def _body(method: str, headers: dict[str, str], raw: bytes) -> Any:
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if not raw.strip():
            if ctype == "application/json" and method in JSON_BODY_METHODS:
                # Fastify FST_ERR_CTP_EMPTY_JSON_BODY (notes §10.5: send bodyless calls without this header)
                raise ApiError(400, "Body cannot be empty when content-type is set to 'application/json'")
            return None
        if ctype != "application/json":
            raise ApiError(415, f"Unsupported Media Type: {ctype or 'none'}")
        try:
            return decode_json(raw)
        except ValueError as exc:
            raise ApiError(
                400, "Body is not valid JSON but content-type is set to 'application/json'"
            ) from exc

    @staticmethod
    def _validate(req: Request) -> None:
        err = _spec.check_path_params(req.method, req.template, req.params)
        if err:
            raise ApiError(400, err)
        req.query, err = _spec.parse_query(req.method, req.template, req.raw_query)
        if err:
            raise ApiError(400, err)
        if _spec.request_body_schema(req.method, req.template) is None:
            return
        required = (_spec.operation(req.method, req.template).get("requestBody") or {}).get("required")
        if req.body is None and not required:
            return
        err = _spec.body_error(req.method, req.template, req.body)
        if err:
            raise ApiError(400, err)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # headers and body leave in one send (no Nagle / delayed-ACK stalls)
    disable_nagle_algorithm = True
    server_version = "instantly-sandbox"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        self._handle()
        if self.server.freeze_gc:  # type: ignore[attr-defined]
            gc.freeze()  # what this request left alive is never walked by the cyclic GC again

    do_POST = do_PATCH = do_DELETE = do_PUT = do_GET

    def _handle(self) -> None:
        sb: Sandbox = self.server.sandbox  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        query = parse_qs(url.query, keep_blank_values=True)
        if not url.path.startswith("/api/v2"):
            status, body = sb.handle(self.command, url.path, query, headers, raw)
            self._send(status, body)
            return
        arrived = (time.monotonic(), time.time())
        decision = sb.faults.decide(self.command, url.path)
        if decision.delay:
            time.sleep(decision.delay)
        sb.stats["requests"] += 1
        if decision.pre == "429":
            sb.stats["faults_burst_429"] += 1
            sb.stats["rate_limited"] += 1
            self._send(429, ApiError(429, "Rate limit exceeded").body)
            return
        if decision.pre == "fail":
            sb.stats[f"faults_{decision.status}"] += 1
            self._send(decision.status, ApiError(decision.status, "Injected fault (sandbox)").body)
            return
        status, body = sb.handle(self.command, url.path, query, headers, raw, arrived)
        route, _, _ = match(self.command, url.path)
        sb.per_path[f"{self.command} {route.template if route else url.path}"] += 1
        sb.stats[f"status_{status}"] += 1
        if decision.post == "reset":
            sb.stats["faults_reset"] += 1
            self._reset()
            return
        if decision.post == "timeout":
            sb.stats["faults_timeout"] += 1
            time.sleep(sb.faults.timeout_seconds())
        self._send(status, body)

    def _send(self, status: int, body: Any) -> None:
        data = b"" if body is None else encode_json(body)
        try:
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _reset(self) -> None:
        """Drop the connection with a TCP RST: the client sees a connection error, the write happened."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's listen() backlog is 5: more clients connecting at once (a push with 30 requests in flight,
    # an SDK's asyncio.gather) overflowed it and got their connections reset mid-request.
    request_queue_size = 1024

    def __init__(self, addr: tuple[str, int], sandbox: Sandbox, freeze_gc: bool) -> None:
        self.sandbox = sandbox
        self.freeze_gc = freeze_gc
        super().__init__(addr, _Handler)


def decode_json(raw: bytes) -> Any:
    """A request body's JSON, parsed as `json.loads` parses it (ValueError if it is not JSON).

    orjson parses a 300 KB bulk add in half the time; what it refuses (numbers beyond 64 bits, NaN, lone
    surrogates, UTF-16 ...) goes to `json.loads`, which stays the judge of what is JSON here.
    """
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def encode_json(body: Any) -> bytes:
    """A response body as compact UTF-8 JSON, the way Fastify's JSON.stringify writes it.

    orjson, about ten times faster than `json.dumps` on a bulk add's `created_leads`; non-string keys become
    strings as `json.dumps` makes them, and what orjson cannot encode (integers beyond 64 bits) goes to
    `json.dumps`.
    """
    try:
        return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def start(
    host: str, port: int, sandbox: Sandbox, *, freeze_gc: bool = False
) -> tuple[_HTTPServer, threading.Thread]:
    """Serve `sandbox` from a daemon thread; `freeze_gc`: see :class:`instantly_sandbox.SandboxServer`."""
    httpd = _HTTPServer((host, port), sandbox, freeze_gc)
    sandbox.url = f"http://{host}:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name="instantly-sandbox", daemon=True)
    thread.start()
    return httpd, thread
