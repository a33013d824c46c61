"""Language partitions of the simulation and scoring stages: one key per language pack.

The keys are the packs found when the code location loads (the 16 shipped ones, plus any on
``BACKFIRE_PACK_PATH``), so a new language is a partition without code. A partition holds the study's runs
in that language; a run may target one key (a UI materialization or backfill: one run per language, each
failing and retrying on its own) or a range of keys (the nightly job: one run over every language).
The evaluation date is not a partition dimension: ad-hoc studies have none, and a dated evaluation writes
its date into every row (``raw.runs.evaluation_date``), so nights append instead of replacing each other.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def language_partitions(languages: Sequence[str]) -> dg.StaticPartitionsDefinition:
    return dg.StaticPartitionsDefinition(sorted(languages))


def partition_languages(context: dg.AssetExecutionContext) -> list[str]:
    """The languages this step materializes: its partition key, or every key of its range."""
    return list(context.partition_keys)


def range_tags(partitions: dg.StaticPartitionsDefinition, languages: Sequence[str]) -> dict[str, str]:
    """Tags for one run over the smallest key range that holds ``languages`` (keys in between that are not in
    the study materialize as empty partitions of that study)."""
    keys = partitions.get_partition_keys()
    chosen = sorted(keys.index(lang) for lang in languages)
    return {RANGE_START_TAG: keys[chosen[0]], RANGE_END_TAG: keys[chosen[-1]]}
