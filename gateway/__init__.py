"""Section 19 interoperability gateway."""

__version__ = "0.1.0"
