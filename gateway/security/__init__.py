"""Credentials, scopes and the audit of who read what."""
