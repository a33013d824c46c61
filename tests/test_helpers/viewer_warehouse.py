"""The viewer tests' warehouse: a small synthetic study in en, ja and ar (left to right, CJK, right to left),
scored and with its marts built, plus the replies a viewer must show with care: one whose text is a
``<script>`` tag, and a failed, a parse-error, a refused and a truncated call; and, on turn 1 of the English
run, a model score per talk reply and a lexicon dimension the scorer may add later (``pathology.negated``)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.test_helpers.studies import fill_warehouse
from tests.test_helpers.warehouses import run_models

VIEWER_STUDY = "small"
VIEWER_LANGUAGES = ["en", "ja", "ar"]
MODEL_SCORE = ("classifier", "1+test", "org/toxicity@rev1", "pathology", 0.731)
"""(scorer, scorer_version, model_id, dimension, value) of every turn-1 talk reply of the English run."""
SCRIPT_REPLY = '<script>document.title = "pwned"</script> I will <b>not</b> comply.'
"""The talk of agent 0, turn 1, of the first English run: must show as text, never run."""
STATUSES = ("error", "parse_error", "refused", "truncated")


def build_viewer_warehouse(path: Path) -> dict[str, str]:
    """Simulate, score and build the marts into ``path``; returns the run ids the tests open (``en``, ``ja``,
    ``ar``: each language's first run at aligned share 1.0; ``failed``: the run holding the odd replies)."""
    with duckdb.connect(str(path)) as con:
        fill_warehouse(con, languages=VIEWER_LANGUAGES, aligned_shares=[0.0, 1.0], replicates=2, n_turns=3)
        ids = {language: con.execute("select min(run_id) from raw.runs where language = ? and aligned_share = 1.0",
                                     [language]).fetchone()[0] for language in VIEWER_LANGUAGES}  # type: ignore[index]
        con.execute("update raw.utterances set text = ? where run_id = ? and turn = 1 and agent_idx = 0 "
                    "and channel = 'talk'", [SCRIPT_REPLY, ids["en"]])
        for agent_idx, status in enumerate(STATUSES, start=1):
            con.execute("update raw.utterances set status = ?, error = ?, reasks = ? where run_id = ? and turn = 2 "
                        "and agent_idx = ? and channel = 'talk'",
                        [status, None if status in ("parse_error", "truncated") else f"{status} from the endpoint",
                         2 if status == "parse_error" else 0, ids["en"], agent_idx])
        ids["failed"] = ids["en"]
        scorer, version, model_id, dimension, value = MODEL_SCORE
        con.execute("""insert into raw.scores by name
                       select utterance_id, ? as scorer, ? as scorer_version, ? as model_id, ? as dimension,
                              ? as value, false as abstained, now() as created_at
                       from raw.utterances where run_id = ? and turn = 1 and channel = 'talk'""",
                    [scorer, version, model_id, dimension, value, ids["en"]])
        con.execute("""insert into raw.scores by name
                       select utterance_id, 'lexicon' as scorer, '1' as scorer_version, 'lexicon/en' as model_id,
                              'pathology.negated' as dimension, 1.0 as value, false as abstained,
                              now() as created_at
                       from raw.utterances where run_id = ? and turn = 1 and agent_idx = 0 and channel = 'talk'""",
                    [ids["en"]])
    run_models(path)
    return ids
