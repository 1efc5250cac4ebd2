"""The catalogue: the layers of the value chain and the markets between them, with their names,
units, pricing rules and colours, declared once for the model, the reports and the app.

    >>> [str(layer) for layer in PRODUCING_LAYERS][:3]
    ['foundry', 'chips', 'cloud']
    >>> UNIT[Market.COMPUTE]
    'quality-adjusted H100e-hours'
"""

from __future__ import annotations

from enum import StrEnum


class Layer(StrEnum):
    """The layers of the value chain, upstream first."""

    FOUNDRY = "foundry"
    CHIPS = "chips"
    CLOUD = "cloud"
    NEOCLOUD = "neocloud"
    LAB = "lab"
    HOST = "host"
    APP = "app"
    CUSTOMERS = "customers"
    CAPITAL = "capital"


#: the layers whose margins are reported (customers and capital are not firms that earn margins)
PRODUCING_LAYERS: tuple[Layer, ...] = (
    Layer.FOUNDRY,
    Layer.CHIPS,
    Layer.CLOUD,
    Layer.NEOCLOUD,
    Layer.LAB,
    Layer.HOST,
    Layer.APP,
)
#: the same, as the strings the frames hold
LAYER_NAMES: tuple[str, ...] = tuple(str(layer) for layer in PRODUCING_LAYERS)


class Market(StrEnum):
    """The markets the auctioneer clears each quarter, in protocol order."""

    FOUNDRY = "foundry"  # packaging slots, foundry → chip designers (posted price)
    CHIPS = "chips"  # merchant accelerators, designers → capacity owners (posted price)
    CUSTOM = "custom"  # custom accelerators, partner → programme owner (posted price)
    COMPUTE = "compute"  # H100e-hours, capacity owners → labs, hosts, apps (uniform price)
    TOKENS = "tokens"  # quality-adjusted API tokens, labs and hosts → apps, customers (uniform)
    PLANS = "plans"  # seats, apps and labs' apps → customer segments (posted price)


MARKET_NAMES: tuple[str, ...] = tuple(str(market) for market in Market)


class Side(StrEnum):
    BID = "bid"
    ASK = "ask"


#: the auctioneer's pricing rule on each market
RULE: dict[Market, str] = {
    Market.FOUNDRY: "posted",
    Market.CHIPS: "posted",
    Market.CUSTOM: "posted",
    Market.COMPUTE: "posted",
    Market.TOKENS: "posted",
    Market.PLANS: "posted",
}
#: the unit each market's quantities are in
UNIT: dict[Market, str] = {
    Market.FOUNDRY: "H100e slots",
    Market.CHIPS: "effective H100e",
    Market.CUSTOM: "H100e",
    Market.COMPUTE: "quality-adjusted H100e-hours",
    Market.TOKENS: "M quality-adjusted tokens",
    Market.PLANS: "effective seat-quarters",
}
#: the layer that sells on each market (a market is drawn in its colour)
MARKET_SELLERS: dict[Market, Layer] = {
    Market.FOUNDRY: Layer.FOUNDRY,
    Market.CHIPS: Layer.CHIPS,
    Market.CUSTOM: Layer.CHIPS,
    Market.COMPUTE: Layer.CLOUD,
    Market.TOKENS: Layer.LAB,
    Market.PLANS: Layer.APP,
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
#: how each market is named on charts and in reports
MARKET_LABELS: dict[str, str] = {
    "foundry": "Foundry slots",
    "chips": "Chips",
    "custom": "Custom chips",
    "compute": "Compute",
    "tokens": "API tokens",
    "plans": "Plans",
}
#: one colour per layer: the Okabe–Ito palette (Okabe & Ito 2008), distinct for readers with
#: the common colour-vision deficiencies, a bronze for the foundry and greys for the outside
LAYER_COLOURS: dict[Layer, str] = {
    Layer.FOUNDRY: "#8c6d31",  # bronze
    Layer.CHIPS: "#009e73",  # bluish green
    Layer.CLOUD: "#0072b2",  # blue
    Layer.NEOCLOUD: "#56b4e9",  # sky blue: a cloud too, a lighter one
    Layer.LAB: "#cc79a7",  # reddish purple
    Layer.HOST: "#e69f00",  # orange
    Layer.APP: "#d55e00",  # vermillion
    Layer.CUSTOMERS: "#7f7f7f",  # grey: the outside world pays in
    Layer.CAPITAL: "#b8a000",  # dark gold
}


def layer_colour(layer: str | Layer) -> str:
    """The colour of a layer given by name (``"lab"``) or member; grey for anything else."""
    try:
        return LAYER_COLOURS[Layer(layer)]
    except ValueError:
        return LAYER_COLOURS[Layer.CUSTOMERS]


def layer_label(layer: str | Layer) -> str:
    """The display name of a layer given by name or member; the name itself if unknown."""
    try:
        return LAYER_LABELS[Layer(layer)]
    except ValueError:
        return str(layer)
