"""Backends: the OpenAI-compatible HTTP client, the embedded local model, simulation and replay."""

from callscale.backends.base import Backend, BackendError, Batch, ConfigurationError, InstantBackend, TransientError

__all__ = ["Backend", "BackendError", "Batch", "ConfigurationError", "InstantBackend", "TransientError"]
