"""The model catalogue: files, errors naming file/line/field, prices, built-in entries, endpoints."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from genai_prices import Usage, calc_price

from callscale.backends.local import SMOLLM2_CARD
from callscale.backends.registry import register_backend, unregister_backend
from callscale.catalogue import (
    FIELDS,
    Catalogue,
    CatalogueError,
    ModelEntry,
    PriceWarning,
    builtin_catalogue,
    load_catalogue,
    lookup_price,
    parse_catalogue,
    with_prices,
)
from callscale.limits import RateLimiter
from callscale.records import Usage as CallUsage

YAML = """\
x-lab: &lab
  base_url: http://127.0.0.1:8000/v1
  concurrency: 16
models:
  gpt-4o-mini:
    backend: openai
    base_url: https://api.openai.com/v1
    api_key_env: OPENAI_API_KEY
    provider: openai
    rpm: 500
    tpm: 200000
    timeout: 60
    connect_timeout: 5
  qwen-7b:
    <<: *lab
    backend: openai
    model: Qwen/Qwen2.5-7B-Instruct
    params: 7.6B
    price_in: 0.2
    price_out: 0.4
    max_n: 8
    context_length: 32768
  qwen-7b-base:
    <<: *lab
    backend: openai
    model: Qwen/Qwen2.5-7B
    params: 7615616512
    price_in: 0
    price_out: 0
    chat: false
    concurrency: 4
  my-gguf:
    backend: local
    weights: weights/model.gguf
    params: 494M
    requires: make models
  sim:
    backend: simulated
"""

TOML = """\
[models.gpt-4o-mini]
backend = "openai"
base_url = "https://api.openai.com/v1"
api_key_env = "OPENAI_API_KEY"
provider = "openai"
rpm = 500
tpm = 200_000
timeout = 60
connect_timeout = 5

[models.qwen-7b]
backend = "openai"
model = "Qwen/Qwen2.5-7B-Instruct"
base_url = "http://127.0.0.1:8000/v1"
concurrency = 16
params = "7.6B"
price_in = 0.2
price_out = 0.4
max_n = 8
context_length = 32768

[models.qwen-7b-base]
backend = "openai"
model = "Qwen/Qwen2.5-7B"
base_url = "http://127.0.0.1:8000/v1"
params = 7615616512
price_in = 0
price_out = 0
chat = false
concurrency = 4

[models.my-gguf]
backend = "local"
weights = "weights/model.gguf"
params = "494M"
requires = "make models"

[models]
sim = { backend = "simulated" }
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_and_toml_load_to_equal_entries(tmp_path: Path) -> None:
    from_yaml = load_catalogue(write(tmp_path, "models.yaml", YAML))
    from_toml = load_catalogue(write(tmp_path, "models.toml", TOML))
    assert list(from_yaml) == list(from_toml) == ["gpt-4o-mini", "qwen-7b", "qwen-7b-base", "my-gguf", "sim"]
    assert from_yaml.entries == from_toml.entries
    qwen = from_yaml.get("qwen-7b")
    assert (qwen.model, qwen.params, qwen.concurrency, qwen.max_n, qwen.price_source) == (
        "Qwen/Qwen2.5-7B-Instruct", 7_600_000_000, 16, 8, "catalogue")
    base = from_yaml.get("qwen-7b-base")
    assert (base.chat, base.concurrency, base.price_in, base.price_out) == (False, 4, 0, 0)  # 0 given explicitly: free
    assert base.card().dollars(CallUsage(1000, 1000)) == 0
    assert from_yaml.get("my-gguf").weights == str(tmp_path / "weights" / "model.gguf")
    assert from_yaml.get("sim").model == "sim"
    assert from_yaml.get("sim").price_source is None and from_yaml.get("sim").card().price_in_per_mtok is None
    gpt = from_toml.get("gpt-4o-mini")
    assert (gpt.rpm, gpt.tpm, gpt.timeout, gpt.connect_timeout, gpt.api_key_env) == (500, 200_000, 60, 5, "OPENAI_API_KEY")


def test_yml_suffix_and_empty_models(tmp_path: Path) -> None:
    assert len(load_catalogue(write(tmp_path, "m.yml", "models:\n"))) == 0
    assert len(load_catalogue(write(tmp_path, "m.toml", "[models]\n"))) == 0


