"""The multi-study warehouse every tests/dbt module reads (built once per session and xdist worker), the dbt
call that builds its marts, and private copies for tests that write."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import duckdb
import pandas as pd

from tests.test_helpers.studies import small_study_dict

# One study per tests/dbt module. The marts keep studies apart (z-scores are taken within a study, effects
# are per study), so each module reads its own study as if it were alone in the warehouse.
MARTS_STUDY = "marts_v1"
DRIFT_STUDY = "nightly_drift"
V2_STUDY = "metric_v2"
SCORECARD_STUDY = "scorecard"
REAL_STUDY = "study1"  # stand-in for a real Study 1: the scorecard compares it with the paper, not planted effects
STUDY_MARTS_STUDY = "study_marts"  # marked real too, with replication_target study3 (individuation, two models)
STUDY_MARTS_LANGUAGES = ["en", "ja", "de", "ko", "fr", "ru"]
WORDING_STUDY = "wording_controls"  # the base alignment prefix and its three paraphrases, in en and ja
WORDINGS = ["base", "p1", "p2", "p3"]
STUDY_MARTS_MODELS = ["llama-3.3-70b-instruct", "gpt-4o-mini"]
DRIFT_NIGHTS = (dt.date(2026, 11, 1), dt.date(2026, 11, 2))
# The drift study's small nights test the drift mechanics (a planted flip), not power: raw p and languages pooled
# in the z-scores (both study options) keep its planted directions clear of the 0.05 line.
DRIFT_ANALYSIS = {"p_adjust": "none"}
DRIFT_REFERENCE = "study"

# Metric v2: synthetic model scores for the English utterances of V2_STUDY, abstentions for the Japanese ones.
V2_SCORED, V2_ABSTAINED = "en", "ja"
CLASSIFIER_A = ("1+aaaa", "org/classifier-a@rev1")  # pathology, protective and labels
CLASSIFIER_B = ("1+bbbb", "org/classifier-b@rev1")  # pathology only: no protective labels
LANGID = ("1+llll", "org/langid@rev1")
EMBEDDING = ("1+eeee", "org/embedding@rev1")


def _named(name: str, **design: object) -> dict:
    return {**small_study_dict(**design), "name": name}


def dbt_test_studies() -> list[dict]:
    """The studies simulated into the shared warehouse (the drift study's second night is added apart)."""
    study_marts = _named(STUDY_MARTS_STUDY, languages=STUDY_MARTS_LANGUAGES, aligned_shares=[0.0, 1.0],
                         replicates=3, n_turns=3, individuation=[False, True], individuated_agents=3)
    study_marts["models"] = [{"name": name, "backend": "synthetic"} for name in STUDY_MARTS_MODELS]
    study_marts["analysis"] = {"p_adjust": "bh"}  # the other studies keep the default, Holm
    study_marts["replication_target"] = "study3"
    first_night = {**_named(DRIFT_STUDY, languages=["en", "ja"], replicates=8, n_turns=8),
                   "evaluation_date": DRIFT_NIGHTS[0].isoformat(), "analysis": DRIFT_ANALYSIS,
                   "zscore_reference": DRIFT_REFERENCE}
    return [
        _named(MARTS_STUDY, aligned_shares=[0.0, 0.5, 1.0], replicates=4, n_turns=5),
        first_night,
        _named(V2_STUDY, replicates=3, n_turns=3),
        _named(SCORECARD_STUDY, languages=["en", "ja", "de"], replicates=10, n_turns=8),
        {**_named(REAL_STUDY, languages=["en", "ja"], replicates=4, n_turns=4), "replication_target": "study1"},
        study_marts,
        _named(WORDING_STUDY, wordings=WORDINGS, replicates=3, n_turns=3),
    ]


def dbt_test_design(name: str) -> dict:
    """The design of one study of the shared warehouse, to derive the counts a test expects."""
    return next(study for study in dbt_test_studies() if study["name"] == name)["design"]


def drop_last_turn_of_one_run(con: duckdb.DuckDBPyConnection) -> None:
    """A partially simulated run of MARTS_STUDY (its id in main.partial_run) must stay out of the marts."""
    partial = con.execute("select run_id from raw.runs where study = ? and aligned_share = 0.5 and language = 'en' "
                          "order by run_id limit 1", [MARTS_STUDY]).fetchone()[0]  # type: ignore[index]
    con.execute("delete from raw.utterances where run_id = ? and turn = 5", [partial])
    con.execute("create table main.partial_run as select ? as run_id", [partial])


def simulate_second_night_with_japanese_flipped(con: duckdb.DuckDBPyConnection) -> None:
    """DRIFT_STUDY's second dated evaluation, with Japanese given English's planted effects."""
    import pytest
    import yaml

    from core.study import parse_study
    from simulation.backends import synthetic
    from simulation.stages import record_design, simulate_study

    effects = yaml.safe_load(synthetic.DEFAULT_EFFECTS_PATH.read_text(encoding="utf-8"))
    flipped = {**effects, "languages": {**effects["languages"], "ja": dict(effects["languages"]["en"])}}
    night2 = {**_named(DRIFT_STUDY, languages=["en", "ja"], replicates=8, n_turns=8),
              "evaluation_date": DRIFT_NIGHTS[1].isoformat(), "analysis": DRIFT_ANALYSIS,
              "zscore_reference": DRIFT_REFERENCE}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(synthetic, "load_effects", lambda *args: flipped)
        study = parse_study(night2, "nightly test")
        record_design(con, study)
        simulate_study(con, study)


REAL_SERVED = ("synthetic-test", "fp_a")
"""What the stand-in endpoint of REAL_STUDY served: the requested model, with one fingerprint..."""
REAL_SERVED_LATER = ("synthetic-test-2026-05-01", "fp_b")
"""...except in turn 1 of the English runs, where it served another snapshot (a served-model mismatch)."""


def make_study1_real(con: duckdb.DuckDBPyConnection) -> None:
    """REAL_STUDY and STUDY_MARTS_STUDY stand in for real studies 1 and 3: the scorecard compares them with
    the paper."""
    con.execute("update raw.runs set synthetic = false, planted_cpi_direction = null, "
                "planted_di_direction = null where study in (?, ?)", [REAL_STUDY, STUDY_MARTS_STUDY])
    runs = "select run_id from raw.runs where study = ?"
    con.execute(f"update raw.utterances set served_model = ?, system_fingerprint = ? where status <> 'error' "
                f"and run_id in ({runs})",
                [*REAL_SERVED, REAL_STUDY])
    con.execute(f"update raw.utterances set served_model = ?, system_fingerprint = ? where turn = 1 and run_id in "
                f"({runs} and language = 'en') and status <> 'error'", [*REAL_SERVED_LATER, REAL_STUDY])


def unit(utterance_id: str, salt: str) -> float:
    """A deterministic value in [0, 1) from the utterance id."""
    return int(hashlib.sha256(f"{salt}:{utterance_id}".encode()).hexdigest()[:8], 16) / 2**32


def model_score_rows(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """raw.scores rows of four model scorers for V2_STUDY: scores for V2_SCORED, abstentions for V2_ABSTAINED."""
    utterances = con.execute("""select u.utterance_id, u.channel, r.language from raw.utterances u
                                join raw.runs r using (run_id)
                                where u.channel in ('talk', 'monologue') and r.study = ?""", [V2_STUDY]).fetchall()
    now = dt.datetime.now(dt.UTC)
    rows: list[dict] = []

    def add(utterance_id: str, scorer: tuple[str, str], name: str, values: dict[str, float | None],
            abstained_model_id: str = "none") -> None:
        version, model_id = scorer
        for dimension, value in values.items():
            rows.append({"utterance_id": utterance_id, "scorer": name, "scorer_version": version,
                         "model_id": model_id if value is not None else abstained_model_id, "dimension": dimension,
                         "value": value, "abstained": value is None, "created_at": now})

    for utterance_id, channel, language in utterances:
        if language == V2_ABSTAINED:
            add(utterance_id, LANGID, "langid", dict.fromkeys(["in_language", "confidence"]))
            add(utterance_id, CLASSIFIER_A, "classifier", dict.fromkeys(["pathology", "protective"]))
            add(utterance_id, CLASSIFIER_B, "classifier", dict.fromkeys(["pathology"]))
            if channel == "talk":
                add(utterance_id, EMBEDDING, "embedding",
                    dict.fromkeys(["semantic_conformity", "semantic_dissociation"]))
            continue
        confidence = 0.5 + unit(utterance_id, "confidence") / 2
        add(utterance_id, LANGID, "langid", {"in_language": float(unit(utterance_id, "in") > 0.1),
                                             "confidence": confidence, f"detected.{V2_SCORED}": confidence})
        add(utterance_id, CLASSIFIER_A, "classifier", {"pathology": unit(utterance_id, "pa"),
                                                       "protective": unit(utterance_id, "qa"),
                                                       "label.coercion": unit(utterance_id, "pa")})
        add(utterance_id, CLASSIFIER_B, "classifier", {"pathology": unit(utterance_id, "pb"),
                                                       "label.exclusion": unit(utterance_id, "pb")})
        if channel == "talk":
            dissociation = unit(utterance_id, "d") if unit(utterance_id, "no-monologue") > 0.15 else None
            # a one-dimension abstention (no monologue) keeps its model
            add(utterance_id, EMBEDDING, "embedding", {"semantic_conformity": 2 * unit(utterance_id, "c") - 1,
                                                       "semantic_dissociation": dissociation},
                abstained_model_id=EMBEDDING[1])
    return pd.DataFrame(rows)


def add_model_scores(con: duckdb.DuckDBPyConnection) -> None:
    # One failed English call: its scores must stay out of the means.
    con.execute("""update raw.utterances set status = 'error' where utterance_id = (
                       select min(u.utterance_id) from raw.utterances u join raw.runs r using (run_id)
                       where r.study = ? and r.language = ? and u.channel = 'talk')""", [V2_STUDY, V2_SCORED])
    frame = model_score_rows(con)  # noqa: F841 (read by DuckDB's replacement scan)
    con.execute("insert into raw.scores by name select * from frame")


def run_models(path: Path) -> str:
    """``dbt run`` with the seeds it reads (``build`` of seeds and models only: no dbt tests, which the one
    ``dbt build`` test runs) on the warehouse at ``path``; returns dbt's output."""
    from orchestration.dbt.project import run_dbt

    done = run_dbt(["build", "--resource-type", "seed", "--resource-type", "model"], path)
    assert done.returncode == 0, done.stdout[-4000:]
    assert "WARN=0" in done.stdout, done.stdout[-4000:]
    return done.stdout


def build_dbt_test_warehouse(path: Path) -> Path:
    """Simulate every study into ``path``, stage the edge cases (a partial run, a second night with Japanese
    flipped, a real Study 1, model scores for V2_STUDY), score with the lexicon, build the marts and then the
    Python stats mart, as the pipeline does."""
    from analysis.stats_models import build_stats_models
    from core.study import parse_study
    from scoring import get_scorer, score_pending
    from simulation.stages import record_design, simulate_study
    from warehouse.schema import ensure_raw_schema

    with duckdb.connect(str(path)) as con:
        ensure_raw_schema(con)
        for data in dbt_test_studies():
            study = parse_study(data, "test study")
            record_design(con, study)
            simulate_study(con, study)
        simulate_second_night_with_japanese_flipped(con)
        drop_last_turn_of_one_run(con)
        make_study1_real(con)
        add_model_scores(con)
        score_pending(con, get_scorer("lexicon"))
    run_models(path)
    with duckdb.connect(str(path)) as con:
        build_stats_models(con, n_permutations=99)
    return path


def copy_warehouse(source: Path, folder: Path) -> Path:
    """A private copy of a shared warehouse (with its WAL, if one is left) for a test that writes into it."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    shutil.copy(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copy(wal, target.with_name(target.name + ".wal"))
    return target
