import random

from shared.alerts.limits import EndpointLimits, LocalLimiter, Permit, permit


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_concurrency_limit_and_release() -> None:
    lim = LocalLimiter(Clock())
    limits = EndpointLimits(max_concurrent=2)
    a, b = lim.acquire("e1", limits), lim.acquire("e1", limits)
    assert a.granted and b.granted
    c = lim.acquire("e1", limits)
    assert not c.granted and c.reason == "concurrency" and c.retry_in > 0
    assert lim.acquire("e2", limits).granted  # other endpoints are not affected
    lim.release(a)
    assert lim.acquire("e1", limits).granted


def test_expired_lease_frees_the_slot() -> None:
    clock = Clock()
    lim = LocalLimiter(clock)
    limits = EndpointLimits(max_concurrent=1, lease_seconds=30)
    assert lim.acquire("e", limits).granted
    assert not lim.acquire("e", limits).granted
    clock.t += 31  # the holder died without releasing
    assert lim.acquire("e", limits).granted


def test_rate_limit_token_bucket() -> None:
    clock = Clock()
    lim = LocalLimiter(clock)
    limits = EndpointLimits(max_concurrent=0, rate_per_second=2, burst=2)
    assert lim.acquire("e", limits).granted
    assert lim.acquire("e", limits).granted
    refused = lim.acquire("e", limits)
    assert not refused.granted and refused.reason == "rate"
    assert abs(refused.retry_in - 0.5) < 1e-9
    clock.t += 0.5
    assert lim.acquire("e", limits).granted


def test_refused_rate_does_not_take_a_slot() -> None:
    lim = LocalLimiter(Clock())
    limits = EndpointLimits(max_concurrent=5, rate_per_second=1, burst=1)
    assert lim.acquire("e", limits).granted
    assert not lim.acquire("e", limits).granted
    assert lim.in_flight("e") == 1


def test_permit_context_releases() -> None:
    lim = LocalLimiter(Clock())
    limits = EndpointLimits(max_concurrent=1)
    with permit(lim, "e", limits) as p:
        assert p.granted and lim.in_flight("e") == 1
    assert lim.in_flight("e") == 0


def test_acquire_many_takes_what_is_free_in_one_step() -> None:
    lim = LocalLimiter(Clock())
    limits = EndpointLimits(max_concurrent=3)
    held = lim.acquire("e", limits)
    batch = lim.acquire_many("e", limits, 5)
    assert [p.granted for p in batch] == [True, True] and len({p.token for p in batch}) == 2
    assert lim.in_flight("e") == 3
    (refused,) = lim.acquire_many("e", limits, 5)
    assert not refused.granted and refused.reason == "concurrency" and refused.retry_in > 0
    lim.release_many(batch)
    assert lim.in_flight("e") == 1 and lim.acquire("e", limits).granted
    lim.release(held)


def test_acquire_many_takes_rate_tokens_as_one_request_each() -> None:
    clock = Clock()
    lim = LocalLimiter(clock)
    limits = EndpointLimits(max_concurrent=0, rate_per_second=2, burst=3)
    assert len(lim.acquire_many("e", limits, 5)) == 3
    (refused,) = lim.acquire_many("e", limits, 5)
    assert not refused.granted and refused.reason == "rate" and abs(refused.retry_in - 0.5) < 1e-9
    clock.t += 1.0
    assert len(lim.acquire_many("e", limits, 5)) == 2


def test_acquire_many_grants_what_as_many_single_acquires_would() -> None:
    """From the same state, acquire_many(n) grants exactly as many permits as n acquires in a row."""
    rng = random.Random(7)
    for _ in range(300):
        limits = EndpointLimits(
            max_concurrent=rng.choice([0, 1, 2, 5]),
            rate_per_second=rng.choice([0.0, 1.0, 3.5]),
            burst=rng.choice([None, 1, 4]),
            lease_seconds=10,
        )
        if limits.max_concurrent == 0 and limits.rate_per_second == 0:
            continue
        clocks = (Clock(), Clock())
        one, many = LocalLimiter(clocks[0]), LocalLimiter(clocks[1])
        held: tuple[list[Permit], list[Permit]] = ([], [])
        for _step in range(6):  # the same history on both
            dt, k = rng.choice([0.0, 0.2, 0.7, 3.0]), rng.randint(0, 3)
            for c in clocks:
                c.t += dt
            got1 = [p for p in (one.acquire("e", limits) for _ in range(k)) if p.granted]
            got2 = [p for p in many.acquire_many("e", limits, k) if p.granted] if k else []
            assert len(got1) == len(got2), (limits, dt, k)
            held[0].extend(got1)
            held[1].extend(got2)
            if held[0] and rng.random() < 0.5:
                one.release(held[0].pop(0))
                many.release_many([held[1].pop(0)])
            assert one.in_flight("e") == many.in_flight("e")
