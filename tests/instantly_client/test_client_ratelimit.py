"""The limiters, with a fake clock (nothing really sleeps): pace, windows, 429 feedback, batches, registry.

`test_paced_limiter_keeps_429s_rare_against_fixed_and_sliding_servers` runs the limiter against simulated
servers that count with fixed or sliding windows, with arrival jitter; `tests/instantly_client/
test_client_ratelimit_http.py` does the same over real HTTP against the sandbox.
"""

import bisect
import random
import sys
import threading
import time

import pytest

from instantly_client._ratelimit import (
    BatchLimiter,
    CallableLimiter,
    Limiter,
    RateFeedback,
    RateLimiter,
    SlidingWindowLimiter,
    Window,
    ahead_of_the_queue,
    limiter_key,
    shared_limiter,
)


@pytest.mark.parametrize(
    ("rate", "period", "expected"),
    [
        (50, 1.0, Window(50, 1.0)),
        (3000, 60.0, Window(3000, 60.0)),
        (2.7, 1.0, Window(2, 1.0)),
        (0.5, 1.0, Window(1, 2.0)),
        (20, 60.0, Window(20, 60.0)),
    ],
)
def test_window_from_rate(rate, period, expected):
    assert Window.from_rate(rate, period) == expected


@pytest.mark.parametrize("rate", [0, -1, float("inf"), float("nan")])
def test_window_rejects_non_positive_rates(rate):
    with pytest.raises(ValueError):
        Window.from_rate(rate, 1.0)


def busiest_second(times: list[float]) -> int:
    """The most of the sorted ``times`` in any 1 s."""
    return max(bisect.bisect_left(times, t + 1.0 - 1e-5) - i for i, t in enumerate(times))


def start_times(limiter, clock, n: int) -> list[float]:
    times = []
    for _ in range(n):
        limiter.acquire()
        times.append(round(clock.elapsed, 6))
    return times


# -- SlidingWindowLimiter: bursts, never more than N in any window ------------------------------------------


@pytest.mark.parametrize(
    ("per_second", "per_minute", "n", "expected"),
    [
        # per-second window only binds
        (2, 1000, 5, [0, 0, 1, 1, 2]),
        # per-minute window binds after 12 starts, although the per-second window has room
        (10, 12, 14, [0] * 10 + [1, 1, 60, 60]),
        # both bind in turn: 5/s until 8 in the minute, then wait for the minute window
        (5, 8, 10, [0] * 5 + [1, 1, 1, 60, 60]),
        # fractional rate: one start every 2 seconds
        (0.5, None, 3, [0, 2, 4]),
        # per-minute only (like GET /emails at 20/min)
        (None, 3, 5, [0, 0, 0, 60, 60]),
    ],
)
def test_sliding_window_limiter_enforces_both_windows_together(clock, per_second, per_minute, n, expected):
    limiter = SlidingWindowLimiter(per_second, per_minute, clock=clock, sleep=clock.sleep)
    assert start_times(limiter, clock, n) == pytest.approx(expected)


def test_sliding_window_limiter_does_not_wait_when_under_budget(clock):
    limiter = SlidingWindowLimiter(50, 3000, clock=clock, sleep=clock.sleep)
    for _ in range(50):
        limiter.acquire()
    assert clock.sleeps == []


@pytest.mark.parametrize("limiter_class", [RateLimiter, SlidingWindowLimiter])
def test_limiter_needs_at_least_one_window(limiter_class):
    with pytest.raises(ValueError):
        limiter_class(None, None)


# -- RateLimiter: even pace under the budget ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("per_second", "per_minute", "headroom", "n", "expected"),
    [
        # the per-second budget binds: one start every 1/2 s at headroom 0
        (2, 1000, 0.0, 5, [0, 0.5, 1.0, 1.5, 2.0]),
        # the per-minute budget binds (120/min = 2/s) although 10/s would allow bursts
        (10, 120, 0.0, 4, [0, 0.5, 1.0, 1.5]),
        # headroom 20%: 4/s becomes a pace of 3.2/s
        (4, None, 0.2, 3, [0, 0.3125, 0.625]),
        # a rate below 1/s: one start every 2 s
        (0.5, None, 0.0, 3, [0, 2, 4]),
        # per-minute only: 30/min = one start every 2 s
        (None, 30, 0.0, 3, [0, 2, 4]),
    ],
)
def test_rate_limiter_paces_starts_evenly(clock, per_second, per_minute, headroom, n, expected):
    limiter = RateLimiter(per_second, per_minute, headroom=headroom, clock=clock, sleep=clock.sleep)
    assert start_times(limiter, clock, n) == pytest.approx(expected)


