"""Loopback stand-ins for the systems the gateway talks to, used by the tests and the demo."""
