"""Adapters: the Redis key layout, the job queue's names and wire format, the outbox stream, stores and the warehouse.

They sit between the pure domain in ``shared`` and the edges (``api``, ``workers``, the CLI), which receive them by
injection; ``shared`` never imports from here.
"""
