"""client.jobs: get with data_fields, wait until a terminal status (fake clock, no sleeping)."""

import httpx
import pytest

from instantly_client import JobTimeoutError


def job(status, progress=0):
    return httpx.Response(200, json={"id": "j1", "status": status, "progress": progress})


def test_get_joins_data_fields(make_client, script_factory):
    script = script_factory(job("success", 100))
    make_client(script).jobs.get("j1", data_fields=["success_count", "failed_count"])
    assert script.requests[0].url.params["data_fields"] == "success_count,failed_count"


@pytest.mark.parametrize("terminal", ["success", "failed", "cancelled"])
def test_wait_polls_until_a_terminal_status(make_client, script_factory, clock, terminal):
    script = script_factory(job("pending"), job("in-progress", 50), job(terminal, 100))
    result = make_client(script).jobs.wait("j1", poll_interval=3)
    assert result.status == terminal
    assert len(script.requests) == 3
    assert clock.sleeps == [3, 3]


def test_wait_gives_up_after_the_timeout(make_client, script_factory, clock):
    script = script_factory(default=job("in-progress", 10))
    with pytest.raises(JobTimeoutError, match="in-progress"):
        make_client(script).jobs.wait("j1", poll_interval=2, timeout=5)
    assert clock.elapsed == pytest.approx(5)
    assert len(script.requests) == 4
