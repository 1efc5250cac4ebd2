"""One colour per layer of the value chain, used by every view of the live app.

The colours are the Okabe–Ito palette (Okabe & Ito 2008), chosen to stay distinct for readers
with the common colour-vision deficiencies, with a bronze for the foundry and greys for the
outside world. A market is drawn in the colour of the layer that sells on it, so a line, an edge
and a node of one colour always mean the same part of the chain.
"""

from __future__ import annotations

from agents.base import PRODUCING_LAYERS, Layer, Market

#: the colour of each layer (hex), upstream first
LAYER_COLOURS: dict[Layer, str] = {
    Layer.FOUNDRY: "#8c6d31",    # bronze
    Layer.CHIPS: "#009e73",      # bluish green
    Layer.CLOUD: "#0072b2",      # blue
    Layer.NEOCLOUD: "#56b4e9",   # sky blue: a cloud too, a lighter one
    Layer.LAB: "#cc79a7",        # reddish purple
    Layer.HOST: "#e69f00",       # orange
    Layer.APP: "#d55e00",        # vermillion
    Layer.CUSTOMERS: "#7f7f7f",  # grey: the outside world pays in
    Layer.CAPITAL: "#b8a000",    # dark gold
}

#: how each layer is named on charts and in legends
LAYER_LABELS: dict[Layer, str] = {
    Layer.FOUNDRY: "Foundry",
    Layer.CHIPS: "Chip designers",
    Layer.CLOUD: "Clouds",
    Layer.NEOCLOUD: "Neoclouds",
    Layer.LAB: "Model labs",
    Layer.HOST: "Inference hosts",
    Layer.APP: "Apps",
    Layer.CUSTOMERS: "End customers",
    Layer.CAPITAL: "Investors",
}

#: the layer that sells on each market: the market is drawn in its colour
MARKET_SELLERS: dict[Market, Layer] = {
    Market.FOUNDRY: Layer.FOUNDRY,
    Market.CHIPS: Layer.CHIPS,
    Market.CUSTOM: Layer.CHIPS,
    Market.COMPUTE: Layer.CLOUD,
    Market.TOKENS: Layer.LAB,
    Market.PLANS: Layer.APP,
}

#: text and rule colours shared by the charts
INK = "#333333"
MUTED = "#6b6b6b"
GRID = "#e6e6e6"


def layer_colour(layer: str | Layer) -> str:
    """The colour of a layer given by name (``"lab"``) or member; grey for anything else."""
    try:
        return LAYER_COLOURS[Layer(layer)]
    except ValueError:
        return LAYER_COLOURS[Layer.CUSTOMERS]


def layer_label(layer: str | Layer) -> str:
    try:
        return LAYER_LABELS[Layer(layer)]
    except ValueError:
        return str(layer)


def layer_scale(layers: tuple[Layer, ...] = PRODUCING_LAYERS) -> dict[str, list[str]]:
    """A Vega-Lite colour scale mapping layer names to their colours, in value-chain order."""
    return {"domain": [str(layer) for layer in layers],
            "range": [LAYER_COLOURS[layer] for layer in layers]}


def label_scale(layers: tuple[Layer, ...] = PRODUCING_LAYERS) -> dict[str, list[str]]:
    """The same scale keyed by the layers' display labels (for legends that show labels)."""
    return {"domain": [LAYER_LABELS[layer] for layer in layers],
            "range": [LAYER_COLOURS[layer] for layer in layers]}
