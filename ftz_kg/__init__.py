"""ftz-kg: a linked-data knowledge graph of China's pilot free trade zones."""

__version__ = "0.1.0"
