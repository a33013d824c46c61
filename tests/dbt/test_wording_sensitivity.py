"""Wording controls: a study crossing the base alignment prefix with its paraphrases fills
marts.wording_sensitivity, whose per-wording g and spreads match a recomputation from run_metrics."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

from analysis.effects import hedges_g
from core.study import load_study, parse_study
from simulation.design import expand_design
from tests.test_helpers.warehouses import WORDING_STUDY, WORDINGS

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.xdist_group("dbt_warehouse")]


def test_wording_sensitivity_matches_a_recomputation(dbt_warehouse: Path) -> None:
    with duckdb.connect(str(dbt_warehouse), read_only=True) as con:
        runs = con.execute("select * from marts.run_metrics where study = ?", [WORDING_STUDY]).df()
        mart = con.execute("select * from marts.wording_sensitivity where study = ?", [WORDING_STUDY]).df()
        others = con.execute("select count(*) from marts.wording_sensitivity where study <> ?",
                             [WORDING_STUDY]).fetchone()[0]  # type: ignore[index]
    assert others == 0  # only studies that cross wordings
    assert sorted(set(runs.wording)) == WORDINGS
    assert len(mart) == 2 * 2 and set(mart.n_wordings) == {len(WORDINGS)}  # en, ja x cpi, di
    for row in mart.itertuples():
        cell = runs[runs.language == row.language]
        g = []
        for wording in WORDINGS:
            arm = cell[cell.wording == wording]
            g.append(hedges_g(arm[arm.aligned_share == 1.0][row.metric].tolist(),
                              arm[arm.aligned_share == 0.0][row.metric].tolist()).hedges_g)
        assert row.g_mean == pytest.approx(np.mean(g), abs=1e-9)
        assert row.g_sd_within == pytest.approx(np.std(g, ddof=1), abs=1e-9)
        assert (row.g_min, row.g_max) == pytest.approx((min(g), max(g)), abs=1e-9)
        assert row.g_by_wording.startswith("base=")
    for _metric, rows in mart.groupby("metric"):
        assert set(rows.g_sd_between_languages.round(12)) == {round(np.std(rows.g_mean, ddof=1), 12)}


def test_wordings_make_their_own_runs_and_leave_base_run_ids_alone() -> None:
    study = load_study(Path("studies/wording.yaml"))
    plain = parse_study({**study.model_dump(mode="json"), "design": {**study.design.model_dump(),
                                                                     "wordings": ["base"]}}, "test")
    hashes = {"en": "h-en", "ja": "h-ja"}
    crossed, base_only = expand_design(study, hashes), expand_design(plain, hashes)
    assert len(crossed) == 4 * len(base_only)
    assert {r.run_id for r in crossed if r.wording == "base"} == {r.run_id for r in base_only}
    assert len({r.run_id for r in crossed}) == len(crossed)


def test_a_wording_a_pack_lacks_is_refused_before_anything_runs() -> None:
    from core.errors import LanguagePackError
    from simulation.stages import load_study_content

    study = load_study(Path("studies/wording.yaml"))
    bad = parse_study({**study.model_dump(mode="json"), "design": {**study.design.model_dump(),
                                                                   "languages": ["en", "de"]}}, "test")
    with pytest.raises(LanguagePackError, match="de has no alignment-prefix wording p1, p2, p3"):
        load_study_content(bad)
