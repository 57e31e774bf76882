"""Command-line changes to scenario configs: `--drift-param [scenario.]key=value` overrides
and `--drift-config FILE.yaml` extra variants. Both check names and types against the
scenario's config dataclass, so a typo is a usage error before any episode runs."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from .errors import DriftError
from .models.prices import Price
from .models.request import Decoding
from .world import Scenario, Variant


class ParamError(DriftError):
    pass


@dataclass(frozen=True)
class Override:
    scope: str | None  # a scenario name, or None for every scenario whose config has the key
    key: str
    raw: str

    @classmethod
    def parse(cls, text: str) -> Override:
        left, eq, raw = text.partition("=")
        if not eq or not left.strip():
            raise ParamError(f"--drift-param {text!r}: expected key=value or scenario.key=value")
        scope, dot, key = left.strip().rpartition(".")
        return cls(scope if dot else None, key, raw.strip())


def _coerce(hint: Any, raw: str, where: str) -> Any:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if raw.lower() in ("none", "null"):
            return None
        return _coerce(next(a for a in get_args(hint) if a is not type(None)), raw, where)
    if origin is Literal:
        if raw not in get_args(hint):
            raise ParamError(f"{where}: must be one of {list(get_args(hint))}, got {raw!r}")
        return raw
    if origin in (tuple, list):
        items = json.loads(raw) if raw.startswith("[") else [r.strip() for r in raw.split(",") if r.strip()]
        return tuple(_coerce(get_args(hint)[0], str(i), where) for i in items)
    if hint is bool:
        if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ParamError(f"{where}: expected true or false, got {raw!r}")
        return raw.lower() in ("true", "1", "yes")
    if hint in (int, float, str):
        try:
            return hint(raw)
        except ValueError:
            raise ParamError(f"{where}: expected {hint.__name__}, got {raw!r}") from None
    import yaml  # a structured value: read it as YAML

    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        raise ParamError(f"{where}: cannot read {raw!r}") from None


def apply_overrides(scenarios: dict[str, Scenario], overrides: list[Override]) -> dict[str, Scenario]:
    """Scenarios whose variants carry the overrides; a variant's name gets `~key=value` so its
    cassettes and test ids differ from the unmodified variant's."""
    for o in overrides:
        if o.scope is not None and o.scope not in scenarios:
            raise ParamError(f"--drift-param {o.scope}.{o.key}: unknown scenario {o.scope!r}")
        if not any(_applies(sc, o) for sc in scenarios.values()):
            raise ParamError(f"--drift-param {o.key}: no scenario's config has it "
                             f"(configs: {', '.join(f'{n}' for n, s in scenarios.items() if s.config)})")
    out = {}
    for name, sc in scenarios.items():
        mine = [o for o in overrides if _applies(sc, o)]
        if not mine:
            out[name] = sc
            continue
        hints = typing.get_type_hints(sc.config)
        values = {o.key: _coerce(hints[o.key], o.raw, f"--drift-param {name}.{o.key}") for o in mine}
        suffix = "~" + ",".join(f"{k}={o.raw}" for k, o in zip(values, mine))
        variants = []
        for v in sc.variants:
            params = {**v.params, **values}
            _check(sc, params, f"--drift-param on {name}/{v.name}")
            # the baseline is overridden too, so the pairing keeps its suffix
            baseline = None if v.baseline is None else v.baseline + suffix
            variants.append(dataclasses.replace(v, name=v.name + suffix, params=params, baseline=baseline))
        out[name] = dataclasses.replace(sc, variants=tuple(variants))
    return out


def _applies(sc: Scenario, o: Override) -> bool:
    return sc.config is not None and (o.scope in (None, sc.name)) and o.key in {f.name for f in dataclasses.fields(sc.config)}


def _check(sc: Scenario, params: dict[str, Any], where: str) -> None:
    try:
        assert sc.config is not None
        sc.config(**params)
    except (TypeError, ValueError) as exc:
        raise ParamError(f"{where}: {exc}") from None


