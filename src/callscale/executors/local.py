"""Local parallelism: run independent pieces of work in this process or in a pool of local processes.

The analysis's independent fits (cross-validation folds, bootstrap replicates) and the study's parts go
through a :data:`Mapper` — :func:`serial_map` here, :func:`local_map` in local processes, or
:func:`callscale.executors.ray.ray_map` on a Ray cluster — and never depend on where they ran.
:func:`process_pool` gives a pool to submit to while other work (e.g. drawing the next part's samples)
goes on. Workers are forked where the platform allows (they start at once with everything imported)
and use one BLAS thread each (:func:`one_blas_thread`): the products are small, and the processes are
the parallelism.

Example:
    >>> local_map(abs, [-3, 4]) == serial_map(abs, [-3, 4]) == [3, 4]
    True
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "Mapper",
    "available_cpus",
    "local_map",
    "one_blas_thread",
    "process_pool",
    "serial_map",
]

Mapper = Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]]
"""Runs a function over items and returns the results in order, like ``list(map(fn, items))``, wherever
it likes: in this process (:func:`serial_map`), in local processes (:func:`local_map`), as Ray tasks
(:func:`callscale.executors.ray.ray_map`). The function and items are picklable; the results never
depend on where they ran."""


def serial_map(fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    """``fn`` over ``items`` in this process.

    >>> serial_map(abs, [-1, 2])
    [1, 2]
    """
    return [fn(item) for item in items]


def available_cpus() -> int:
    """CPUs this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


@functools.cache
def _openblas() -> tuple[Any, Any] | None:
    """Getter and setter of the thread count of numpy's bundled OpenBLAS (``None`` without one)."""
    for path in sorted((Path(np.__file__).parent.parent / "numpy.libs").glob("libscipy_openblas*.so*")):
        try:
            lib = ctypes.CDLL(str(path))
        except OSError:
            continue
        for suffix in ("64_", ""):
            get = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None)
            set_ = getattr(lib, f"scipy_openblas_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                get.restype = ctypes.c_int
                set_.argtypes = [ctypes.c_int]
                return get, set_
    return None


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Within: one BLAS thread (the prior's products are small; threads on them only oversubscribe the
    CPUs, and fits run in parallel as processes). Best effort: numpy's bundled OpenBLAS, if any.

    >>> with one_blas_thread():
    ...     pass
    """
    blas = _openblas()
    if blas is None:
        yield
        return
    before = int(blas[0]())
    blas[1](1)
    try:
        yield
    finally:
        blas[1](before)


def _one_blas_thread() -> None:
    """Pool-worker start: one BLAS thread for the worker's life."""
    blas = _openblas()
    if blas is not None:
        blas[1](1)


def local_map(fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    """``fn`` over ``items`` in a pool of min(CPUs, items) local processes (one BLAS thread each),
    results in order (in this process when one worker would do).

    >>> local_map(abs, [-3])
    [3]
    """
    todo = list(items)
    workers = min(available_cpus(), len(todo))
    if workers <= 1:
        return serial_map(fn, todo)
    with process_pool(workers) as pool:
        return list(pool.map(fn, todo))



@contextlib.contextmanager
def process_pool(workers: int | None = None) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``workers`` (default: the CPUs this process may use) local processes, forked where the
    platform allows, one BLAS thread each; shut down on exit.

    >>> with process_pool(1) as pool:
    ...     pool.submit(abs, -2).result()
    2
    """
    context = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    pool = ProcessPoolExecutor(max_workers=workers or available_cpus(), mp_context=context,
                               initializer=_one_blas_thread)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
