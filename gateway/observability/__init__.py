"""What operators see of a running gateway: Prometheus metrics and the worker's own port."""
