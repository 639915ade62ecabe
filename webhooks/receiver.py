"""The webhook receiver: a small Starlette (ASGI) app under uvicorn that acknowledges only what is on disk.

    POST /instantly/webhook   one Instantly delivery (a JSON object); 200 once it is fsync'd in the spool
    GET  /health              200 {"status": "ok", ...} while the receiver runs

Answers: 401 missing or wrong secret header (compared in constant time), 413 body over `max_body` bytes,
400 not JSON or not a JSON object, 503 the spool could not be written (Instantly retries), 200 otherwise.
Every event name is accepted (known, unknown, `link_clicked` and `email_link_clicked` alike): the ingest sorts
them out. The request path never opens the warehouse, so a flow holding DuckDB's write lock cannot slow it.
Nothing here logs a header value.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from webhooks.events import SECRET_HEADER
from webhooks.spool import (
    DEFAULT_SEGMENT_RECORDS,
    DEFAULT_SEGMENT_SECONDS,
    SpoolWriter,
    encode_record,
    spool_counts,
)

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/instantly/webhook"
MAX_BODY = 1024 * 1024  # bytes; Instantly's payloads are a few KB (an email body and the lead's variables)


class _Rejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def create_app(
    spool_dir: str | Path,
    *,
    secret: str | None,
    max_body: int = MAX_BODY,
    segment_records: int = DEFAULT_SEGMENT_RECORDS,
    segment_seconds: float = DEFAULT_SEGMENT_SECONDS,
) -> Starlette:
    """The receiver as an ASGI app.

    Args:
        spool_dir: where accepted deliveries are spooled (see `webhooks.spool`).
        secret: the value the subscription sends in `X-Ops-Instantly-Secret`; None accepts any sender
            (only behind a proxy that authenticates).
        max_body: the largest body accepted, in bytes.
        segment_records, segment_seconds: when a spool segment closes and becomes ready for the ingest.
    """
    expected = secret.encode() if secret is not None else None
    writer = SpoolWriter(spool_dir, segment_records=segment_records, segment_seconds=segment_seconds)
    counts: Counter[str] = Counter()

    async def receive(request: Request) -> JSONResponse:
        try:
            if expected is not None:
                given = (request.headers.get(SECRET_HEADER) or "").encode()
                if not hmac.compare_digest(given, expected):
                    raise _Rejected(401, "missing or wrong secret header")
            payload = json.loads(await _body(request, max_body))
            if not isinstance(payload, dict):
                raise _Rejected(400, "body is not a JSON object")
        except _Rejected as exc:
            return _reject(request, counts, exc.status, exc.reason)
        except ClientDisconnect:  # the sender hung up mid-body: nothing to answer, nothing stored
            counts["disconnected"] += 1
            return JSONResponse({"status": "refused"}, status_code=400)
        except UnicodeDecodeError:  # before ValueError, its base: the refusal says which it was
            return _reject(request, counts, 400, "body is not UTF-8 text")
        except RecursionError:
            return _reject(request, counts, 400, "body nests too deep")
        except ValueError:
            return _reject(request, counts, 400, "body is not JSON")
        try:
            record = encode_record(payload, datetime.now(UTC))
        except UnicodeEncodeError:  # a lone surrogate (\ud800): parseable JSON, but not Unicode text
            return _reject(request, counts, 400, "body is not valid Unicode text")
        try:
            await writer.append(record)
        except OSError:
            # Not acknowledged, so Instantly retries it; the cause is logged by the writer.
            return _reject(request, counts, 503, "spool not writable, retry later")
        counts["accepted"] += 1
        return JSONResponse({"status": "ok"})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "accepted": counts["accepted"],
                "rejected": counts["rejected"],
                "disconnected": counts["disconnected"],
                "segments": spool_counts(writer.directory),
            }
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await writer.start()
        try:
            yield
        finally:
            await writer.close()  # the last segment is ready for the ingest at once

    app = Starlette(
        routes=[Route(WEBHOOK_PATH, receive, methods=["POST"]), Route("/health", health, methods=["GET"])],
        lifespan=lifespan,
    )
    app.state.counts = counts
    app.state.writer = writer
    return app


async def _body(request: Request, max_body: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise _Rejected(400, "bad Content-Length")
        if int(declared) > max_body:
            raise _Rejected(413, f"body over {max_body} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_body:
            raise _Rejected(413, f"body over {max_body} bytes")
    return bytes(body)


def _reject(request: Request, counts: Counter[str], status: int, reason: str) -> JSONResponse:
    counts["rejected"] += 1
    client = request.client.host if request.client else "?"
    log.warning("webhook delivery from %s refused (%d): %s", client, status, reason)
    return JSONResponse({"status": "refused", "reason": reason}, status_code=status)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0 picks a free one); raises OSError when the address is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(
    app: Any,
    sock: socket.socket,
    *,
    log_level: str = "warning",
    on_ready: Callable[[], None] | None = None,
    on_stop: Callable[[], None] | None = None,
) -> None:
    """Run `app` under uvicorn on a bound socket until SIGINT/SIGTERM; the open segment is closed on the way out.

    `on_ready` runs once requests are served, `on_stop` after the graceful shutdown (uvicorn then re-raises
    the signal, so code after `serve` may not run).
    """
    import uvicorn

    config = uvicorn.Config(
        app, log_level=log_level, access_log=False, lifespan="on", timeout_graceful_shutdown=10
    )
    server = uvicorn.Server(config)
    startup, shutdown = server.startup, server.shutdown

    async def started(sockets: list[socket.socket] | None = None) -> None:
        await startup(sockets=sockets)
        if on_ready is not None and not server.should_exit:
            on_ready()

    async def stopped(sockets: list[socket.socket] | None = None) -> None:
        await shutdown(sockets=sockets)
        if on_stop is not None:
            on_stop()

    # uvicorn has no startup/shutdown hooks for a Server it runs: wrap its own methods on this instance.
    server.startup = started  # type: ignore[method-assign]
    server.shutdown = stopped  # type: ignore[method-assign]
    server.run(sockets=[sock])