def test_rate_limiter_paces_just_under_the_budget_by_default(clock):
    limiter = RateLimiter(100, 6000, clock=clock, sleep=clock.sleep)
    assert limiter.budget == 100
    assert limiter.rate == pytest.approx(97.5)  # 2.5% headroom
    times = start_times(limiter, clock, 1001)
    # paced at 97.5/s: 97 or 98 starts in any second, never more than the budget
    assert times[-1] == pytest.approx(1000 / 97.5)
    assert busiest_second(times) == 98


@pytest.mark.parametrize("budget", [3, 5, 20, 37, 100])
def test_the_cap_on_real_starts_never_slows_an_even_pace(clock, budget):
    """The cap on real starts is the ceiling rounded up: a cap rounded down (4 a second under a pace of
    4.875 at 5 req/s, 19 under 19.5 at 20) lowered the pace of small budgets and queued requests behind it,
    out of reach of ahead_of_the_queue (the sync's one-cursor tail: 48 s instead of 36 s)."""
    limiter = RateLimiter(budget, None, clock=clock, sleep=clock.sleep)
    n = 10 * budget
    times = start_times(limiter, clock, n + 1)
    assert times[-1] == pytest.approx(n / (budget * 0.975))
    assert busiest_second(times) <= budget


def test_the_first_429_at_the_ceiling_widens_the_headroom_instead_of_cutting(clock):
    """One refusal at 97.5% says the arrivals jitter more than 2.5% tolerates: the pace drops to 95% and
    stays there, not to 90% of 97.5% and a slow climb back (about 30 requests of budget at 100/s)."""
    limiter = RateLimiter(100, 6000, clock=clock, sleep=clock.sleep)
    start_times(limiter, clock, 300)
    limiter.on_response(429, started=clock(), retry_after=None)
    limiter.acquire()
    assert (limiter.rate, limiter.ceiling, limiter.headroom) == pytest.approx((95.0, 95.0, 0.05))
    clock.sleep(60)  # no recovery above the wider ceiling
    start_times(limiter, clock, 3)
    assert limiter.rate == pytest.approx(95.0)
    clock.sleep(0.5)
    limiter.on_response(429, started=clock(), retry_after=None)  # the next refusal cuts, as before
    limiter.acquire()
    assert limiter.rate < 95.0 * 0.9 + 1e-9
    assert limiter.headroom == pytest.approx(0.05)  # widened once only


def test_a_429_sent_before_the_headroom_widened_does_not_cut(clock):
    limiter = RateLimiter(100, 6000, clock=clock, sleep=clock.sleep)
    start_times(limiter, clock, 300)
    sent = clock()
    limiter.on_response(429, started=sent, retry_after=None)
    clock.sleep(0.01)
    limiter.on_response(429, started=sent, retry_after=None)  # the same burst of refusals
    limiter.acquire()
    assert limiter.rate == pytest.approx(95.0)


@pytest.mark.parametrize("widen", [-0.01, 0.975, 2.0])
def test_widen_must_leave_a_pace(widen):
    with pytest.raises(ValueError, match="widen"):
        RateLimiter(100, None, widen=widen)


