from __future__ import annotations

from pathlib import Path

import pytest

from callscale.records import Completion, Request, TokenLogprob, Usage
from callscale.store import Store, read_jsonl


def _c(i: int, text: str = "A") -> Completion:
    return Completion(text, i, Usage(3, 1), logprobs=(TokenLogprob("A", -0.1, (("A", -0.1), ("B", -2.3))),))


def test_pool_reads_pending_and_committed(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    r = Request.chat("m", "q")
    key = r.key("b")
    store.add("b", r, [_c(0), _c(1)])
    assert [c.index for c in store.pool(key, 5)] == [0, 1]  # before the commit
    store.flush()
    store.add("b", r, [_c(2)])
    assert [c.index for c in store.pool(key, 5)] == [0, 1, 2]
    assert [c.index for c in store.pool(key, 2)] == [0, 1]
    store.close()
    again = Store(tmp_path / "s.sqlite")
    pool = again.pool(key, 5)
    assert [c.index for c in pool] == [0, 1, 2] and all(c.cached for c in pool)
    assert pool[0].logprobs == _c(0).logprobs


def test_failed_completions_are_failures_not_results(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    r = Request.chat("m", "q")
    store.add("b", r, [Completion("", 0, error="HTTP 500")])
    store.add_failure(r.key("b"), 0, "HTTP 500", 6)
    store.flush()
    assert store.pool(r.key("b"), 1) == []
    assert store.failures() == [(r.key("b"), 0, "HTTP 500", 6)]


def test_export_and_read_jsonl(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    r = Request.chat("m", "q", temperature=0.5)
    store.add("b", r, [_c(0, "A"), _c(1, "B")])
    store.flush()
    assert store.export_jsonl(tmp_path / "x.jsonl.gz") == 2
    samples = list(read_jsonl(tmp_path / "x.jsonl.gz"))
    assert [s.completion.text for s in samples] == ["A", "B"]
    assert samples[0].request == r and samples[0].backend == "b"


def test_bad_jsonl_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"backend": "b"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:1"):
        list(read_jsonl(bad))


def test_not_a_store_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(ValueError, match=r"junk\.sqlite"):
        Store(junk)


def test_runs_are_recorded(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    run = store.start_run("run", {"k": 3})
    store.finish_run(run, {"accuracy": 0.5})
    assert store.runs()[0]["summary"] == {"accuracy": 0.5}


@pytest.mark.parametrize("n_pools", [1, 99, 100, 101, 250])
def test_flush_writes_every_row_once_across_multi_row_statements(tmp_path: Path, n_pools: int) -> None:
    store = Store(tmp_path / "s.sqlite")
    requests = [Request.chat("m", f"q{i}") for i in range(n_pools)]
    for i, r in enumerate(requests):
        store.add("b", r, [_c(j, f"t{i}.{j}") for j in range(2)])
    store.flush()
    for r in requests[::2]:  # a sample already stored is ignored, a new one added
        store.add("b", r, [_c(1, "changed"), _c(2, "new")])
    store.flush()
    assert store.count() == 2 * n_pools + len(requests[::2])
    assert [c.text for c in store.pool(requests[-1].key("b"), 3)][:2] == [f"t{n_pools - 1}.0", f"t{n_pools - 1}.1"]
    assert {s.request.identity_json for s in store.samples()} == {r.identity_json for r in requests}
    store.close()


def test_the_request_keys_remembered_stay_bounded_and_forgetting_is_harmless(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A million-call sweep must not grow the driver's memory: the set of written request keys is cleared
    past a bound; a request written again after that is ignored by the database."""
    import callscale.store as store_module

    monkeypatch.setattr(store_module, "KNOWN_REQUESTS_MAX", 3)
    store = Store(tmp_path / "s.sqlite")
    requests = [Request.chat("m", f"q{i}") for i in range(10)]
    for request in requests:
        store.add("b", request, [Completion(index=0, text="a", usage=Usage(3, 1))])
        store.flush()
        assert len(store._known_requests) <= 3
    for request in requests:  # forgotten or not, each pool gets its second sample
        store.add("b", request, [Completion(index=1, text="b", usage=Usage(3, 1))])
    store.flush()
    assert [len(store.pool(r.key("b"), 5)) for r in requests] == [2] * 10
    store.close()
