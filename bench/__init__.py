"""``qa bench``: performance close to the limits, side by side with the usual LangChain stack.

This folder belongs to the source checkout, not to the installed ``qa`` package: ``qa bench`` imports
it from beside ``src/``. ``run.py`` runs every measurement; ``measure.py`` (cold start, warm stages,
indexing, chat memory), ``scale.py`` (synthetic 1k–100k corpora, searched by the product's own search
functions), ``peer.py`` (the LangChain tutorial stack) and ``report.py`` (floors, the table) hold them.
See README.md in this folder.
"""