def test_rate_limiter_after_idle_starts_at_once_but_never_bursts(clock):
    limiter = RateLimiter(10, None, headroom=0.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.sleep(30)  # idle: no credit is saved up
    assert start_times(limiter, clock, 3) == pytest.approx([30.0, 30.1, 30.2])


def test_rate_limiter_windows_hold_in_any_window_even_with_threads(clock):
    def contended_clock():
        time.sleep(0)  # yield the GIL inside the critical section, so races would show
        return clock()

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        limiter = RateLimiter(10, 1000, headroom=0.0, clock=contended_clock, sleep=clock.sleep)
        threads = [threading.Thread(target=lambda: [limiter.acquire() for _ in range(15)]) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(previous)
    starts = sorted(limiter._starts)
    assert len(starts) == 120
    for i, t0 in enumerate(starts):
        assert len([t for t in starts[i:] if t < t0 + 1.0]) <= 10


# -- RateLimiter: adapting to 429s ------------------------------------------------------------------------------


# The factors are given explicitly: these pin the mechanism (cut, recover fast, then probe slowly), not
# the defaults, which bench/README.md chose from measurements.
@pytest.mark.parametrize(
    ("gap", "events", "expected_rate"),
    [
        # one 429 for a request sent at the current pace: x0.8
        (0.0, [("429", 0.0, None)], 8.0),
        # three 429s from requests all sent before the cut: still one cut
        (0.0, [("429", 0.0, None), ("429", 0.0, None), ("429", 0.0, None)], 8.0),
        # a second 429 for a request sent after the first cut: cut again, from the 7.5/s really sent over
        # the last 2 s (below the 8.1/s pace by then)
        (0.0, [("429", 0.0, None), ("wait", 0.5), ("429", "now", None)], pytest.approx(7.5 * 0.8)),
        # recovery: +2% of the budget (0.2/s) per second without 429s, capped at the ceiling
        (0.0, [("429", 0.0, None), ("wait", 5.0)], 9.0),
        # ...quickly up to 95% of the pace that failed (9.5 after 7.5 s), then ten times slower
        (0.0, [("429", 0.0, None), ("wait", 10.0)], pytest.approx(9.5 + 0.02 * 2.5)),
        (0.0, [("429", 0.0, None), ("wait", 60.0)], 10.0),
        # 200s teach nothing: the pace stays at the ceiling
        (0.0, [("200", 0.0, None)], 10.0),
        # a floor: never below 10% of the budget
        (0.0, [("wait", 0.01), ("429", "now", None)] * 30, 1.0),
        # threads sent only 2/s (busy elsewhere): the cut starts from what was sent, not from the idle pace
        (0.4, [("429", "now", None)], pytest.approx(2.5 * 0.8)),
    ],
)
def test_rate_limiter_cuts_its_pace_on_429_and_recovers(clock, gap, events, expected_rate):
    limiter = RateLimiter(
        10, None, headroom=0.0, widen=0.0, decrease=0.8, recovery=0.02, clock=clock, sleep=clock.sleep
    )
    for _ in range(21):  # two seconds of requests: at the pace (10/s), or `gap` seconds apart on top
        limiter.acquire()
        clock.sleep(gap)
    for event in events:
        if event[0] == "wait":
            clock.sleep(event[1])
            continue
        status, started, retry_after = event
        started = clock() if started == "now" else clock.start + started
        limiter.on_response(int(status), started=started, retry_after=retry_after)
    limiter.acquire()  # the pace is brought up to date when a request asks for a slot
    assert limiter.rate == expected_rate


def test_retry_after_pauses_every_start_until_it_has_passed(clock):
    limiter = RateLimiter(
        10, None, headroom=0.0, widen=0.0, decrease=0.8, recovery=0.02, clock=clock, sleep=clock.sleep
    )
    start_times(limiter, clock, 21)  # 0.0 .. 2.0 at the pace
    limiter.on_response(429, started=clock(), retry_after=3.0)
    times = start_times(limiter, clock, 2)
    assert times[0] == pytest.approx(5.0)
    assert times[1] == pytest.approx(5.0 + 1 / 8.0)  # then at the cut pace
    assert limiter.rate_limited == 1


def test_a_429_voids_slots_reserved_at_the_old_pace(clock):
    """A thread asleep on a slot booked before the 429 queues again at the new pace when it wakes."""
    limiter = RateLimiter(
        10, None, headroom=0.0, widen=0.0, decrease=0.8, recovery=0.02, clock=clock, sleep=clock.sleep
    )
    start_times(limiter, clock, 21)  # starts at 0.0 .. 2.0 (10/s); the next free slot is 2.1
    woke: list[float] = []

    def sleep_through_a_429(seconds: float) -> None:
        if not woke:
            limiter.on_response(429, started=clock(), retry_after=None)  # arrives while we sleep
        clock.sleep(seconds)
        woke.append(clock.elapsed)

    limiter._sleep = sleep_through_a_429
    limiter.acquire()
    limiter._sleep = clock.sleep
    # booked 2.1, the 429 came at 2.0: the new pace is 8/s, so the start moves to 2.0 + 1/8
    assert woke[0] == pytest.approx(2.1)
    assert clock.elapsed == pytest.approx(2.125)


def test_an_urgent_request_takes_the_earliest_queued_slot_and_the_displaced_one_is_booked_again(clock):
    limiter = RateLimiter(10, None, headroom=0.0, clock=clock, sleep=clock.sleep)
    start_times(limiter, clock, 21)  # 0.0 .. 2.0; the next free slot is 2.1
    urgent_started: list[float] = []
    arrived: list[bool] = []

    def an_urgent_request_arrives_meanwhile(seconds: float) -> None:
        if not arrived:
            arrived.append(True)
            with ahead_of_the_queue():
                limiter.acquire()
            urgent_started.append(clock.elapsed)
        else:
            clock.sleep(seconds)

    limiter._sleep = an_urgent_request_arrives_meanwhile
    limiter.acquire()  # booked 2.1, asleep when the urgent request comes
    assert urgent_started == [pytest.approx(2.1)]  # the urgent one took 2.1 ...
    assert sorted(limiter._starts)[-2:] == pytest.approx(
        [2.1 + clock.start, 2.2 + clock.start]
    )  # ... the other 2.2
    assert clock.elapsed == pytest.approx(2.2)  # and it slept on to it
    assert limiter._queued == []


def test_an_urgent_request_with_nobody_queued_keeps_the_pace(clock):
    limiter = RateLimiter(10, None, headroom=0.0, clock=clock, sleep=clock.sleep)
    with ahead_of_the_queue():
        assert start_times(limiter, clock, 4) == pytest.approx([0.0, 0.1, 0.2, 0.3])


def urgent_chain_under_a_full_queue(limiter, clock, *, pages: int, latency, seed: int = 3):
    """An urgent chain (ahead_of_the_queue) asking for its next page as each answer comes, while ordinary
    requests keep the queue a second deep and start on their slots. Returns the chain's waits for a slot
    and every start (the chain's and the ordinary ones), sorted."""
    rng = random.Random(seed)
    waits: list[float] = []
    starts: list[float] = []
    for _ in range(pages):
        now = clock()
        while limiter._queued and limiter._queued[0].slot <= now:  # their owners woke and left
            starts.append(limiter._queued.pop(0).slot)
        while not limiter._queued or limiter._queued[-1].slot < now + 1.0:
            limiter._reserve(now, queue=True)
        with ahead_of_the_queue():
            limiter.acquire()
        waits.append(clock() - now)
        starts.append(clock())
        clock.sleep(latency(rng))  # the round trip, then the chain asks again
    starts += [ticket.slot for ticket in limiter._queued if ticket.slot <= clock()]
    return waits, sorted(starts)


def test_an_urgent_chain_finds_the_slot_it_held_due_when_its_answer_comes(clock):
    """Each urgent start holds a queued slot for the thread's next request, about when it will ask: the
    chain's pages then leave as their answers come (without it: most of a slot's 51 ms each). The booked
    slots keep the pace; a held slot used late moves one start by less than a slot, and the cap on real
    starts (test_requests_that_leave_late_never_clump_above_the_ceiling_in_any_second) bounds any second."""
    limiter = RateLimiter(20, 1200, clock=clock, sleep=clock.sleep)
    waits, starts = urgent_chain_under_a_full_queue(
        limiter, clock, pages=120, latency=lambda rng: 0.262 + rng.uniform(-0.02, 0.02)
    )
    assert sum(waits[3:]) / len(waits[3:]) < 0.01  # seconds; about 0.047 before
    booked = sorted(limiter._starts)
    assert busiest_second(booked) <= 20  # the windows hold
    assert (len(booked) - 1) / (booked[-1] - booked[0]) <= 19.5 + 1e-6  # the pace: 97.5% of the budget
    assert len(starts) >= 0.97 * 19.5 * (starts[-1] - starts[0])  # every slot used


def urgent_pages(limiter, clock, pages: int, round_trip: float = 0.25) -> None:
    """An urgent chain of this thread alone: each page asked for as the last one's answer comes."""
    with ahead_of_the_queue():
        for _ in range(pages):
            limiter.acquire()
            clock.sleep(round_trip)


def test_a_held_slot_is_void_after_a_429_and_when_it_is_too_old(clock):
    limiter = RateLimiter(10, None, headroom=0.0, clock=clock, sleep=clock.sleep)
    thread = threading.get_ident()
    urgent_pages(limiter, clock, 3)  # its cycle learned, it holds a slot
    with ahead_of_the_queue():
        assert thread in limiter._held
        limiter.on_response(429, started=clock() - 0.25)
        assert limiter._held == {}  # a 429 voids every booking, held slots too
        limiter.acquire()
        limiter.acquire()
        held = limiter._held[thread]
        clock.sleep(2.0)  # the chain paused: its held slot is long gone
        before = clock()
        limiter.acquire()
    assert clock() == before  # nobody queued: it starts now, on a fresh slot ...
    assert limiter._starts[-2] > held.slot  # ... booked now, not the stale one


def test_a_thread_leaving_its_urgent_chain_takes_the_slot_it_held_with_its_next_request(clock):
    """Unused, a held slot would be a hole in the pace (a slot nobody starts in)."""
    limiter = RateLimiter(10, None, headroom=0.0, clock=clock, sleep=clock.sleep)
    thread = threading.get_ident()
    urgent_pages(limiter, clock, 3)
    held = limiter._held[thread].slot
    clock.sleep(0.05)
    before = clock()
    limiter.acquire()  # an ordinary request of the same thread
    assert clock() == before and held <= before  # the held slot, already due: it leaves at once
    assert limiter._held == {}
    assert len(limiter._starts) == 4  # three urgent starts and this one: no slot booked for nobody


def test_requests_that_leave_late_never_clump_above_the_ceiling_in_any_second(clock):
    """A thread the OS runs late leaves late; the requests booked after it, already due, would leave with it
    (13 in one second here). Real starts stay at the ceiling's count per second (10) instead."""
    limiter = RateLimiter(10, None, headroom=0.0, clock=clock, sleep=clock.sleep)
    late = [0.25]  # the fourth request's thread wakes 250 ms after its slot

    def oversleep(seconds: float) -> None:
        clock.sleep(seconds + (late.pop() if len(starts) == 3 and late else 0.0))

    limiter._sleep = oversleep
    starts: list[float] = []
    for _ in range(30):
        limiter.acquire()
        starts.append(clock.elapsed)
    assert max(len([t for t in starts if t0 <= t < t0 + 1.0 - 1e-9]) for t0 in starts) <= 10


def test_a_429_in_the_first_second_cuts_from_the_pace_not_from_a_slow_start(clock):
    """Ten requests in the first 0.5 s are 20/s, not 5/s over the usual 2 s span."""
    limiter = RateLimiter(20, None, headroom=0.0, widen=0.0, decrease=0.8, clock=clock, sleep=clock.sleep)
    start_times(limiter, clock, 10)  # 0.0 .. 0.45 at 20/s
    limiter.on_response(429, started=clock(), retry_after=None)
    assert limiter.rate == pytest.approx(16.0)


def test_the_rate_limiter_takes_feedback_and_the_others_do_not():
    assert isinstance(RateLimiter(1, None), RateFeedback)
    assert not isinstance(SlidingWindowLimiter(1, None), RateFeedback)
    assert not isinstance(CallableLimiter(lambda: None), RateFeedback)


# -- against servers that count in fixed or sliding windows (simulated; the clock is fake) -------------------


class SimulatedServer:
    """Counts request arrivals like a rate-limited API: fixed windows (calendar second/minute) or sliding."""

    def __init__(self, kind: str, per_second: int, per_minute: int, phase: float = 0.37) -> None:
        self.kind, self.per_second, self.per_minute = kind, per_second, per_minute
        self.phase = phase  # where the server's calendar seconds begin on our clock
        self.accepted: list[float] = []  # sorted arrival times (jitter can reorder them)

    def arrive(self, t: float) -> int:
        for limit, period in ((self.per_second, 1.0), (self.per_minute, 60.0)):
            if self.kind == "fixed":
                start = (t + self.phase) // period * period - self.phase
                count = bisect.bisect_right(self.accepted, t) - bisect.bisect_left(self.accepted, start)
            else:
                count = bisect.bisect_right(self.accepted, t) - bisect.bisect_right(self.accepted, t - period)
            if count >= limit:
                return 429
        bisect.insort(self.accepted, t)
        return 200


def run_simulation(limiter, clock, server, *, requests, jitter, seed=7, competitor_share=0.0, stall=None):
    """Send `requests` (retrying 429s at once); arrivals lag starts by 5-5+jitter ms.

    `stall=(every, seconds)`: the server stops reading for `seconds` every `every` seconds, then counts
    everything that came in meanwhile at once (a starved server process). Returns (429s, sent, seconds).
    """
    rng = random.Random(seed)
    sent = refused = 0
    competitor_next = 0.0
    while sent - refused < requests:
        limiter.acquire()
        started = clock()
        while competitor_share and competitor_next <= started:  # another tool on the same workspace
            server.arrive(competitor_next)
            competitor_next += 1 / (server.per_second * competitor_share)
        arrival = started + 0.005 + rng.uniform(0, jitter)
        if stall is not None and arrival % stall[0] < stall[1]:
            arrival += stall[1] - arrival % stall[0]
        status = server.arrive(arrival)
        sent += 1
        refused += status == 429
        feedback = getattr(limiter, "on_response", None)
        if feedback is not None:
            feedback(status, started=started)
    return refused, sent, clock.elapsed


@pytest.mark.parametrize(
    ("server_kind", "phase"), [("fixed", 0.0), ("fixed", 0.37), ("fixed", 0.99), ("sliding", 0)]
)
@pytest.mark.parametrize(("per_second", "per_minute"), [(20, 1200), (100, 6000), (100, 3000)])
def test_paced_limiter_keeps_429s_rare_against_fixed_and_sliding_servers(
    clock, server_kind, phase, per_second, per_minute
):
    server = SimulatedServer(server_kind, per_second, per_minute, phase)
    limiter = RateLimiter(per_second, per_minute, clock=clock, sleep=clock.sleep)
    refused, sent, seconds = run_simulation(limiter, clock, server, requests=3000, jitter=0.02)
    assert refused <= 0.01 * sent
    budget = min(per_second, per_minute / 60)
    assert (sent - refused) / (seconds * budget) >= 0.9  # the budget stays busy


@pytest.mark.parametrize(("server_kind", "phase"), [("fixed", 0.37), ("sliding", 0)])
@pytest.mark.parametrize("jitter", [0.1, 0.4])
def test_the_pace_settles_under_a_server_that_stalls_and_counts_clumps(clock, server_kind, phase, jitter):
    """Arrivals held 300 ms every 2 s and counted at once: more than the headroom absorbs. The pace backs
    off, then probes slowly near where it failed, so 429s stay rare at some cost in budget use."""
    server = SimulatedServer(server_kind, 20, 1200, phase)
    limiter = RateLimiter(20, 1200, clock=clock, sleep=clock.sleep)
    refused, sent, seconds = run_simulation(
        limiter, clock, server, requests=3000, jitter=jitter, stall=(2, 0.3)
    )
    assert refused <= 0.01 * sent
    # A sliding window then sees 1.3 s of requests in some 1 s spans: no pace above 20 / 1.3 (77% of the
    # budget) is free of 429s, and the pace oscillates below that.
    assert (sent - refused) / (seconds * 20) >= 0.6


@pytest.mark.parametrize(("server_kind", "phase"), [("fixed", 0.99), ("sliding", 0)])
def test_a_burst_limiter_with_the_same_budget_meets_many_429s(clock, server_kind, phase):
    """Why pacing: a limiter exact by its own clock, bursting to its window, is refused under jitter
    (by a fixed-window server when its seconds begin while a burst is arriving)."""
    server = SimulatedServer(server_kind, 20, 1200, phase)
    limiter = SlidingWindowLimiter(20, 1200, clock=clock, sleep=clock.sleep)
    refused, sent, _ = run_simulation(limiter, clock, server, requests=600, jitter=0.02)
    assert refused > 0.01 * sent  # over the 1% target


@pytest.mark.parametrize("server_kind", ["fixed", "sliding"])
def test_the_pace_backs_off_when_another_tool_takes_part_of_the_budget(clock, server_kind):
    server = SimulatedServer(server_kind, 20, 1200)
    limiter = RateLimiter(20, 1200, clock=clock, sleep=clock.sleep)
    refused, sent, _ = run_simulation(
        limiter, clock, server, requests=2000, jitter=0.02, competitor_share=0.3
    )
    assert limiter.rate < 0.75 * 20  # it found the 70% left
    assert refused <= 0.03 * sent  # each probe for more budget costs a 429, not a stream of them


# -- BatchLimiter ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("batch", "requests", "calls"), [(1, 5, [1] * 5), (4, 10, [4, 4, 4]), (10, 10, [10])]
)
def test_batch_limiter_takes_slots_a_batch_at_a_time(batch, requests, calls):
    taken: list[int] = []
    limiter = BatchLimiter(taken.append, batch=batch)
    for _ in range(requests):
        limiter.acquire()
    assert taken == calls
    assert limiter.calls == len(calls)
    assert isinstance(limiter, Limiter)


def test_batch_limiter_hands_each_slot_out_once_across_threads():
    taken: list[int] = []
    limiter = BatchLimiter(taken.append, batch=3)
    threads = [threading.Thread(target=lambda: [limiter.acquire() for _ in range(9)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(taken) == 36 and taken == [3] * 12


def test_batch_limiter_needs_a_positive_batch_and_an_interval_of_seconds():
    with pytest.raises(ValueError):
        BatchLimiter(lambda n: None, batch=0)
    for interval in (-0.1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="min_interval"):
            BatchLimiter(lambda n: None, batch=1, min_interval=interval)


def test_batch_limiter_asks_for_the_next_batch_no_sooner_than_min_interval_after_a_grant(clock):
    calls: list[float] = []
    limiter = BatchLimiter(
        lambda n: calls.append(round(clock.elapsed, 6)),
        batch=2,
        min_interval=0.25,
        clock=clock,
        sleep=clock.sleep,
    )
    for _ in range(4):  # two batches back to back: the second waits for the interval
        limiter.acquire()
    clock.sleep(1.0)  # a long pause: the third batch has nothing to wait for
    limiter.acquire()
    assert calls == [0.0, 0.25, 1.25]


# -- registry ------------------------------------------------------------------------------------------------------


def test_shared_limiter_returns_one_limiter_per_key():
    a = shared_limiter("http://x|workspace:test-shared-1", 5, 100)
    b = shared_limiter("http://x|workspace:test-shared-1", 99, 9999)
    c = shared_limiter("http://x|workspace:test-shared-2", 5, 100)
    assert a is b
    assert a is not c
    assert a.rate_per_second == 5  # the first caller's budget stands


def test_limiter_key_prefers_workspace_and_never_contains_the_raw_key():
    key = "sk-very-secret"
    assert limiter_key("http://x/api/v2/", workspace_id="ws1", api_key=key) == "http://x/api/v2|workspace:ws1"
    hashed = limiter_key("http://x/api/v2", api_key=key)
    assert key not in hashed
    assert hashed == limiter_key("http://x/api/v2", api_key=key)
    assert hashed != limiter_key("http://x/api/v2", api_key="another")


def test_limiter_key_never_contains_a_password_of_the_base_url():
    assert (
        limiter_key("http://u:pw-secret@x/api/v2", workspace_id="ws1")
        == "http://u:***@x/api/v2|workspace:ws1"
    )
    assert "pw-secret" not in limiter_key("http://u:pw-secret@x/api/v2", api_key="k")


def test_callable_limiter_satisfies_the_protocol_and_calls_through():
    calls = []
    limiter = CallableLimiter(lambda: calls.append(1))
    assert isinstance(limiter, Limiter)
    limiter.acquire()
    limiter.acquire()
    assert calls == [1, 1]
