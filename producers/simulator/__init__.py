"""A realistic feed simulator: native agency payloads for the reference district.

    for item in generate(seed=7, count=1000):
        item.source, item.payload, item.expected   # Source, native bytes, Expected

Everything is published through the same adapters as real exports (`yiwang simulate`).
"""

from producers.simulator.model import Expected, Simulated
from producers.simulator.payloads import generate

__all__ = ["Expected", "Simulated", "generate"]
