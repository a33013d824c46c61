"""The transcript viewer (``backfire view``): a read-only web app over the warehouse and its static export."""

from viewer.app import create_app
from viewer.export import export_bundle

__all__ = ["create_app", "export_bundle"]
