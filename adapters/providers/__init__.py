"""Readers and clients for provider registers: GIAS (the DfE establishment extract), UKRLP, and
the authority's own approved alternative-provision list.

Import from the submodules (``adapters.providers.gias``, ``adapters.providers.approved_list``,
``adapters.providers.ukrlp``); this package re-exports nothing, so each can change on its own.
"""
