from __future__ import annotations

import json
from pathlib import Path

import pytest

from callscale.records import Completion, Fact, ModelCard, Request, Sampling, Usage


def test_key_ignores_nothing_but_n_and_seed() -> None:
    a = Request.chat("m", "q", temperature=0.7)
    assert a.key("b") == Request.chat("m", "q", temperature=0.7).key("b")
    assert a.key("b") != a.key("other-backend")
    assert a.key("b") != Request.chat("m", "q", temperature=0.8).key("b")
    assert a.key("b") != Request.chat("m", "q", temperature=0.7, top_k=40).key("b")
    assert a.key("b") != Request.chat("m", "q", temperature=0.7, extra={"cache_prompt": False}).key("b")
    assert a.key("b") != Request.chat("m2", "q", temperature=0.7).key("b")


def test_seeds_are_consecutive_per_pool() -> None:
    r = Request.chat("m", "q")
    assert [r.seed_for(i) - r.seed_for(0) for i in range(4)] == [0, 1, 2, 3]
    assert Request.chat("m", "other").seed_for(0) != r.seed_for(0)


def test_identity_round_trips() -> None:
    r = Request.chat("m", "q", system="be brief", stop=("\n",), logprobs=True, top_logprobs=5, extra={"grammar": "x"})
    assert Request.from_identity(r.identity()) == r
    p = Request.completion("base", "2+2=", max_tokens=3)
    assert Request.from_identity(p.identity()).key("x") == p.key("x")


def test_request_needs_exactly_one_input() -> None:
    with pytest.raises(ValueError):
        Request(model="m")
    with pytest.raises(ValueError):
        Request(model="m", prompt="p", messages=())


def test_usage_and_card() -> None:
    u = Usage(10, 5)
    assert (u.total_tokens, u.forward_passes) == (15, 6)
    assert ModelCard("m", 1, 1.0, 2.0).dollars(u) == pytest.approx((10 + 10) / 1e6)
    assert ModelCard("m", 1).dollars(u) is None
    assert Completion("x", 0).ok and not Completion("", 0, error="boom").ok
    assert Sampling().top_k == 0 and Sampling().min_p == 0.0


@pytest.mark.parametrize(
    "request_",
    [
        Request.chat("m", "q"),
        Request.chat("m", "Größe — “quoted” \\ back\nslash\t😀", system="sys", temperature=0.8, stop=("\n", "Q:")),
        Request.chat("m", "q", extra={"grammar": 'root ::= "A"', "json_schema": {"b": [1, 2.5, None], "a": {"z": 1, "y": True}}}),
        Request.completion("base", "2+2=", max_tokens=3, logprobs=True, top_logprobs=5),
        Request.completion("base", "", extra={"cache_prompt": False}),
        Request(model="m", messages=()),
        Request.chat("m", "q", temperature=1, top_k=0.0, logprobs=1),  # equal to defaults, but not in JSON
        Request.chat("m", "q", temperature=True),
        Request.chat("m", "q", temperature=1.0),
    ],
)
def test_identity_json_is_the_canonical_encoding_of_identity(request_: Request) -> None:
    # Pool keys of stored samples (and the shipped study replay) depend on this text byte for byte.
    assert request_.identity_json == json.dumps(request_.identity(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_stop_sequences_given_as_a_list_or_a_string_are_a_tuple() -> None:
    listed = Request.chat("m", "q", stop=["\n", "Q:"])
    assert listed.sampling.stop == ("\n", "Q:")
    assert listed.identity_json == Request.chat("m", "q", stop=("\n", "Q:")).identity_json
    assert Request.chat("m", "q", stop="Q:").sampling.stop == ("Q:",)


def test_identity_and_seed_are_computed_once_per_request() -> None:
    r = Request.chat("m", "q")
    assert r.identity_json is r.identity_json and r.seed_for(3) == r.seed_for(0) + 3
    assert "identity_json" in r.__dict__ and "identity_digest" in r.__dict__
    assert Request.identity_json.__doc__ and "Canonical JSON" in Request.identity_json.__doc__
    assert Request.chat("m", "q").identity_json == r.identity_json  # a fresh request computes the same text


# -- facts: what a request is about, for the simulated world; never part of its identity ---------------------
FACTS: dict[str, Fact] = {"task": "sums", "item": "q1", "op": "verify", "shown": "4", "candidates": ("4", "5")}


@pytest.mark.parametrize("bare", [Request.chat("m", "q", system="s", temperature=0.7, extra={"grammar": "x"}),
                                  Request.completion("base", "2+2=", max_tokens=3)])
def test_facts_are_not_part_of_identity_equality_or_key(bare: Request) -> None:
    key, text = bare.key("b"), bare.identity_json
    built = (Request.chat("m", "q", system="s", temperature=0.7, extra={"grammar": "x"}, facts=FACTS)
             if bare.messages is not None else Request.completion("base", "2+2=", max_tokens=3, facts=FACTS))
    for request in (built, bare.with_facts(**FACTS)):
        assert dict(request.facts) == FACTS and not bare.facts
        assert request.key("b") == key and request.identity_json == text and request.identity() == bare.identity()
        assert request == bare and request.seed_for(5) == bare.seed_for(5)
        assert "facts" not in repr(request) and "q1" not in request.identity_json
    assert Request.from_identity(built.identity()).facts == {}


def test_pinned_keys_are_unchanged_by_facts() -> None:
    """Keys computed before requests had facts: stored pools must keep being found."""
    assert Request.chat("m", "q", temperature=0.7, facts=FACTS).key("b") == (
        "d86549d22b71057319cd6a66e4607f94ee733be0f68ab820feac41ba295399ee")
    assert Request.chat("m", "Größe\n😀", system="s", extra={"grammar": "x"}).with_facts(**FACTS).key("simulated") == (
        "f4fd986e16784f9a623c7dbd191fce7155e3f0512929446af4e8abc6ad81833c")
    assert Request.completion("base", "2+2=", max_tokens=3, facts=FACTS).key("b") == (
        "f37bb8f54f4f12c50ad3f94e59aa3c62d83ffda040bf7a91d3120ce3a4bba6ec")


def test_facts_are_neither_sent_nor_stored(tmp_path: Path) -> None:
    from callscale.backends.base import Batch
    from callscale.backends.openai_compat import OpenAICompatBackend
    from callscale.store import Store

    request = Request.chat("m", "q", facts=FACTS)
    body = json.dumps(OpenAICompatBackend("http://h/v1", api_key_env=None).body(Batch(request, 0, 2)))
    assert "facts" not in body and "q1" not in body and "verify" not in body
    with Store(tmp_path / "s.sqlite") as store:
        store.add("b", request, [Completion("yes", 0)])
        store.flush()
        (stored,) = store.samples()
    assert stored.request == request and stored.request.facts == {}
    assert stored.request.key("b") == request.key("b")


def test_with_facts_keeps_the_computed_identity_and_adds_to_earlier_facts() -> None:
    r = Request.chat("m", "q", facts={"task": "t", "item": "a"})
    key = r.key("b")
    more = r.with_facts(item="b", op="generate")
    assert dict(more.facts) == {"task": "t", "item": "b", "op": "generate"} and dict(r.facts) == {"task": "t", "item": "a"}
    assert more.__dict__["identity_json"] is r.identity_json and more.key("b") == key
