"""``gateway demo``: a newcomer sees the whole gateway work in a few minutes.

A synthetic authority (``synthetic``) and a scripted fortnight (``script``) played by
least-privilege actors (``actors``) through the real API, with the loopback Mosaic and NHS
services the integration tests use, on a simulated clock (``clock``); ``runner`` puts it
together and ``report`` prints what happened and where to look.
"""
