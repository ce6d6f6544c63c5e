import threading

from shared.alerts.stream import LocalAlertStream, parse_id


def test_local_fanout_to_every_subscriber() -> None:
    s = LocalAlertStream()
    a, b = s.subscribe(), s.subscribe()
    eid = s.publish("alert.created", {"alert_id": 1}, watch_id=7)
    for sub in (a, b):
        ev = sub.get(timeout=1)
        assert ev is not None and ev.id == eid and ev.data == {"alert_id": 1} and ev.watch_id == "7"
    assert a.get(timeout=0.01) is None


def test_resume_after_last_event_id() -> None:
    s = LocalAlertStream()
    ids = [s.publish("alert.created", {"n": i}) for i in range(5)]
    sub = s.subscribe(last_event_id=ids[1])
    got = [sub.get(timeout=0.1) for _ in range(3)]
    assert [e.data["n"] for e in got if e] == [2, 3, 4]
    assert sub.get(timeout=0.01) is None


def test_watch_filter() -> None:
    s = LocalAlertStream()
    sub = s.subscribe(watch_ids=[2])
    s.publish("alert.created", {"n": 1}, watch_id=1)
    s.publish("alert.created", {"n": 2}, watch_id=2)
    ev = sub.get(timeout=1)
    assert ev is not None and ev.data == {"n": 2}


def test_ids_increase() -> None:
    s = LocalAlertStream()
    ids = [s.publish("x", {}) for _ in range(100)]
    parsed = [parse_id(i) for i in ids]
    assert parsed == sorted(parsed) and len(set(ids)) == 100


def test_blocked_get_wakes_on_publish_and_close() -> None:
    s = LocalAlertStream()
    sub = s.subscribe()
    out = []
    t = threading.Thread(target=lambda: out.append(sub.get(timeout=5)))
    t.start()
    s.publish("alert.updated", {"n": 1})
    t.join(5)
    assert out and out[0] is not None and out[0].type == "alert.updated"
    sub2 = s.subscribe()
    t2 = threading.Thread(target=lambda: out.append(sub2.get(timeout=5)))
    t2.start()
    sub2.close()
    t2.join(5)
    assert out[-1] is None