BAD_YAML = [
    ("unknown field", "models:\n  a:\n    backend: simulated\n    rpn: 5\n", 4, "rpn", "did you mean 'rpm'"),
    ("params not a size", "models:\n  a:\n    backend: simulated\n    params: big\n", 4, "params", "'big'"),
    ("negative rpm", "models:\n  a:\n    backend: simulated\n    rpm: -1\n", 4, "rpm", "positive"),
    ("zero timeout", "models:\n  a:\n    backend: simulated\n\n    timeout: 0\n", 5, "timeout", "positive"),
    ("bool as number", "models:\n  a:\n    backend: simulated\n    tpm: true\n", 4, "tpm", "number"),
    ("fractional concurrency", "models:\n  a:\n    backend: simulated\n    concurrency: 2.5\n", 4, "concurrency", "whole"),
    ("zero max_n", "models:\n  a:\n    backend: simulated\n    max_n: 0\n", 4, "max_n", "positive"),
    ("negative price", "models:\n  a:\n    backend: simulated\n    price_in: -0.1\n", 4, "price_in", "non-negative"),
    ("chat not a bool", "models:\n  a:\n    backend: simulated\n    chat: maybe\n", 4, "chat", "true or false"),
    ("openai without base_url", "models:\n  z:\n    backend: simulated\n  a:\n    backend: openai\n", 4, "base_url", "needs"),
    ("unknown backend", "models:\n  a:\n    model: m\n    backend: vllmm\n", 4, "backend", "unknown backend kind"),
    ("missing backend", "models:\n  a:\n    model: m\n", 2, "backend", "missing"),
    ("bad base_url", "models:\n  a:\n    backend: openai\n    base_url: localhost:8000\n", 4, "base_url", "http"),
    ("duplicate name", "models:\n  a:\n    backend: simulated\n  a:\n    backend: local\n", 4, "'a'", "duplicate model"),
    ("duplicate field", "models:\n  a:\n    backend: simulated\n    rpm: 1\n    rpm: 2\n", 5, "rpm", "duplicate"),
    ("models not a mapping", "models:\n  - a\n  - b\n", 2, "models", "mapping"),
    ("entry not a mapping", "models:\n  a: 5\n", 2, "'a'", "mapping"),
    ("file not a mapping", "- a\n- b\n", 1, "catalogue", "mapping"),
    ("no models key", "modles:\n  a:\n    backend: local\n", 1, "modles", "top-level"),
    ("api key in the file", "models:\n  a:\n    backend: simulated\n    api_key: sk-secret123\n", 4, "api_key", "never"),
    ("key instead of env name", "models:\n  a:\n    backend: simulated\n    api_key_env: sk-abc-123\n", 4, "api_key_env",
     "environment variable"),
    ("invalid YAML", "models:\n  a:\n    backend: [simulated\n", 4, "YAML", "YAML"),
]

BAD_TOML = [
    ("unknown field", '[models.a]\nbackend = "simulated"\nrpn = 5\n', 3, "rpn", "did you mean 'rpm'"),
    ("params not a size", '[models.a]\nbackend = "simulated"\nparams = "big"\n', 3, "params", "'big'"),
    ("negative rpm", '[models.a]\nbackend = "simulated"\nrpm = -1\n', 3, "rpm", "positive"),
    ("zero timeout", '[models.z]\nbackend = "local"\n[models.a]\nbackend = "simulated"\ntimeout = 0\n', 5, "timeout", "positive"),
    ("openai without base_url", '[models.z]\nbackend = "local"\n\n[models.a]\nbackend = "openai"\n', 4, "base_url", "needs"),
    ("unknown backend", '[models.a]\nmodel = "m"\nbackend = "vllmm"\n', 3, "backend", "unknown backend kind"),
    ("duplicate name", '[models.a]\nbackend = "local"\n[models.a]\nbackend = "local"\n', 3, "'a'", "duplicate model"),
    ("duplicate field", '[models.a]\nbackend = "simulated"\nrpm = 1\nrpm = 2\n', 4, "rpm", "duplicate"),
    ("models not a table", 'models = ["a", "b"]\n', 1, "models", "table"),
    ("entry not a table", "[models]\na = 5\n", 2, "'a'", "table"),
    ("unknown top-level key", 'title = "x"\n[models.a]\nbackend = "local"\n', 1, "title", "top-level"),
    ("api key in the file", '[models.a]\nbackend = "simulated"\napi_key = "sk-secret123"\n', 3, "api_key", "never"),
    ("inline table field", '[models]\nz = { backend = "local" }\na = { backend = "simulated", rpm = 0 }\n', 3, "rpm",
     "positive"),
    ("invalid TOML", '[models.a\nbackend = "local"\n', 1, "TOML", "TOML"),
]


def check_one_line(error: CatalogueError, path: Path, line: int, field: str, words: str) -> None:
    message = str(error)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}: "), message
    assert field in message and words in message, message


