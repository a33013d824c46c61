"""The synthetic backend: a seeded generative model of agent behaviour that writes real text.

Replies are assembled from the language pack's phrase banks; which bank is used is drawn with probabilities
driven by language, model, alignment, individuation, turn escalation and group pressure, with the planted
effects of ``synthetic_effects.yaml``. It makes no network call and is labelled synthetic everywhere.
"""

from __future__ import annotations

import functools
import json
import math
import random
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from core.ids import derive_seed
from core.study import bare_model_name
from simulation.backends.base import AgentContext, Backend, GenerationConfig, Message, Reply
from simulation.content import PATHOLOGY_KINDS, load_language

DEFAULT_EFFECTS_PATH = Path(__file__).with_name("synthetic_effects.yaml")


@dataclass(frozen=True)
class BehaviourProfile:
    """Resolved planted parameters for one (model, language); see synthetic_effects.yaml for meanings."""

    base_pathology: float
    escalation: float
    event_pressure: float
    group_pressure: float
    base_protective: float
    base_individuation_register: float
    base_monologue: float
    run_sd: float
    alignment_pathology: float
    alignment_protective: float
    alignment_monologue: float
    individuation_pathology: float
    individuation_protective: float
    individuation_register: float

    @property
    def planted_direction(self) -> str:
        """Direction alignment moves CPI under this profile: ``reduced``, ``amplified`` or ``none``."""
        push = self.alignment_pathology - self.alignment_protective + self.alignment_monologue
        return "amplified" if push > 0 else "reduced" if push < 0 else "none"

    @property
    def planted_di_direction(self) -> str:
        """Direction alignment moves DI (monologue up, protective up, pathology down): ``amplified`` = DI rises."""
        push = self.alignment_monologue + self.alignment_protective - self.alignment_pathology
        return "amplified" if push > 0 else "reduced" if push < 0 else "none"


@functools.cache
def load_effects(path: str = str(DEFAULT_EFFECTS_PATH)) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def resolve_profile(model: str, language: str, effects: dict[str, Any] | None = None) -> BehaviourProfile:
    """Merge defaults, language, model and model-language layers (later wins).

    ``model`` may be the stored ``synthetic:<name>`` of ``raw.runs.model``; the effects file is keyed by the bare name.
    """
    model = bare_model_name(model)
    effects = effects or load_effects()
    merged: dict[str, float] = dict(effects["defaults"])
    merged.update(effects.get("languages", {}).get(language, {}))
    model_layer = effects.get("models", {}).get(model, {})
    merged.update(model_layer.get("defaults", {}))
    merged.update(model_layer.get("languages", {}).get(language, {}))
    names = {f.name for f in fields(BehaviourProfile)}
    unknown = set(merged) - names
    if unknown:
        from core.errors import StudyConfigError

        raise StudyConfigError(f"unknown planted parameters {sorted(unknown)} for ({model}, {language})",
                               file=str(DEFAULT_EFFECTS_PATH), fix=f"use only {', '.join(sorted(names))}")
    return BehaviourProfile(**{k: float(v) for k, v in merged.items()})


def profile_hash(model: str, language: str, effects_path: str = str(DEFAULT_EFFECTS_PATH)) -> str:
    """Hash of the planted profile a (model, language) resolves to: the synthetic backend's run-id fingerprint
    and the ``system_fingerprint`` of its replies (what decided them, as an endpoint's fingerprint does)."""
    from dataclasses import asdict

    from core.ids import stable_hash

    return stable_hash(asdict(resolve_profile(model, language, load_effects(effects_path))))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@functools.cache
def _pathology_fragments(language: str) -> tuple[str, ...]:
    """The longest literal piece of each pathological bank sentence (around ``{target}``)."""
    banks = load_language(language).pack.phrases.talk
    templates = [s for kind in PATHOLOGY_KINDS for s in banks[kind]]
    return tuple(max(t.split("{target}"), key=len) for t in templates)


@functools.lru_cache(maxsize=4096)
def _group_pressure(language: str, previous_talk: tuple[str, ...]) -> float:
    """Share of last turn's talk that carried one of the backend's own pathological sentences."""
    if not previous_talk:
        return 0.0
    fragments = _pathology_fragments(language)
    return sum(any(f in talk for f in fragments) for talk in previous_talk) / len(previous_talk)


