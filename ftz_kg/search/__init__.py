"""Full-text search over the graph's names, alternative names, definitions, descriptions and quotes."""

from ftz_kg.search.textindex import Hit, TextIndex

__all__ = ["Hit", "TextIndex"]