@pytest.mark.parametrize(("case", "text", "line", "field", "words"), BAD_YAML, ids=[c[0] for c in BAD_YAML])
def test_bad_yaml_is_one_line_naming_file_line_and_field(tmp_path: Path, case: str, text: str, line: int, field: str,
                                                         words: str) -> None:
    path = write(tmp_path, "models.yaml", text)
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    check_one_line(info.value, path, line, field, words)


@pytest.mark.parametrize(("case", "text", "line", "field", "words"), BAD_TOML, ids=[c[0] for c in BAD_TOML])
def test_bad_toml_is_one_line_naming_file_line_and_field(tmp_path: Path, case: str, text: str, line: int, field: str,
                                                         words: str) -> None:
    path = write(tmp_path, "models.toml", text)
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    check_one_line(info.value, path, line, field, words)


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match=r"no such catalogue file"):
        load_catalogue(tmp_path / "absent.yaml")
    with pytest.raises(CatalogueError, match=r"\.yaml, \.yml or \.toml"):
        load_catalogue(write(tmp_path, "models.json", "{}"))


def test_catalogue_error_is_a_configuration_error() -> None:
    from callscale.backends.base import ConfigurationError

    assert issubclass(CatalogueError, ConfigurationError)  # the CLI's one-line, exit-2 path


def test_registered_backend_kinds_are_accepted() -> None:
    class Echo: ...

    register_backend("echo-catalogue", Echo)
    try:
        with pytest.warns(PriceWarning, match="'e'"):  # a kind nobody prices: unknown dollars, said once
            cat = parse_catalogue("models:\n  e:\n    backend: echo-catalogue\n")
        assert cat.get("e").backend == "echo-catalogue"
    finally:
        unregister_backend("echo-catalogue")


def test_price_from_genai_prices_matches_calc_price() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", PriceWarning)
        cat = parse_catalogue("models:\n  mini:\n    backend: openai\n    model: gpt-4o-mini\n    provider: openai\n"
                              "    base_url: https://api.openai.com/v1\n")
    entry = cat.get("mini")
    direct_in = calc_price(Usage(input_tokens=1_000_000), model_ref="gpt-4o-mini", provider_id="openai").input_price
    direct_out = calc_price(Usage(output_tokens=1_000_000), model_ref="gpt-4o-mini", provider_id="openai").output_price
    assert entry.price_source == "genai-prices"
    assert entry.price_in == pytest.approx(float(direct_in)) and entry.price_out == pytest.approx(float(direct_out))
    assert entry.price_in is not None and entry.price_out is not None and 0 < entry.price_in < entry.price_out
    card = entry.card()
    assert card.dollars(CallUsage(1000, 100)) == pytest.approx(
        float(calc_price(Usage(input_tokens=1000, output_tokens=100), model_ref="gpt-4o-mini", provider_id="openai").total_price))


def test_provider_recognised_from_the_base_url() -> None:
    assert lookup_price("gpt-4o-mini", None, "https://api.openai.com/v1") == lookup_price("gpt-4o-mini", "openai")


def test_unknown_price_is_none_with_a_warning() -> None:
    entry = ModelEntry("mystery", "openai", base_url="http://127.0.0.1:9/v1", provider="openai", model="no-such-model-xyz")
    with pytest.warns(PriceWarning, match=r"mystery.*unknown") as record:
        priced = with_prices(entry)
    assert len(record) == 1 and "\n" not in str(record[0].message)
    assert (priced.price_in, priced.price_out, priced.price_source) == (None, None, None)
    assert priced.card().dollars(CallUsage(10, 10)) is None  # unknown, never 0


def test_unknown_provider_is_none_with_a_warning() -> None:
    with pytest.warns(PriceWarning):
        cat = parse_catalogue("models:\n  m:\n    backend: replay\n    provider: nowhere-ai\n")
    assert cat.get("m").price_in is None


def test_half_a_price_warns_and_keeps_the_other_unknown() -> None:
    with pytest.warns(PriceWarning, match="price_out"):
        cat = parse_catalogue("models:\n  m:\n    backend: simulated\n    price_in: 1.5\n")
    assert (cat.get("m").price_in, cat.get("m").price_out, cat.get("m").price_source) == (1.5, None, "catalogue")


def test_local_entries_are_not_looked_up_and_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cat = parse_catalogue("models:\n  mine:\n    backend: local\n    params: 494M\n")
    assert cat.get("mine").price_in is None and cat.get("mine").price_source is None


