"""Reports: a JSON-serialisable results model first, then renderers (Markdown, CSV, HTML) over it."""
