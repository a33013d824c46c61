"""Scorers read stored utterances and write ``raw.scores``; they never import the simulation engine."""

from scoring.base import Scorer, Utterance
from scoring.registry import build_scorer, check_scorers, get_scorer, register_scorer, scorer_names, scorer_options
from scoring.runner import ScoringStats, score_pending

__all__ = ["Scorer", "ScoringStats", "Utterance", "build_scorer", "check_scorers", "get_scorer", "register_scorer",
           "score_pending", "scorer_names", "scorer_options"]
