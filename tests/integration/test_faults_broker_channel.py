"""A worker's broker channel when Redis goes away, step by step as Celery's consumer meets it (issue 15).

On a lost connection the consumer calls `connection.collect()` and then `connection.close()`. With kombu's
own Redis channel, when Redis is down at that moment and the channel holds an unacknowledged message
(acks_late, a task running) and an auto-delete fanout binding (the worker's control queue), the collect
leaves the channel open and the close restores the message through a pool built from the cleared connection
info: AttributeError (`conninfo.hostname` of None), which Celery does not take for a connection error, so the
worker stopped for good ("Unrecoverable error"). With kombu's channel these tests fail with that error; ours
(services.queue.RedisTransport) closes, answers connection errors while Redis is down, and acks after it is
back. A private Redis (killed and restarted here) keeps the shared one out of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import kombu
import pytest
import redis
from kombu.common import ignore_errors
from kombu.message import Message

from services.queue import RedisTransport, broker_transport
from tests.support.privateservers import PrivateRedis

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

TRANSPORT = "services.queue:RedisTransport"


@pytest.fixture()
def private_redis() -> Iterator[PrivateRedis]:
    rds = PrivateRedis().start()
    try:
        yield rds
    finally:
        rds.close()


def _consuming(url: str) -> tuple[kombu.Connection, Message]:
    """A connection consuming like a worker's: one task message received and not acknowledged, a fanout
    (control) queue bound on the same channel, and a BRPOP waiting for the next message."""
    tasks = kombu.Queue("pipeline", routing_key="pipeline")
    control = kombu.Queue("control", exchange=kombu.Exchange("control", type="fanout"), auto_delete=True)
    with kombu.Connection(url, transport=TRANSPORT) as producer:
        producer.SimpleQueue(tasks).put({"article_ids": [1]})
    conn = kombu.Connection(url, transport=TRANSPORT)
    got: list[Message] = []
    consumer = kombu.Consumer(
        conn.default_channel, [tasks, control], callbacks=[lambda _body, m: got.append(m)], accept=["json"]
    )
    consumer.consume()
    for _ in range(10):  # the task message, the fanout subscription's replies, then nothing more
        try:
            conn.drain_events(timeout=0.5)
        except TimeoutError:
            break
    assert len(got) == 1
    assert conn.default_channel._in_poll  # the next BRPOP is pending, as in an idle worker
    return conn, got[0]


def test_the_redis_url_gets_our_transport() -> None:
    assert broker_transport("redis://127.0.0.1:6379/0") == TRANSPORT
    assert broker_transport("filesystem://") == "services.queue:FilesystemTransport"
    assert broker_transport("rediss://127.0.0.1:6380/0") is None  # kombu's, with its SSL defaults
    conn = kombu.Connection("redis://127.0.0.1:1/0", transport=TRANSPORT)
    assert isinstance(conn.transport, RedisTransport)


def test_connection_lost_with_redis_down_closes_as_a_connection_error(private_redis: PrivateRedis) -> None:
    conn, message = _consuming(private_redis.url)
    channel = conn.default_channel
    private_redis.stop()  # Redis gone while the task runs

    conn.collect(socket_timeout=1)  # as Celery's consumer does on the lost connection, then:
    ignore_errors(conn, conn.close)  # raised AttributeError with kombu's channel (the worker died)
    assert channel.closed

    with pytest.raises(redis.ConnectionError):
        message.ack()  # Redis still down: a connection error, which Celery logs and moves on from
    private_redis.start()
    message = Message(body=message.body, channel=channel, delivery_tag=message.delivery_tag)
    message.ack()  # the late ack after the restart reaches the new Redis (nothing left to remove there)


def test_a_collected_channel_answers_a_connection_error(private_redis: PrivateRedis) -> None:
    conn = kombu.Connection(private_redis.url, transport=TRANSPORT)
    channel = conn.default_channel
    channel.client.ping()
    conn.collect()  # Redis up: closed cleanly, and the transport forgot where Redis is
    with pytest.raises(redis.ConnectionError):
        channel.basic_ack("a-tag-delivered-before")  # no AttributeError from `conninfo.hostname`
