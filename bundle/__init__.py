"""Reproducibility bundles: a study leaves the machine as Parquet tables, its exact study, packs, lexicons and
scorer configs, a manifest of hashes and versions and its report; importing it rebuilds identical marts."""

from bundle.compare import MartDiff, compare_marts
from bundle.export import ExportOptions, export_study
from bundle.importer import ImportResult, import_bundle, verify_bundle
from bundle.layout import BUNDLE_SCHEMA_VERSION
from bundle.manifest import read_manifest

__all__ = ["BUNDLE_SCHEMA_VERSION", "ExportOptions", "ImportResult", "MartDiff", "compare_marts", "export_study",
           "import_bundle", "read_manifest", "verify_bundle"]
