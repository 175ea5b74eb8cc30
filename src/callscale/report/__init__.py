"""Reports: one self-contained HTML page per run in one look (:mod:`callscale.report.look`), plots
(matplotlib: SVG shown, PNG offered), JSON summaries and terminal text."""
