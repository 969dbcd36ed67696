"""ftz-kg: a linked-data knowledge graph of China's pilot free trade zones."""

__version__ = "0.2.0"
# the day this version was released: VoID's dcterms:issued, the page footer and `ftz-kg --version`
RELEASE_DATE = "2026-12-06"