def _read_config(p: str) -> dict[str, Any]:
    import yaml  # only when a --drift-config is given

    try:
        data = yaml.safe_load(Path(p).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ParamError(f"--drift-config {p}: cannot read it ({exc})") from None
    if not isinstance(data, dict) or not ({"scenario", "models"} & set(data)):
        raise ParamError(f"--drift-config {p}: expected a mapping with 'scenario' (a variant) and/or 'models' "
                         "(per-model request settings)")
    return data


MODEL_KEYS = ("reasoning_effort", "thinking_tokens", "reasoning_summary", "temperature", "max_tokens", "api_base",
              "input_per_mtok", "output_per_mtok")


@dataclass(frozen=True)
class ModelConfig:
    """One model's own settings from a --drift-config `models:` entry."""

    decoding: Decoding
    api_base: str | None = None  # this model's own server (over --drift-api-base)
    price: Price | None = None  # USD per million tokens, for a model litellm cannot price


def model_configs(paths: list[str]) -> tuple[tuple[str, ModelConfig], ...]:
    """Per-model settings from the `models:` mapping of --drift-config files, e.g.
    `models: {openai/gpt-5: {reasoning_effort: medium, reasoning_summary: detailed},
    openrouter/google/gemini-3-flash-preview:exacto: {reasoning_effort: medium, api_base: URL,
    input_per_mtok: 0.5, output_per_mtok: 3}}`; a later file's entry for a model replaces an
    earlier one's. Unknown keys, negative prices and an api_base that is not a URL are errors."""
    out: dict[str, ModelConfig] = {}
    for p in paths:
        models = _read_config(p).get("models")
        if models is None:
            continue
        if not isinstance(models, dict):
            raise ParamError(f"--drift-config {p}: 'models' must map model ids to settings")
        for model, given in models.items():
            where = f"--drift-config {p}: models.{model}"
            if not isinstance(given, dict):
                raise ParamError(f"{where}: expected a mapping of {', '.join(MODEL_KEYS)}")
            extra = sorted(set(given) - set(MODEL_KEYS))
            if extra:
                raise ParamError(f"{where}: unknown key(s) {extra}; expected a mapping of {', '.join(MODEL_KEYS)}")
            decoding = Decoding(
                temperature=_typed(given, "temperature", float, where),
                max_tokens=_typed(given, "max_tokens", int, where),
                reasoning_effort=_typed(given, "reasoning_effort", str, where),
                thinking_tokens=_typed(given, "thinking_tokens", int, where),
                reasoning_summary=_typed(given, "reasoning_summary", str, where))
            out[str(model)] = ModelConfig(decoding, _url(given, where), _price(given, where))
    return tuple(out.items())


def model_decodings(paths: list[str]) -> tuple[tuple[str, Decoding], ...]:
    """The request settings of `model_configs`."""
    return tuple((model, c.decoding) for model, c in model_configs(paths))


def _url(given: dict[str, Any], where: str) -> str | None:
    from urllib.parse import urlparse

    value = _typed(given, "api_base", str, where)
    if value is None:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ParamError(f"{where}.api_base: expected an http(s) URL such as http://127.0.0.1:8000/v1, got {value!r}")
    return str(value)


def _price(given: dict[str, Any], where: str) -> Price | None:
    cin, cout = _typed(given, "input_per_mtok", float, where), _typed(given, "output_per_mtok", float, where)
    if cin is None and cout is None:
        return None
    if cin is None or cout is None:
        raise ParamError(f"{where}: give both input_per_mtok and output_per_mtok (USD per million tokens)")
    return Price(cin, cout)


def _typed(given: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = given.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (kind, int) if kind is float else kind):
        raise ParamError(f"{where}.{key}: expected {kind.__name__}, got {value!r}")
    if isinstance(value, (int, float)) and value < 0:
        raise ParamError(f"{where}.{key}: must be >= 0, got {value!r}")
    return kind(value)


def add_config_files(scenarios: dict[str, Scenario], paths: list[str]) -> dict[str, Scenario]:
    """Variants from YAML files: `scenario`, `name`, optional `description`, `params` (a file
    with only `models` holds request settings, `model_decodings`)."""
    out = dict(scenarios)
    for p in paths:
        path = Path(p)
        data = _read_config(p)
        if "scenario" not in data:
            continue
        name = data.get("scenario")
        if name not in out:
            raise ParamError(f"--drift-config {p}: 'scenario' must name one of {sorted(out)}, got {name!r}")
        sc = out[name]
        if sc.config is None:
            raise ParamError(f"--drift-config {p}: scenario {name!r} takes no config")
        extra = set(data) - {"scenario", "name", "description", "params", "models"}
        if extra:
            raise ParamError(f"--drift-config {p}: unknown key(s) {sorted(extra)}")
        params = dict(data.get("params") or {})
        known = {f.name for f in dataclasses.fields(sc.config)}
        if set(params) - known:
            raise ParamError(f"--drift-config {p}: unknown parameter(s) {sorted(set(params) - known)}; known: {sorted(known)}")
        _check(sc, params, f"--drift-config {p}")
        vname = str(data.get("name") or path.stem)
        if any(v.name == vname for v in sc.variants):
            raise ParamError(f"--drift-config {p}: scenario {name!r} already has a variant {vname!r}")
        variant = Variant(vname, params, str(data.get("description", f"from {path.name}")))
        out[name] = dataclasses.replace(sc, variants=(*sc.variants, variant))
    return out
