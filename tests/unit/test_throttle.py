"""The failed-login throttle's counting: per key, within a sliding window, bounded."""

from __future__ import annotations

from gateway.security.throttle import FailureThrottle, source_key, token_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_is_refused_after_the_limit_until_its_oldest_failure_leaves_the_window() -> None:
    clock = Clock()
    throttle = FailureThrottle(limit=3, window=60.0, clock=clock)
    for _ in range(3):
        assert throttle.failed("a", "b") is None
        clock.now += 10
    assert throttle.retry_after("a") == 30.0
    assert throttle.failed("a", "c") == 30.0  # refused, and not counted: "c" is still clear
    assert throttle.retry_after("c") is None
    assert throttle.retry_after("z", "b") == 30.0  # either key over the limit refuses
    clock.now += 30
    assert throttle.retry_after("a", "b") is None


def test_memory_is_bounded_by_forgetting_the_quietest_keys() -> None:
    clock = Clock()
    throttle = FailureThrottle(limit=2, window=60.0, clock=clock, max_keys=3)
    throttle.failed("old")
    throttle.failed("old")
    for key in ("x", "y", "z"):
        throttle.failed(key)
    assert throttle.retry_after("old") is None  # forgotten first
    assert len(throttle._failures) == 3


def test_sources_are_counted_by_address_and_ipv6_by_its_64_block() -> None:
    assert source_key("192.0.2.7") == "source:192.0.2.7"
    assert source_key("::ffff:192.0.2.7") == "source:192.0.2.7"
    assert source_key("2001:db8:1:2::1") == source_key("2001:db8:1:2:ffff::9")
    assert source_key("2001:db8:1:2::1") != source_key("2001:db8:1:3::1")
    assert source_key(None) == "source:unknown"
    assert source_key("testclient") == "source:testclient"


def test_a_token_is_counted_by_a_digest_that_is_neither_it_nor_its_stored_hash() -> None:
    from gateway.security.tokens import token_hash

    token = "s19_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd"
    key = token_key(token)
    assert key == token_key(token) != token_key(token + "x")
    assert token[4:12] not in key and token_hash(token)[:24] not in key
    assert len(key) == len("token:") + 24
