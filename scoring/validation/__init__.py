"""Scorer validation on the gold-labelled set: loading and splitting it, agreement, the scorer-to-stance
mapping, and precision / recall / F1 / kappa and the differential error check per language."""

from scoring.validation.agreement import Agreement, cohen_kappa, label_agreement
from scoring.validation.evaluate import Evaluation, evaluate_scorer, score_gold
from scoring.validation.gold import GOLD_DIR, GoldSentence, GoldSet, gold_languages, load_gold
from scoring.validation.metrics import DIFFERENTIAL_MARGIN, F1_WARNING, SENSITIVE_REGISTERS
from scoring.validation.stance import Stance, stance_family

__all__ = ["DIFFERENTIAL_MARGIN", "F1_WARNING", "GOLD_DIR", "SENSITIVE_REGISTERS", "Agreement", "Evaluation",
           "GoldSentence", "GoldSet", "Stance", "cohen_kappa", "evaluate_scorer", "gold_languages",
           "label_agreement", "load_gold", "score_gold", "stance_family"]
