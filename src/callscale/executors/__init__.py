"""Executors: where calls run. ``local`` — this process's asyncio loop (the default); ``ray`` — Ray
actors across a cluster, each holding its own backend replica, with the store, claims and ledger on
the driver (:mod:`callscale.executors.ray`; the ``ray`` extra)."""

EXECUTORS = ("local", "ray")
