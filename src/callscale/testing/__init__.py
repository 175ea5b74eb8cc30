"""Test and benchmark helpers that ship with callscale (loopback servers)."""
