"""The receiver as a real process over real HTTP: what it acknowledges is on disk, what it refuses is not."""

from __future__ import annotations

import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.webhooks.receiver_process import ReceiverProcess
from webhooks.events import SECRET_HEADER
from webhooks.spool import read_segment, ready_segments

SECRET = "s3cret-for-tests"
REPLY = {
    "timestamp": "2026-11-20T10:00:00.000Z",
    "event_type": "reply_received",
    "workspace": "019a0000-0000-7000-8000-000000000001",
    "campaign_id": "019a0000-0000-7000-8000-000000000002",
    "lead_email": "ava@northwind.io",
}


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory):
    with ReceiverProcess(tmp_path_factory.mktemp("spool"), SECRET, "--max-body", "4096") as process:
        yield process


def _spooled(spool: Path) -> list[dict]:
    return [payload for path in ready_segments(spool) for _, payload in read_segment(path).records]


def _post(receiver: ReceiverProcess, **kwargs) -> httpx.Response:
    headers = {SECRET_HEADER: SECRET, **kwargs.pop("headers", {})}
    return httpx.post(receiver.url, headers=headers, timeout=10, **kwargs)


@pytest.mark.parametrize(
    "event_type",
    ["reply_received", "link_clicked", "email_link_clicked", "auto_reply_received", "My custom label", None],
)
def test_every_event_name_is_acknowledged_and_spooled(receiver: ReceiverProcess, event_type) -> None:
    payload = {**REPLY, "event_type": event_type, "marker": f"name-{event_type}"}
    if event_type is None:
        del payload["event_type"]  # missing fields are not a reason to lose an event
    response = _post(receiver, json=payload)
    assert response.status_code == 200, response.text
    # acknowledged means written: the segment may still be open, so read every file in the spool
    text = b"".join(p.read_bytes() for p in receiver.spool.iterdir())
    assert f'"marker":"name-{event_type}"'.encode() in text


@pytest.mark.parametrize(
    ("kwargs", "status", "reason"),
    [
        ({"json": REPLY, "headers": {SECRET_HEADER: "wrong"}}, 401, None),
        ({"json": REPLY, "headers": {SECRET_HEADER: ""}}, 401, None),
        ({"content": b'{"event_type": "reply_received", "pad": "' + b"x" * 5000 + b'"}'}, 413, None),
        ({"content": b"{not json"}, 400, "body is not JSON"),
        ({"content": b"[1, 2]"}, 400, "body is not a JSON object"),
        ({"content": b'{"event_type": "\xff"}'}, 400, "body is not UTF-8 text"),
        ({"content": b'{"event_type": "reply_received", "reply_text": "\\ud800"}'}, 400, None),
        # nesting deeper than Python's recursion limit: the refusal said "body is not JSON"
        ({"content": b"[" * 3000}, 400, "body nests too deep"),
    ],
)
def test_bad_deliveries_are_refused_with_one_status_and_never_spooled(
    receiver: ReceiverProcess, kwargs, status, reason
) -> None:
    before = b"".join(p.read_bytes() for p in receiver.spool.iterdir())
    answer = _post(receiver, **kwargs)
    assert answer.status_code == status
    if reason:
        assert answer.json()["reason"] == reason
    assert b"".join(p.read_bytes() for p in receiver.spool.iterdir()) == before
    assert receiver.proc.poll() is None  # still running


def test_a_delivery_without_the_header_is_refused_and_the_secret_never_reaches_the_log(
    receiver: ReceiverProcess,
) -> None:
    assert httpx.post(receiver.url, json=REPLY, timeout=10).status_code == 401
    assert httpx.get(f"{receiver.base}/health", timeout=10).json()["status"] == "ok"
    assert "refused (401)" in "".join(receiver.stderr)
    assert SECRET not in "".join(receiver.stderr)


def test_sigkill_mid_stream_loses_no_acknowledged_event(tmp_path: Path) -> None:
    acknowledged: list[int] = []
    stop = threading.Event()
    receiver = ReceiverProcess(tmp_path, SECRET)

    def send(worker: int) -> None:
        with httpx.Client(timeout=5) as client:
            n = 0
            while not stop.is_set():
                payload = {**REPLY, "event_type": "email_opened", "n": worker * 1_000_000 + n}
                try:
                    response = client.post(receiver.url, json=payload, headers={SECRET_HEADER: SECRET})
                except httpx.HTTPError:
                    return  # the receiver died under us: this one was never acknowledged
                if response.status_code == 200:
                    acknowledged.append(payload["n"])
                n += 1

    workers = [threading.Thread(target=send, args=(w,)) for w in range(4)]
    for worker in workers:
        worker.start()
    while len(acknowledged) < 300:
        threading.Event().wait(0.01)
    receiver.kill(signal.SIGKILL)
    stop.set()
    for worker in workers:
        worker.join()

    spooled = [p["n"] for p in _spooled(tmp_path)]  # the dead receiver's open segment is taken over
    assert len(acknowledged) >= 300
    assert set(acknowledged) <= set(spooled)
    assert len(spooled) == len(set(spooled))


def test_a_sender_hanging_up_mid_body_stores_nothing_and_logs_no_traceback(receiver: ReceiverProcess) -> None:
    before = b"".join(p.read_bytes() for p in receiver.spool.iterdir())
    host, port = receiver.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            f"POST /instantly/webhook HTTP/1.1\r\nHost: x\r\n{SECRET_HEADER}: {SECRET}\r\n"
            'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"event_type":'.encode()
        )
    deadline = time.monotonic() + 30
    while httpx.get(f"{receiver.base}/health", timeout=10).json()["disconnected"] < 1:  # still serving
        assert time.monotonic() < deadline, "the receiver never noticed the hang-up"
        time.sleep(0.05)
    assert b"".join(p.read_bytes() for p in receiver.spool.iterdir()) == before
    assert "Traceback" not in "".join(receiver.stderr)
