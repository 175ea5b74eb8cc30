"""Every example at a small size on the embedded model (SmolLM2 plays every role): a few calls each."""

from __future__ import annotations

import pytest

from callscale.asymptotic.examples import analyze_example, get_example, real_engine
from callscale.asymptotic.measurement import PassLedger
from callscale.backends.local import LocalBackend, LocalServer

pytestmark = pytest.mark.real_model


@pytest.mark.parametrize("name", ["debugging", "evolution", "summarising", "specialists"])
async def test_example_runs_on_the_local_model(local_server: LocalServer, name: str) -> None:
    example = get_example(name)
    sizes = example.sizes({**example.real_sizes, **({"cap": 1} if name == "evolution" else {})})
    backend = LocalBackend(local_server)
    try:
        for d in example.decompositions:
            engine = real_engine(backend, example, sizes)
            detail = await d.run(engine, sizes, True)
            ledger = engine.ledger
            assert isinstance(ledger, PassLedger)
            total = ledger.total().system
            assert total.failed == 0 and total.prompt_tokens > 0 and total.completion_tokens > 0
            assert total.primitive_cost > 0 and ledger.passes() > 0
            if name == "evolution":  # stops when solved, else at the cap
                assert total.calls == detail["candidates"] == 1
            else:  # the structure does not depend on what the model writes
                assert total.calls == example.declared(d, sizes)["calls"]
                assert ledger.depth == example.declared(d, sizes)["depth"]
            if name == "specialists":
                assert 0.0 <= detail["accuracy"] <= 1.0 and detail["ci_low"] <= detail["accuracy"] <= detail["ci_high"]
    finally:
        await backend.aclose()


async def test_routing_analysis_on_the_local_model(local_server: LocalServer) -> None:
    backend = LocalBackend(local_server)
    try:
        example = get_example("routing")
        a = await analyze_example(example, [2, 3], fixed={"q": 1}, engine=lambda ex, sz, seed: real_engine(backend, ex, sz),
                                  real=True, backend_name="local", symbolic=False)
    finally:
        await backend.aclose()
    assert a.backend == "local" and a.exact  # with real prompts only calls and depth are declared
    assert set(a.rows[0].declared["routed"]) == {"calls", "depth"} and a.checks["gain"].declared is None
    for row in a.rows:
        assert row.measured["generalist"]["calls"] == 1 and row.measured["routed"]["calls"] == 2
        assert row.measured["routed"]["depth"] == 2
        # every role is the same 135M model, so routing's delegator call is pure overhead here
        assert row.gain("primitive", "generalist", "routed") < 1