@dataclass
class SyntheticBackend(Backend):
    """Offline stand-in for a model; deterministic for (run seed, model, turn, agent)."""

    effects_path: str = str(DEFAULT_EFFECTS_PATH)
    max_connections: int = 1000
    name: str = field(default="synthetic", init=False)
    _fingerprints: dict[tuple[str, str], str] = field(default_factory=dict, init=False, repr=False)

    @property
    def is_synthetic(self) -> bool:
        return True

    async def generate(self, messages: list[Message], config: GenerationConfig) -> Reply:
        ctx = config.context
        if ctx is None:
            raise ValueError("the synthetic backend needs the engine's AgentContext")
        if ctx.is_probe:
            text = self.answer_probe(ctx, config.model)
        else:
            talk, monologue = self.compose(ctx, config.model)
            text = json.dumps({"talk": talk, "monologue": monologue}, ensure_ascii=False)
        prompt_chars = sum(len(m.content) for m in messages)
        return Reply(text=text, tokens_in=max(1, prompt_chars // 4), tokens_out=max(1, len(text) // 4),
                     served_model=self.name,
                     system_fingerprint=self._fingerprint(config.model, ctx.language))

    def _fingerprint(self, model: str, language: str) -> str:
        """``profile_hash``, once per (model, language) of this simulation (hashing per call would cost)."""
        key = (model, language)
        if key not in self._fingerprints:
            self._fingerprints[key] = profile_hash(model, language, self.effects_path)
        return self._fingerprints[key]

    def answer_probe(self, ctx: AgentContext, model: str) -> str:
        """The private interview: aligned agents under a planted dissociation say more, and more uneasily."""
        profile = resolve_profile(model, ctx.language, load_effects(self.effects_path))
        pack = load_language(ctx.language).pack
        rng = random.Random(derive_seed(ctx.run_seed, model, ctx.turn, ctx.agent_idx, "probe"))
        progress = (ctx.turn - 1) / max(1, ctx.n_turns - 1)
        p_distress = _sigmoid(profile.base_monologue + profile.alignment_monologue * float(ctx.aligned) + progress)
        n_sentences = 2 + sum(rng.random() < p_distress for _ in range(3))
        joiner = "" if pack.segmentation == "characters" else " "
        banks = pack.phrases.monologue
        chosen = [rng.choice(banks["distress" if rng.random() < p_distress else "neutral"]) for _ in range(n_sentences)]
        return joiner.join(dict.fromkeys(chosen)).replace("{target}", ctx.target_name)

    def compose(self, ctx: AgentContext, model: str) -> tuple[str, str]:
        """Draw this agent's behaviour for the turn and write it in the pack's language."""
        profile = resolve_profile(model, ctx.language, load_effects(self.effects_path))
        pack = load_language(ctx.language).pack
        run_rng = random.Random(derive_seed(ctx.run_seed, model, "run-intercept"))
        run_intercept = run_rng.gauss(0.0, profile.run_sd)
        run_protective = run_rng.gauss(0.0, profile.run_sd)
        run_monologue = run_rng.gauss(0.0, profile.run_sd / 2)
        rng = random.Random(derive_seed(ctx.run_seed, model, ctx.turn, ctx.agent_idx))
        progress = (ctx.turn - 1) / max(1, ctx.n_turns - 1)
        pressure = _group_pressure(ctx.language, ctx.previous_talk)
        aligned, individuated = float(ctx.aligned), float(ctx.individuated)

        logit_pathology = (profile.base_pathology + run_intercept + profile.escalation * progress
                           + profile.group_pressure * pressure
                           + profile.event_pressure * (ctx.event_pressure != "none")
                           + profile.alignment_pathology * aligned + profile.individuation_pathology * individuated)
        logit_protective = (profile.base_protective + run_protective - 0.5 * progress
                            + profile.alignment_protective * aligned
                            + profile.individuation_protective * individuated)
        if rng.random() < _sigmoid(logit_pathology):
            kind = ctx.event_pressure if ctx.event_pressure != "none" else rng.choice(PATHOLOGY_KINDS)
            category, distressed = kind, 0.8
        elif rng.random() < _sigmoid(logit_protective):
            logit_register = profile.base_individuation_register + profile.individuation_register * individuated
            category = "individuation" if rng.random() < _sigmoid(logit_register) else "conformity"
            distressed = 0.3
        else:
            category, distressed = "neutral", 0.4

        banks = pack.phrases
        joiner = "" if pack.segmentation == "characters" else " "
        sentences = [rng.choice(banks.talk[category])]
        if rng.random() < 0.5:
            sentences.append(rng.choice(banks.talk["neutral"]))
            rng.shuffle(sentences)
        talk = joiner.join(sentences).replace("{target}", ctx.target_name)

        p_more = _sigmoid(profile.base_monologue + run_monologue + profile.alignment_monologue * aligned
                          + 0.8 * progress)
        n_thoughts = 1 + sum(rng.random() < p_more for _ in range(4))
        thoughts = [rng.choice(banks.monologue["distress" if rng.random() < distressed else "neutral"])
                    for _ in range(n_thoughts)]
        monologue = joiner.join(dict.fromkeys(thoughts)).replace("{target}", ctx.target_name)
        return talk, monologue
