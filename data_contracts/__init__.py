"""One contract per stage (schema + Great Expectations suite); usable alone and by the Dagster asset checks."""

from data_contracts._gx import ContractResult, Expectation, validate_frame

__all__ = ["ContractResult", "Expectation", "validate_frame"]
