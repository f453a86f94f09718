"""Transports and wire formats of the systems around the gateway (MIS, Mosaic, NHS, registers)."""
