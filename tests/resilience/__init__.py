"""Faults the gateway must survive, with real processes: a worker killed mid-delivery, the
database restarted under the service, the API killed during a large feed."""
