"""Progress a person can follow, on stderr only and only when stderr is a terminal (``--json`` too;
``--quiet`` turns it off); never on stdout.

Two meters, each rendered as one line that fits the terminal:

- :class:`CallMeter` counts the calls of one or more engines. With a planned total (the samples a
  command is about to ask for) it shows a percentage, a bar and the time left; without one, a
  counter. Either way: calls made per second, cache hits, failures and the spent cost (calls made
  now, and dollars when the ledger knows every model's price).
- :class:`TrialMeter` follows a search: "trial i of N · best so far 0.62 · cost 1.2e4"; it is the
  ``on_trial`` callback of :func:`callscale.search.base.run_search`.

Example (a fake clock; nothing is drawn):
    >>> ticks = iter([0.0, 10.0])
    >>> meter = CallMeter("pools", total=200, clock=lambda: next(ticks))
    >>> meter.count = lambda: Counts(done=50, made=50)
    >>> str(meter.render(80)).split()[:2]
    ['pools', '25%']
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.live import Live
from rich.text import Text

import callscale.cli.common as common

if TYPE_CHECKING:
    from callscale.engine import Engine
    from callscale.search.archive import Trial

QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr (errors and warnings still "
                                                              "print). Progress shows only when stderr is a terminal.")]

Clock = Callable[[], float]
BAR_WIDTH = (8, 30)  # narrowest and widest bar drawn
SEP = " · "


@dataclass(frozen=True)
class Counts:
    """What the watched engines did so far: samples done (made now + from the store + failed), made now,
    from the store, failed for good, retried, and the dollars spent now (None: not every price is known)."""

    done: int = 0
    made: int = 0
    hits: int = 0
    failed: int = 0
    retries: int = 0
    dollars: float | None = None


def engine_counts(engines: Sequence[Engine]) -> Counts:
    """The :class:`Counts` of ``engines`` added up (safe to read while they run)."""
    made = hits = failed = retries = 0
    dollars, priced, paid = 0.0, True, False
    for engine in engines:
        s = engine.stats
        made, hits, failed, retries = made + s.samples, hits + s.cache_hits, failed + s.failures, retries + s.retries
        for line in engine.ledger.lines():  # a copy: the event loop may add lines meanwhile
            spent = line.spent
            if spent.calls:
                paid = True
                priced = priced and spent.priced
                dollars += spent.dollars
    return Counts(made + hits + failed, made, hits, failed, retries, dollars if paid and priced else None)


def clock_text(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour.

    Example:
        >>> clock_text(75), clock_text(3725)
        ('1:15', '1:02:05')
    """
    s = max(0, round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def sci(x: float) -> str:
    """A cost in few characters: three significant digits below 10 000, then ``1.2e4``.

    Example:
        >>> sci(812.5), sci(3720.4), sci(12345.0), sci(0)
        ('812', '3720', '1.2e4', '0')
    """
    if abs(x) < 1e3:
        return f"{x:.3g}"
    if abs(x) < 1e4:
        return f"{x:.0f}"
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def dollars(x: float) -> str:
    """Dollars in few characters: cents from one cent on, four decimals below.

    Example:
        >>> dollars(1.5), dollars(0.00123)
        ('$1.50', '$0.0012')
    """
    return f"${x:,.2f}" if x >= 0.01 else f"${x:.4f}"


def fit_line(head: str, share: float | None, parts: Sequence[str], width: int) -> Text:
    """One status line at most ``width`` columns: ``head``, the percentage and a bar (when ``share`` is
    known), then as many of ``parts`` (most important first) as fit; the bar goes before any part does.

    Example:
        >>> str(fit_line("pools", 0.5, ["10/20", "2.0 calls/s"], 50))
        'pools  50% ━━━━━━━━━━━━━━━━━━  10/20 · 2.0 calls/s'
        >>> str(fit_line("pools", 0.5, ["10/20", "2.0 calls/s"], 24))
        'pools  50%  10/20'
    """
    parts = list(parts)
    pct = "" if share is None else f"  {min(100.0, 100 * share):.0f}%"
    bar = share is not None
    while True:
        tail = SEP.join(parts)
        if bar and share is not None:
            room = width - len(head) - len(pct) - len(tail) - 3  # a space before the bar, two after
            if room >= BAR_WIDTH[0]:
                bar_width = min(BAR_WIDTH[1], room)
                filled = round(bar_width * min(1.0, max(0.0, share)))
                line = Text(f"{head}{pct} ")
                line.append("━" * filled, style="green")
                line.append("━" * (bar_width - filled), style="grey37")
                return line.append(f"  {tail}" if tail else "")
            bar = False  # once the bar goes it stays gone: the parts matter more
        text = f"{head}{pct}  {tail}" if tail else f"{head}{pct}"
        if len(text) <= width or len(parts) <= 1:
            return Text(text)
        parts.pop()


@dataclass
class CallMeter:
    """Calls of the engines it watches, toward a planned ``total`` of samples (None: a counter)."""

    label: str
    total: int | None = None
    clock: Clock = time.monotonic
    engines: list[Engine] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def watch(self, engine: Engine) -> Engine:
        """Count ``engine``'s calls too (returns it, for engine factories)."""
        self.engines.append(engine)
        return engine

    def count(self) -> Counts:
        """The counts now (replaceable in tests)."""
        return engine_counts(self.engines)

    def render(self, width: int) -> Text:
        """The status line for a console ``width`` columns wide."""
        c = self.count()
        elapsed = max(1e-9, self.clock() - self.started)
        per_s = c.made / elapsed
        rate = f"{per_s:.0f} calls/s" if per_s >= 10 else f"{per_s:.1f} calls/s"
        cost = [f"made {c.made:,}" + ("" if c.dollars is None else f" ({dollars(c.dollars)})")]
        notes = [f"{c.hits:,} from store"] if c.hits else []
        notes += [f"{c.failed} failed"] if c.failed else []
        notes += [f"{c.retries} retries"] if c.retries else []
        if self.total:
            if c.done >= self.total:
                left = f"done in {clock_text(elapsed)}"
            else:
                left = "—" if c.done == 0 else f"{clock_text((self.total - c.done) * elapsed / c.done)} left"
            parts = [f"{c.done:,}/{self.total:,}", rate, left, *cost, *notes]
            return fit_line(self.label, c.done / self.total, parts, width)
        parts = [f"{c.done:,} calls", rate, clock_text(elapsed), *cost, *notes]
        return fit_line(self.label, None, parts, width)


@dataclass
class TrialMeter:
    """A search's trials toward ``total``: the trial running, the best score so far and the cost of the
    trials evaluated (the search's own units), and the calls of ``engine`` when the trials make calls.
    Call it with each evaluated trial (``run_search(..., on_trial=meter)``)."""

    total: int
    clock: Clock = time.monotonic
    engine: Engine | None = None
    trials: list[Trial] = field(default_factory=list)
    done: int = 0

    def __post_init__(self) -> None:
        self.started = self.clock()

    def __call__(self, trial: Trial) -> None:
        self.trials.append(trial)
        self.done = max(self.done + 1, trial.number)  # a resumed search numbers on from its archive

    def render(self, width: int) -> Text:
        from callscale.search.archive import best_trial

        elapsed = max(1e-9, self.clock() - self.started)
        current = min(self.done + 1, self.total)
        best = best_trial(self.trials)
        cost = sum(t.cost or 0.0 for t in self.trials)
        parts = [f"best so far {'—' if best is None else f'{best.score:.3g}'}", f"cost {sci(cost)}"]
        if self.done >= self.total:
            parts.append(f"done in {clock_text(elapsed)}")
        elif self.trials:
            parts.append(f"{clock_text((self.total - self.done) * elapsed / len(self.trials))} left")
        if self.engine is not None:
            c = engine_counts([self.engine])
            parts.append(f"{c.made:,} calls made" + ("" if c.dollars is None else f" ({dollars(c.dollars)})"))
        return fit_line(f"trial {current} of {self.total}", self.done / self.total if self.total else None, parts,
                        width)


def shown(enabled: bool = True) -> bool:
    """Whether progress is drawn: wanted (no ``--quiet``) and stderr is a terminal."""
    return enabled and common.stderr.is_terminal


@contextlib.contextmanager
def live(render: Callable[[int], Text], enabled: bool = True) -> Iterator[None]:
    """Redraw ``render(width)`` on stderr four times a second while the block runs (when :func:`shown`);
    the last state stays on screen. Writes to stderr meanwhile print above the line; stdout is untouched."""
    console = common.stderr
    if not shown(enabled):
        yield
        return
    with Live(console=console, refresh_per_second=4, transient=False, redirect_stdout=False,
              get_renderable=lambda: render(console.width)):
        yield


@contextlib.contextmanager
def call_progress(label: str, *engines: Engine, total: int | None = None, enabled: bool = True,
                  clock: Clock = time.monotonic) -> Iterator[CallMeter]:
    """A :class:`CallMeter` over ``engines`` (add more with ``meter.watch``), drawn while the block runs."""
    meter = CallMeter(label, total, clock, list(engines))
    with live(meter.render, enabled):
        yield meter


@contextlib.contextmanager
def progress(engine: Engine, label: str, enabled: bool = True, total: int | None = None) -> Iterator[None]:
    """:func:`call_progress` over one engine."""
    with call_progress(label, engine, total=total, enabled=enabled):
        yield


@contextlib.contextmanager
def search_progress(total: int, enabled: bool = True, *, engine: Engine | None = None,
                    clock: Clock = time.monotonic) -> Iterator[TrialMeter]:
    """A :class:`TrialMeter` for a search of ``total`` trials, drawn while the block runs; pass it to
    :func:`~callscale.search.base.run_search` as ``on_trial``."""
    meter = TrialMeter(total, clock, engine)
    with live(meter.render, enabled):
        yield meter


def planned_samples(items: int, samples: int, extra: int = 0) -> int:
    """Samples a command will ask for: ``samples`` per item, plus ``extra`` single calls.

    Example:
        >>> planned_samples(30, 16, extra=30)
        510
    """
    return items * samples + extra


def declared_calls(network: Any, task: Any) -> int | None:
    """The calls a network declares for every item of ``task`` (None when it cannot say in advance)."""
    from callscale.networks import item_sizes

    try:
        return sum(int(network.cost(item_sizes(item)).calls) for item in task.items) or None
    except Exception:  # a declaration that needs the run's outcome: a counter instead
        return None
