"""Tests of gateway.sla: clock calendars against the seeds that define the clocks."""
