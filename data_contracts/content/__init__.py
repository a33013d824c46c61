"""Content contract: every pack a study uses is complete and its phrase banks agree with its lexicon."""

from data_contracts.content.pack_rules import check_language, check_languages
from data_contracts.content.table import validate_content_packs

__all__ = ["check_language", "check_languages", "validate_content_packs"]
