"""editbench: a pytest harness that edits images with one model and scores them with a VLM judge."""

from __future__ import annotations

__version__ = "0.1.0"
