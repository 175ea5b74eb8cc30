"""Reports: plots (matplotlib, PNG) and HTML/JSON summaries."""
