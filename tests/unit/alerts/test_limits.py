from shared.alerts.limits import EndpointLimits, LocalLimiter, permit


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
