"""Outbound delivery: ports, destinations, retry policy and the worker."""

from gateway.delivery.ports import Destination, PermanentFailure, TransientFailure
from gateway.delivery.retry_policy import RetryPolicy
from gateway.delivery.worker import Worker

__all__ = ["Destination", "PermanentFailure", "RetryPolicy", "TransientFailure", "Worker"]
