"""One colour per layer of the value chain, used by every view of the live app.

The colours are the Okabe–Ito palette (Okabe & Ito 2008), chosen to stay distinct for readers
with the common colour-vision deficiencies, with a bronze for the foundry and greys for the
outside world. A market is drawn in the colour of the layer that sells on it, so a line, an edge
and a node of one colour always mean the same part of the chain.
"""

from __future__ import annotations

from market.catalogue import (
    LAYER_COLOURS,
    LAYER_LABELS,
    MARKET_SELLERS,
    PRODUCING_LAYERS,
    Layer,
    layer_colour,
    layer_label,
)

__all__ = [
    "GRID",
    "INK",
    "LAYER_COLOURS",
    "LAYER_LABELS",
    "MARKET_SELLERS",
    "MUTED",
    "label_scale",
    "layer_colour",
    "layer_label",
]

#: text and rule colours shared by the charts
INK = "#333333"
MUTED = "#6b6b6b"
GRID = "#e6e6e6"


def label_scale(layers: tuple[Layer, ...] = PRODUCING_LAYERS) -> dict[str, list[str]]:
    """The same scale keyed by the layers' display labels (for legends that show labels)."""
    return {
        "domain": [LAYER_LABELS[layer] for layer in layers],
        "range": [LAYER_COLOURS[layer] for layer in layers],
    }
