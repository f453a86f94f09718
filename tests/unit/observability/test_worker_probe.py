"""The worker's liveness: down when a background thread has died or the delivery loop has not
moved for longer than a lease (its claims are being taken back by others by then)."""

from __future__ import annotations

import threading

from gateway.observability.worker_http import WorkerProbe


def test_alive_while_threads_run_and_the_loop_moves() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="delivery")
    thread.start()
    now = [1000.0]
    beat = [995.0]
    probe = WorkerProbe([thread], lambda: beat[0], 300.0, now=lambda: now[0])
    try:
        assert probe.problems() == []
        now[0] = 1296.0
        assert probe.problems() == ["the delivery loop has not moved for 301 s"]
        beat[0] = 1290.0
        assert probe.problems() == []
    finally:
        stop.set()
        thread.join()
    assert probe.problems() == ["thread delivery has stopped"]
