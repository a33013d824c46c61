"""The study report: one self-contained HTML file (inline SVG figures, no external assets) from the marts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.report.svg import Interval, forest_plot, small_multiples
from analysis.report.validation import validation_section
from analysis.tables import SERVED_COLUMNS, served_rows
from analysis.view_links import runs_url, view_base
from warehouse.connection import table_exists

if TYPE_CHECKING:
    import duckdb

STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; font-size: 12px; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: right; } th { background: #f4f4f4; }
td.text, th.text { text-align: left; }
.banner { background: #fff3cd; border: 1px solid #e0c36c; padding: 0.8em 1em; font-weight: bold; }
.meta { color: #666; font-size: 13px; } figure { margin: 1em 0; } figcaption { color: #555; font-size: 13px; }
.agree { color: #1a7f37; } .disagree { color: #b42318; }
"""


@dataclass
class StudyReport:
    """What one study's section holds; ``figures`` are SVG strings by name (also used as Dagster metadata)."""

    study: str
    synthetic: bool
    figures: dict[str, str] = field(default_factory=dict)
    html: str = ""


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _format(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2e}" if 0 < abs(value) < 1e-3 else f"{value:.3f}"
    return str(value)


def html_table(rows: Sequence[dict[str, Any]], columns: Sequence[str],
               link: Callable[[dict[str, Any]], str] | None = None) -> str:
    """A table of ``columns``; with ``link``, a last column links each row to the runs of its cell."""
    if not rows:
        return "<p class='meta'>no rows</p>"
    head = "".join(f"<th class='{'text' if i < 2 else ''}'>{escape(c)}</th>" for i, c in enumerate(columns))
    if link is not None:
        head += "<th class='text'>transcripts</th>"
    body = []
    for row in rows:
        cells = []
        for i, column in enumerate(columns):
            value = row.get(column)
            css = "text" if i < 2 or isinstance(value, str) else ""
            if column == "agrees" and value is not None:
                css += " agree" if value else " disagree"
            cells.append(f"<td class='{css.strip()}'>{escape(_format(value))}</td>")
        if link is not None:
            cells.append(f"<td class='text'><a href='{escape(link(row))}' target='_blank'>runs</a></td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _label(row: dict[str, Any], many_models: bool, many_dates: bool, *extra: str) -> str:
    parts = [row["language"], *extra]
    if many_models:
        parts.append(str(row["model"]))
    if many_dates and row.get("evaluation_date") is not None:
        parts.append(str(row["evaluation_date"]))
    return " · ".join(parts)


def _cell_link(study: str) -> Callable[[dict[str, Any]], str]:
    """The runs of a table row's cell in ``backfire view`` (at BACKFIRE_VIEW_URL, else its local default)."""
    base = view_base()
    return lambda row: runs_url(base, {"study": study, **row})


def _forest_rows(rows: Sequence[dict[str, Any]], many_models: bool, many_dates: bool, study: str = ""
                 ) -> list[Interval]:
    link = _cell_link(study)
    return [Interval(_label(r, many_models, many_dates, f"PDI {r['pdi']}" if r.get("pdi") is not None else "PDI -"),
                     r["hedges_g"], r.get("g_ci_low"), r.get("g_ci_high"), r.get("direction"),
                     href=link(r) if study else "")
            for r in rows]


def study_section(con: duckdb.DuckDBPyConnection, study: str) -> StudyReport:
    """Figures and tables of one study, from the marts."""
    effects = _rows(con, """
        select e.*, p.pdi from marts.backfire_by_language e
        left join marts.language_pdi p using (language)
        where e.study = ? order by p.pdi nulls last, e.language, e.model, e.evaluation_date""", [study])
    dissociation = _rows(con, """
        select e.*, p.pdi from marts.dissociation_by_language e
        left join marts.language_pdi p using (language)
        where e.study = ? order by p.pdi nulls last, e.language, e.model, e.evaluation_date""", [study])
    report = StudyReport(study, synthetic=any(r["synthetic"] for r in effects))
    many_models = len({r["model"] for r in effects}) > 1
    many_dates = len({r["evaluation_date"] for r in effects}) > 1
    parts = [f"<h2>Study {escape(study)}</h2>"]
    if report.synthetic:
        parts.append("<p class='banner'>SYNTHETIC DATA: effects planted in the synthetic backend, not a finding. "
                     "The scorecard compares them with the planted truth, not with the paper.</p>")

    parts += _served(con, study)

    report.figures["cpi_forest"] = forest_plot(
        _forest_rows(effects, many_models, many_dates, study),
        title=f"{study}: effect of alignment on CPI per language, ordered by power distance")
    parts.append(f"<figure>{report.figures['cpi_forest']}<figcaption>Hedges' g of the Collective Pathology "
                 "Index, highest vs lowest aligned share, with 95% CI; red = amplified (backfire), blue = "
                 "reduced, grey = CI includes 0. Languages ordered by Hofstede's PDI.</figcaption></figure>")
    parts.append(html_table(effects, ["language", "model", "evaluation_date", "n_low", "n_high", "mean_cpi_low",
                                      "mean_cpi_high", "hedges_g", "g_ci_low", "g_ci_high", "p_value",
                                      "p_adjusted", "direction", "direction_unadjusted", "synthetic"],
                            link=_cell_link(study)))
    parts.append(_components(effects, dissociation))
    parts += _reference_sensitivity(con, study)
    parts += _wording_sensitivity(con, study)
    parts += _exclusions(effects)

    dose = _rows(con, """
        select language, model, aligned_share, avg(cpi) as mean_cpi, count(*) as runs from marts.run_metrics
        where study = ? and not individuation group by all order by all""", [study])
    panels: dict[str, dict[str, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    for row in dose:
        if row["mean_cpi"] is not None:
            panels[row["language"]][row["model"]].append((row["aligned_share"], row["mean_cpi"]))
    report.figures["cpi_by_share"] = small_multiples(
        {k: dict(v) for k, v in panels.items()}, title=f"{study}: mean CPI against aligned share",
        x_label="aligned share", y_label="mean CPI (runs without individuation)")
    if report.figures["cpi_by_share"]:
        parts.append(f"<figure>{report.figures['cpi_by_share']}<figcaption>Mean CPI per aligned share, one panel "
                     "per language, one line per model.</figcaption></figure>")

    report.figures["di_forest"] = forest_plot(
        _forest_rows(dissociation, many_models, many_dates, study),
        title=f"{study}: effect of alignment on the Dissociation Index", x_label="Hedges' g of DI (95% CI)")
    parts.append(f"<figure>{report.figures['di_forest']}<figcaption>Positive g: DI rises with alignment (agents "
                 "say less of what they think).</figcaption></figure>")

    individuation = _rows(con, """
        select * from marts.individuation_effects where study = ? and metric = 'di'
        order by language, model, aligned_share, evaluation_date""", [study])
    if individuation:
        report.figures["individuation"] = forest_plot(
            [Interval(_label(r, many_models, many_dates, f"share {r['aligned_share']:g}"), r["hedges_g"],
                      r["g_ci_low"], r["g_ci_high"], r["direction"],
                      href=_cell_link(study)({**r, "individuation": True})) for r in individuation],
            title=f"{study}: individuated vs other agents, DI", x_label="Hedges' g (individuated - other)")
        parts.append(f"<h3>Individuation</h3><figure>{report.figures['individuation']}<figcaption>Agents given the "
                     "individuation instruction against the other agents of the same runs (agents as the unit: "
                     "the CI is optimistic).</figcaption></figure>")
        parts.append(html_table(_rows(con, """
            select language, model, aligned_share, metric, n_individuated, n_other, mean_individuated, mean_other,
                   hedges_g, g_ci_low, g_ci_high, p_value, direction
            from marts.individuation_effects where study = ? order by language, model, aligned_share, metric""",
            [study]), ["language", "model", "aligned_share", "metric", "n_individuated", "n_other",
                       "mean_individuated", "mean_other", "hedges_g", "g_ci_low", "g_ci_high", "p_value",
                       "direction"], link=lambda r: _cell_link(study)({**r, "individuation": True})))

    if many_models:
        consistency = _rows(con, "select * from marts.model_consistency where study = ? order by language, model",
                            [study])
        report.figures["models"] = forest_plot(
            [Interval(f"{r['language']} · {r['model']}", r["hedges_g"], r["g_ci_low"], r["g_ci_high"],
                      r["direction"], r["language_direction"], href=_cell_link(study)(r)) for r in consistency],
            title=f"{study}: direction per model and language")
        parts.append(f"<h3>Models</h3><figure>{report.figures['models']}<figcaption>The note after each row is the "
                     "language's direction across models: model-specific when at least one model is amplified and the "
                     "model x alignment interaction is significant, mixed when the labels differ without "
                     "that.</figcaption></figure>")

    parts += _statistics(con, study)
    scorecard = _rows(con, """
        select reference, figure_id, model, claim, published_value, published_text, our_value, our_text,
               our_ci_low, our_ci_high, verdict, agrees, rule, note
        from marts.replication_scorecard where study = ?
        order by reference, figure_id, model""", [study])
    parts.append("<h3>Replication scorecard</h3>")
    parts.append("<p class='meta'>Each row states its rule; not_computed = the comparison needs a CI or a model "
                 "we do not have (never a pass). Figures marked secondary come from secondary coverage of the "
                 "paper.</p>")
    parts.append(html_table(scorecard, ["reference", "figure_id", "model", "claim", "published_value",
                                        "published_text", "our_value", "our_text", "our_ci_low", "our_ci_high",
                                        "verdict", "agrees", "rule", "note"]))
    report.html = "\n".join(parts)
    return report


def _components(effects: Sequence[dict[str, Any]], dissociation: Sequence[dict[str, Any]]) -> str:
    """CPI and DI beside their components: CPI + DI = 2 z(monologue_ratio), so a shared component can move both."""
    di = {(r["language"], r["model"], r["evaluation_date"]): r for r in dissociation}
    rows = [{"language": r["language"], "model": r["model"], "cpi_g": r["hedges_g"], "cpi_direction": r["direction"],
             "di_g": di.get((r["language"], r["model"], r["evaluation_date"]), {}).get("hedges_g"),
             "di_direction": di.get((r["language"], r["model"], r["evaluation_date"]), {}).get("direction"),
             **{f"{name} g [95% CI]": _g_with_ci(r, f"g_{name}")
                for name in ("monologue_ratio", "pathology_rate", "protective_rate")}} for r in effects]
    return ("<h3>Components</h3><p class='meta'>Hedges' g of each component of CPI and DI (highest vs lowest "
            "aligned share); CPI = z(monologue) + z(pathology) - z(protective), DI = z(monologue) + "
            "z(protective) - z(pathology).</p>"
            + html_table(rows, ["language", "model", "cpi_g", "cpi_direction", "di_g", "di_direction",
                                "monologue_ratio g [95% CI]", "pathology_rate g [95% CI]",
                                "protective_rate g [95% CI]"]))


def _g_with_ci(row: dict[str, Any], column: str) -> str:
    if row.get(column) is None:
        return "-"
    return f"{row[column]:.2f} [{row[column + '_ci_low']:.2f}, {row[column + '_ci_high']:.2f}]"


def _reference_sensitivity(con: duckdb.DuckDBPyConnection, study: str) -> list[str]:
    if not table_exists(con, "marts", "reference_sensitivity"):
        return []
    rows = _rows(con, """
        select language, model, upper(metric) as metric, configured_reference, g_language, direction_language,
               g_study, direction_study, g_baseline, direction_baseline, direction_depends_on_reference
        from marts.reference_sensitivity where study = ? order by metric, language, model""", [study])
    dependent = sorted({f"{r['language']} ({r['metric']})" for r in rows if r["direction_depends_on_reference"]})
    note = (f"<p class='disagree'>Direction depends on the z reference: {escape(', '.join(dependent))}. "
            "Read these results as a property of the analysis choice, not of the data alone.</p>"
            if dependent else "<p class='meta'>No direction depends on the z reference.</p>")
    return ["<h3>Sensitivity to the z reference</h3>",
            "<p class='meta'>g and direction of CPI and DI with z-scores taken within language (study x language "
            "x model x date), within study (languages pooled) and against the aligned-share-0 arm (baseline). "
            "The paper's choice is unknown.</p>", note,
            html_table(rows, ["language", "model", "metric", "configured_reference", "g_language",
                              "direction_language", "g_study", "direction_study", "g_baseline",
                              "direction_baseline", "direction_depends_on_reference"])]


def _wording_sensitivity(con: duckdb.DuckDBPyConnection, study: str) -> list[str]:
    """Only for studies that cross alignment-prefix wordings (design.wordings)."""
    if not table_exists(con, "marts", "wording_sensitivity"):
        return []
    rows = _rows(con, """
        select language, model, upper(metric) as metric, n_wordings, g_by_wording, g_mean, g_sd_within, g_min, g_max,
               g_sd_between_languages, wording_noise_share
        from marts.wording_sensitivity where study = ? order by metric, language, model""", [study])
    if not rows:
        return []
    return ["<h3>Wording controls</h3>",
            "<p class='meta'>Hedges' g of alignment under each wording of the alignment prefix (the base and its "
            "paraphrases, same elements in other words), its spread across wordings within a language "
            "(g_sd_within), and the spread of the languages' mean g (g_sd_between_languages). A language "
            "difference smaller than the wording spread is not a language effect.</p>",
            html_table(rows, ["language", "model", "metric", "n_wordings", "g_by_wording", "g_mean", "g_sd_within",
                              "g_min", "g_max", "g_sd_between_languages", "wording_noise_share"])]


def _exclusions(effects: Sequence[dict[str, Any]]) -> list[str]:
    flagged = [f"{r['language']} ({r['model']})" for r in effects if r.get("differential_exclusion")]
    note = (f"<p class='disagree'>Differential exclusion (aligned vs. not) in: {escape(', '.join(flagged))}. "
            "The arms lost different shares of replies; the effect may reflect who was excluded.</p>"
            if flagged else "<p class='meta'>No differential exclusion between the arms.</p>")
    return ["<h3>Exclusions</h3>", note,
            html_table(list(effects), ["language", "model", "exclude_statuses", "n_excluded_low", "n_excluded_high",
                                       "excluded_share_low", "excluded_share_high", "differential_exclusion"])]


def _served(con: duckdb.DuckDBPyConnection, study: str) -> list[str]:
    """What the endpoints actually served against what the study asked for (marts.served_models)."""
    rows = [dict(zip(SERVED_COLUMNS, row, strict=True)) for row in served_rows(con, study)]
    if not rows:
        return []
    parts = ["<h3>Models served</h3>",
             "<p class='meta'>The model each endpoint said it served (the completion's <code>model</code> field; "
             "<code>synthetic</code> for the synthetic backend) for the model id the runs asked for, and how many "
             "distinct <code>system_fingerprint</code>s it reported (marts.served_models).</p>"]
    mismatched = [r for r in rows if r["served_as_requested"] is False]
    if mismatched:
        parts.append("<p class='banner'>" + "<br>".join(
            f"{escape(str(r['language']))} · {escape(str(r['model']))}: requested {escape(str(r['requested_model']))}"
            f", served {escape(str(r['served_model']))}" for r in mismatched)
            + "<br>The results belong to the served model. Fix: pin a snapshot (models[].snapshot).</p>")
    parts.append(html_table(rows, SERVED_COLUMNS))
    return parts


def _statistics(con: duckdb.DuckDBPyConnection, study: str) -> list[str]:
    if not table_exists(con, "marts", "stats_models"):
        return []
    rows = _rows(con, """
        select model, metric, analysis, term, estimate, p_value, p_holm, statistic from marts.stats_models
        where study = ? and analysis in ('language_slope', 'interaction_permutation')
        order by model, metric, analysis, term""", [study])
    if not rows:
        return []
    return ["<h3>Cross-language statistics</h3>",
            "<p class='meta'>Per-language OLS slopes on aligned share with Holm-corrected p, and the permutation "
            "test of the language x alignment interaction (marts.stats_models; the run-level CPI model and "
            "the agent-level DI mixed model are there too).</p>",
            html_table(rows, ["model", "metric", "analysis", "term", "estimate", "statistic", "p_value", "p_holm"])]


def build_report(con: duckdb.DuckDBPyConnection, out_dir: Path, *, studies: Sequence[str] | None = None,
                 source: str = "") -> tuple[Path, list[StudyReport]]:
    """Write ``out_dir/report.html`` for the given studies (default: every study with effect rows)."""
    from core.errors import WarehouseError

    if not table_exists(con, "marts", "backfire_by_language"):
        raise WarehouseError("the warehouse has no marts yet", fix="run a study first (backfire run STUDY or "
                                                                   "backfire demo), then write the report")
    available = [r[0] for r in con.execute("select distinct study from marts.backfire_by_language order by 1"
                                           ).fetchall()]
    if not available:
        raise WarehouseError("no study has effect rows in marts.backfire_by_language",
                             fix="run a study to completion first (only complete runs enter the marts)")
    chosen = list(studies) if studies else available
    missing = [s for s in chosen if s not in available]
    if missing:
        raise WarehouseError(f"no effect rows for {', '.join(missing)} in the warehouse",
                             fix=f"run the study first (backfire run ...); studies present: "
                                 f"{', '.join(available) or 'none'}")
    sections = [study_section(con, study) for study in chosen]
    validation = validation_section(con)  # every evaluated scorer, whatever the study
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    banner = ("<p class='banner'>Contains SYNTHETIC DATA (see the banner of each study).</p>"
              if any(s.synthetic for s in sections) else "")
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>alignment-backfire report"
            f"</title><style>{STYLE}</style></head><body><h1>alignment-backfire report</h1>"
            f"<p class='meta'>Studies: {escape(', '.join(chosen))}. Generated {generated} from "
            f"{escape(source)}. Metric spec and formulas: docs/metrics.md.</p>{banner}"
            + "\n".join(s.html for s in sections) + validation + "</body></html>")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path, sections


def bundle_report_writer(study: str, source: str = "") -> Callable[[duckdb.DuckDBPyConnection, Path], None]:
    """The writer a reproducibility bundle calls for its ``report/`` folder (``bundle.export_study``): the study's
    report, or no folder when the study has no effect rows yet (a bundle of a study whose marts were not built)."""

    def write(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
        from core.errors import WarehouseError

        try:
            build_report(con, folder, studies=[study], source=source)
        except WarehouseError:
            folder.rmdir()

    return write
