from __future__ import annotations

import json

import pytest

from callscale.records import Completion, ModelCard, Request, Sampling, Usage


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