def test_builtin_entries() -> None:
    cat = builtin_catalogue()
    smol = cat.get("smollm2-135m-instruct")
    assert (smol.backend, smol.params, smol.chat, smol.requires) == ("local", 134_515_008, True, None)
    assert smol.card().params == SMOLLM2_CARD.params and smol.card().price_in_per_mtok is None
    gemma = cat.get("gemma3-270m")
    assert (gemma.backend, gemma.params, gemma.chat, gemma.requires) == ("local", 268_098_176, False, "make models")
    assert smol.endpoint != gemma.endpoint  # two servers: they share neither backend nor limiter


def test_get_unknown_model_is_one_line_listing_known_ones() -> None:
    with pytest.raises(CatalogueError) as info:
        builtin_catalogue().get("smollm2-135m")
    message = str(info.value)
    assert "\n" not in message and "'smollm2-135m'" in message
    assert "did you mean 'smollm2-135m-instruct'" in message and "gemma3-270m, smollm2-135m-instruct" in message
    assert builtin_catalogue().get("nope", None) is None
    with pytest.raises(KeyError):
        builtin_catalogue()["nope"]


def test_merged_overrides_by_name() -> None:
    user = parse_catalogue("models:\n  smollm2-135m-instruct:\n    backend: local\n    rpm: 60\n  sim:\n    backend: simulated\n",
                           source="user.yaml")
    merged = builtin_catalogue().merged(user)
    assert sorted(merged) == ["gemma3-270m", "sim", "smollm2-135m-instruct"]
    assert merged.get("smollm2-135m-instruct").rpm == 60 and merged.source == "built-in + user.yaml"
    assert isinstance(merged, Catalogue) and len(merged) == 3


def test_endpoints_identify_the_server_and_share_limiters() -> None:
    text = """\
models:
  a: {backend: openai, base_url: "http://LocalHost:8000/v1/", rpm: 120}
  b: {backend: openai, base_url: "http://localhost:8000/v1", model: other, rpm: 60, tpm: 5000}
  c: {backend: openai, base_url: "http://localhost:8001/v1", price_in: 0, price_out: 0}
  d: {backend: openai, base_url: "https://api.example.com/v1", price_in: 1, price_out: 2}
  e: {backend: openai, base_url: "https://api.example.com/v2", price_in: 1, price_out: 2}
"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PriceWarning)
        cat = parse_catalogue(text)
    ends = {name: cat.get(name).endpoint for name in cat}
    assert ends["a"] == ends["b"] == "openai+http://localhost:8000/v1"
    assert ends["c"] == "openai+http://localhost:8001/v1"
    assert ends["d"] == "openai+https://api.example.com:443/v1" != ends["e"]
    limiters = cat.limiters()
    shared = limiters.for_endpoint(ends["a"])
    assert shared is limiters.for_endpoint(ends["b"]) and isinstance(shared, RateLimiter)
    assert (shared.rpm, shared.tpm) == (60, 5000)  # the strictest of the entries on that server
    assert not limiters.for_endpoint(ends["c"]).limited


def test_api_keys_are_never_read_or_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SECRET_KEY", "sk-do-not-leak-123")
    path = write(tmp_path, "models.yaml", "models:\n  m:\n    backend: openai\n    base_url: http://127.0.0.1:1/v1\n"
                 "    api_key_env: MY_SECRET_KEY\n    price_in: 1\n    price_out: 1\n")
    entry = load_catalogue(path).get("m")
    assert entry.api_key_env == "MY_SECRET_KEY"
    assert "sk-do-not-leak" not in repr(entry) + repr(entry.to_dict()) + repr(load_catalogue(path))


def test_every_field_is_documented_in_the_module() -> None:
    import callscale.catalogue as module

    doc = module.__doc__ or ""
    assert all(re.search(rf"\b{f}\b", doc) for f in FIELDS)


def test_a_catalogue_model_without_a_size_learns_it_from_the_server(local_server: Any) -> None:
    """llama.cpp states ``meta.n_params`` in /v1/models: the ledger then prices m·n and FLOPs, not 0."""
    import asyncio

    from callscale.catalogue import catalogue_from_dict
    from callscale.models import open_models

    cat = catalogue_from_dict({"mine": {"backend": "openai", "base_url": local_server.base_url,
                                        "model": "smollm2-135m-instruct", "price_in": 0, "price_out": 0},
                               "sized": {"backend": "openai", "base_url": local_server.base_url,
                                         "model": "smollm2-135m-instruct", "params": 5}})

    async def cards() -> dict[str, Any]:
        async with open_models(cat, ["mine", "sized"]) as opened:
            return opened.cards

    got = asyncio.run(cards())
    assert got["mine"].params == 134_515_008 and got["mine"].context_length == 8192
    assert got["sized"].params == 5  # the catalogue's size is kept
