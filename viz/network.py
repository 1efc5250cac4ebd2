"""The value-chain network: who paid whom in the quarter just run, the chain left to right.

Each firm is a labelled box in its layer's column (foundry on the left, end customers on the
right). Each payment between two firms is a curve from the payer's box to the payee's: it leaves
the side facing the payee, crosses every column between them through a gap between boxes (flat
over the boxes' width, so no line runs through a label), and ends in an arrow at the payee. Its
width grows with the square root of the amount; a key under the chart gives three widths.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import altair as alt
import polars as pl

from agents.base import PRODUCING_LAYERS, Layer
from viz.charts import _finish, with_data
from viz.live import CUSTOMERS, Snapshot
from viz.palette import INK, MUTED, layer_colour, layer_label
from viz.views import usd

NETWORK_WIDTH = 980
NETWORK_HEIGHT = 320
#: each firm is a labelled box; payments run between boxes, never through one
BOX_W, BOX_H = 94.0, 20.0
_TOP, _BOTTOM, _SIDE = 50, 50, 56
#: edge widths: thinnest and widest, pixels (width grows with the square root of the amount)
EDGE_MIN, EDGE_MAX = 0.8, 13.0


@dataclass(frozen=True, slots=True)
class Network:
    nodes: list[dict]
    edges: list[dict]
    headers: list[dict]
    total_usd: float
    paths: list[dict] = field(default_factory=list)
    scale: list[dict] = field(default_factory=list)


def network_nodes(snap: Snapshot) -> list[tuple[str, str]]:
    """(node id, layer) of every node: the producing firms, then the end customers."""
    return [(f, snap.layers[f]) for f in snap.producing()] + [(CUSTOMERS, str(Layer.CUSTOMERS))]


@cache
def _positions(nodes: tuple[tuple[str, str], ...]) -> dict[str, tuple[float, float]]:
    """Box centres: one column per layer, left to right in value-chain order, the boxes of a
    column spread evenly down it."""
    layers = [str(x) for x in PRODUCING_LAYERS] + [str(Layer.CUSTOMERS)]
    columns = [[f for f, layer in nodes if layer == name] for name in layers]
    columns = [c for c in columns if c]
    step = (NETWORK_WIDTH - 2 * _SIDE) / max(len(columns) - 1, 1)
    tallest = max(len(c) for c in columns)
    row = min(50.0, (NETWORK_HEIGHT - _TOP - _BOTTOM) / max(tallest - 1, 1))
    middle = _TOP + (NETWORK_HEIGHT - _TOP - _BOTTOM) / 2
    out = {}
    for k, members in enumerate(columns):
        for n, firm in enumerate(members):
            y = middle + (n - (len(members) - 1) / 2) * row
            out[firm] = (round(_SIDE + k * step, 1), round(y, 1))
    return out


def _gaps(ys: list[float]) -> list[float]:
    """Heights in a column where a line can pass between its boxes (and above and below)."""
    ys = sorted(ys)
    out = [ys[0] - BOX_H, ys[-1] + BOX_H]
    out += [(a + b) / 2 for a, b in itertools.pairwise(ys)]
    return out


def edge_path(
    start: tuple[float, float], end: tuple[float, float], columns: dict[float, list[float]]
) -> list[tuple[float, float]]:
    """The points of a payment's line, from its payer's box to its payee's: out of the side that
    faces the payee, across each column between them through a gap between boxes (flat over
    the boxes' width), into the payee's facing side. Drawn as a monotone curve through them."""
    (x1, y1), (x2, y2) = start, end
    sign = 1.0 if x2 >= x1 else -1.0
    half = BOX_W / 2
    points = [(x1 + sign * half, y1)]
    between = sorted((x for x in columns if min(x1, x2) < x < max(x1, x2)), key=lambda x: sign * x)
    for x in between:
        share = (x - x1) / (x2 - x1) if x2 != x1 else 0.5
        straight = y1 + share * (y2 - y1)
        y = min(_gaps(columns[x]), key=lambda g: abs(g - straight))
        points += [(x - sign * (half + 4), y), (x + sign * (half + 4), y)]
    points.append((x2 - sign * half, y2))
    return points


@cache
def _routes(nodes: tuple[tuple[str, str], ...]) -> dict[tuple[str, str], list]:
    """The lines drawn so far between the boxes of a set of nodes, by (payer, payee): a line
    depends on where the boxes are only, so each is worked out once."""
    return {}


def _route(
    nodes: tuple[tuple[str, str], ...],
    payer: str,
    payee: str,
    columns: dict[float, list[float]],
) -> list[tuple[float, float]]:
    routes = _routes(nodes)
    points = routes.get((payer, payee))
    if points is None:
        pos = _positions(nodes)
        points = routes[(payer, payee)] = edge_path(pos[payer], pos[payee], columns)
    return points


def edge_width(value: float, top: float) -> float:
    return EDGE_MIN + EDGE_MAX * math.sqrt(value / top) if top > 0 else 1.0


def width_scale(top: float) -> list[dict]:
    """The legend of edge widths: three round amounts up to the quarter's largest payment."""
    if top <= 0:
        return []
    biggest = 10 ** math.floor(math.log10(top))
    amounts = [a for a in (biggest / 100, biggest / 10, biggest) if a > 0]
    rows, x = [], 240.0
    for value in amounts:
        width = edge_width(value, top)
        rows.append(
            {
                "x": x,
                "x2": x + 36,
                "y": NETWORK_HEIGHT - 16.0,
                "width": round(width, 2),
                "label": usd(value),
            }
        )
        x += 110
    return rows


def network(snap: Snapshot) -> Network:
    """Boxes by layer and the money that flowed between them in the last quarter run."""
    nodes = network_nodes(snap)
    key = tuple(nodes)
    pos = _positions(key)
    columns: dict[float, list[float]] = {}
    for x, y in pos.values():
        columns.setdefault(x, []).append(y)
    last = snap.firms.filter(pl.col("quarter") == snap.quarters - 1)
    revenue = dict(last.select("firm", "revenue_usd").iter_rows())
    flows = snap.flows.filter(
        pl.col("payer").is_in(list(pos))
        & pl.col("payee").is_in(list(pos))
        & (pl.col("payer") != pl.col("payee"))
    )
    pairs = flows.group_by("payer", "payee", maintain_order=True).agg(
        pl.col("amount_usd").sum(), pl.col("kind").unique(maintain_order=True)
    )
    top = float(pairs["amount_usd"].max() or 0.0) if pairs.height else 0.0
    edges, paths = [], []
    for n, (payer, payee, value, kinds) in enumerate(pairs.sort("amount_usd").iter_rows()):
        points = _route(key, payer, payee, columns)
        width = edge_width(value, top)
        colour = layer_colour(snap.layers.get(payee, Layer.CUSTOMERS))
        text = (
            f"{_node_name(snap, payer)} → {_node_name(snap, payee)}: {usd(value)} "
            f"({', '.join(k.replace('_', ' ') for k in kinds)})"
        )
        (ax, _), (bx, by) = points[-2], points[-1]
        edges.append(
            {
                "x": points[0][0],
                "y": points[0][1],
                "x2": bx,
                "y2": by,
                "mx": bx - 7 * (1 if bx >= ax else -1),
                "my": by,
                "angle": 0.0 if bx >= ax else 180.0,
                "width": round(width, 2),
                "arrow": round(40 + 4 * width, 1),
                "colour": colour,
                "text": text,
            }
        )
        for k, (x, y) in enumerate(points):
            paths.append(
                {
                    "edge": n,
                    "order": k,
                    "x": round(x, 1),
                    "y": round(y, 1),
                    "width": round(width, 2),
                    "colour": colour,
                    "text": text,
                }
            )
    node_rows = []
    for firm, layer in nodes:
        gone = firm in snap.defaulted or firm in snap.closed
        why = "closed" if firm in snap.closed else "defaulted"
        x, y = pos[firm]
        rev = revenue.get(firm)
        node_rows.append(
            {
                "x": x,
                "y": y,
                "x0": x - BOX_W / 2,
                "x1": x + BOX_W / 2,
                "y0": y - BOX_H / 2,
                "y1": y + BOX_H / 2,
                "name": _node_name(snap, firm) + (f" ({why})" if gone else ""),
                "layer": layer,
                "colour": layer_colour(layer),
                "opacity": 0.35 if gone else 1.0,
                "text": f"{_node_name(snap, firm)} ({layer_label(layer)})"
                + (f": revenue {usd(rev)} this quarter" if rev is not None else "")
                + (f" — {why}" if gone else ""),
            }
        )
    headers = []
    for layer in dict.fromkeys(layer for _, layer in nodes):
        xs = [pos[f][0] for f, lay in nodes if lay == layer]
        headers.append(
            {"x": xs[0], "y": 14.0, "label": layer_label(layer), "colour": layer_colour(layer)}
        )
    return Network(
        node_rows,
        edges,
        headers,
        float(pairs["amount_usd"].sum() or 0.0),
        paths,
        width_scale(top),
    )


def _node_name(snap: Snapshot, node: str) -> str:
    return "End customers" if node == CUSTOMERS else snap.names.get(node, node)


@cache
def network_template(width: int = NETWORK_WIDTH, height: int = NETWORK_HEIGHT) -> dict[str, Any]:
    """Firms as labelled boxes in columns by layer, left to right; each payment a curve between
    two boxes (through the gaps of the columns between), width by amount, with its legend."""
    x_scale = alt.Scale(domain=[0, width], nice=False, zero=False)
    y_scale = alt.Scale(domain=[height, 0], nice=False, zero=False)
    x = alt.X("x:Q", scale=x_scale, axis=None)
    y = alt.Y("y:Q", scale=y_scale, axis=None)
    paid = alt.Tooltip("text:N", title="paid")
    curves = (
        alt.Chart(alt.NamedData("paths"))
        .mark_line(interpolate="monotone", strokeCap="round", opacity=0.5)
        .encode(
            x=x,
            y=y,
            detail="edge:N",
            order="order:Q",
            strokeWidth=alt.StrokeWidth("width:Q", scale=None),
            color=alt.Color("colour:N", scale=None),
            tooltip=paid,
        )
    )
    arrows = (
        alt.Chart(alt.NamedData("edges"))
        .mark_point(shape="triangle-right", filled=True, opacity=0.9)
        .encode(
            x=alt.X("mx:Q", scale=x_scale, axis=None),
            y=alt.Y("my:Q", scale=y_scale, axis=None),
            angle=alt.Angle("angle:Q", scale=None),
            size=alt.Size("arrow:Q", scale=None),
            color=alt.Color("colour:N", scale=None),
            tooltip=paid,
        )
    )
    boxes = (
        alt.Chart(alt.NamedData("nodes"))
        .mark_rect(cornerRadius=4, fill="white", strokeWidth=1.6)
        .encode(
            x=alt.X("x0:Q", scale=x_scale, axis=None),
            x2="x1:Q",
            y=alt.Y("y0:Q", scale=y_scale, axis=None),
            y2="y1:Q",
            stroke=alt.Color("colour:N", scale=None),
            opacity=alt.Opacity("opacity:Q", scale=None),
            tooltip=alt.Tooltip("text:N", title="firm"),
        )
    )
    labels = (
        alt.Chart(alt.NamedData("nodes"))
        .mark_text(fontSize=10.5, color=INK, limit=90, baseline="middle")
        .encode(
            x=x,
            y=y,
            text="name:N",
            opacity=alt.Opacity("opacity:Q", scale=None),
            tooltip=alt.Tooltip("text:N", title="firm"),
        )
    )
    headers = (
        alt.Chart(alt.NamedData("headers"))
        .mark_text(fontSize=12, fontWeight="bold", baseline="top")
        .encode(x=x, y=y, text="label:N", color=alt.Color("colour:N", scale=None))
    )
    key = (
        alt.Chart(alt.NamedData("scale"))
        .mark_rule(color=MUTED, strokeCap="butt")
        .encode(
            x=x,
            x2="x2:Q",
            y=y,
            strokeWidth=alt.StrokeWidth("width:Q", scale=None),
        )
    )
    key_labels = (
        alt.Chart(alt.NamedData("scale"))
        .mark_text(align="left", dx=42, fontSize=11, color=INK, baseline="middle")
        .encode(x=x, y=y, text="label:N")
    )
    key_title = (
        alt.Chart(alt.NamedData("scale"))
        .transform_filter("datum.x < 250")
        .mark_text(align="left", fontSize=11, color=MUTED, baseline="middle")
        .encode(
            x=alt.datum(_KEY_TITLE_X, scale=x_scale),
            y=y,
            text=alt.value("Line width: paid in the quarter"),
        )
    )
    chart = alt.layer(
        curves, arrows, boxes, labels, headers, key, key_labels, key_title
    ).properties(width=width, height=height)
    return _finish(chart)


_KEY_TITLE_X = 40


def network_spec(snap: Snapshot) -> dict[str, Any]:
    net = network(snap)
    return with_data(
        network_template(),
        nodes=net.nodes,
        edges=net.edges,
        headers=net.headers,
        paths=net.paths,
        scale=net.scale,
    )
