"""Clearing one market: orders in, trades and every seller's own residual demand out.

The auctioneer (:func:`market.auction.clear`) clears each book. Around it this module

* clears a **homogeneous** market (foundry slots, chips, a custom programme, compute) as one
  book, and a **differentiated** market (API tokens, a segment's plans) by logit shares over
  sellers, one sub-book per seller, then a spillover book for what is left;
* tells each seller its **residual demand**: what buyers would have bought from it at its own
  price and a step either side, its rivals' prices held as they were — never a bid only a
  rival could serve (:class:`~agents.protocol.DemandSignal`).

Residual demand is read from the book's demand curve made continuous: the cumulative quantity
bid at or above a price, interpolated linearly in logs between the bids' prices (exact for the
constant-elasticity curves buyers lay on a grid). On a homogeneous good it is the demand left
once cheaper rivals have sold their capacity, equal asks sharing (efficient rationing; Levitan &
Shubik 1972); on a differentiated good it is the seller's logit share of the demand at its price
(Anderson, de Palma & Thisse 1992).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from agents.protocol import DemandSignal, Order
from market.auction import Clearing, clear, clear_shared_bids
from market.catalogue import Market

#: the probe step: residual demand is read at the price and at price·(1 ± STEP)
STEP = 0.02


class Trade(NamedTuple):
    """One bilateral trade: the bid and ask orders, the quantity and the unit price (a named
    tuple: a book makes one per trade, tens of thousands a run)."""

    bid: Order
    ask: Order
    qty: float
    price: float


class DemandCurve:
    """The cumulative quantity bid at or above a price, continuous between the bids' prices."""

    def __init__(self, bids: Sequence[Order], weights: Sequence[float] | None = None) -> None:
        qty = [
            b.qty * (1.0 if weights is None else w)
            for b, w in zip(bids, weights or [1.0] * len(bids), strict=True)
        ]
        points: dict[float, float] = {}
        for bid, q in zip(bids, qty, strict=True):
            if q > 0 and bid.price > 0:
                points[bid.price] = points.get(bid.price, 0.0) + q
        self.prices = sorted(points, reverse=True)
        cum, total = [], 0.0
        for price in self.prices:
            total += points[price]
            cum.append(total)
        self.cumulative = cum
        self._negated = [-p for p in self.prices]  # ascending, for bisect

    @property
    def total(self) -> float:
        return self.cumulative[-1] if self.cumulative else 0.0

    def at(self, price: float) -> float:
        """Quantity wanted at ``price``: 0 above the highest bid, everything below the lowest."""
        prices, cum = self.prices, self.cumulative
        if not prices or price > prices[0]:
            return 0.0
        if price <= prices[-1]:
            return cum[-1]
        # prices[lo] >= price > prices[lo + 1]: interpolate log-quantity in log-price
        if math.isnan(price):
            return math.nan
        lo = bisect_right(self._negated, -price) - 1
        hi = lo + 1
        p_hi, p_lo, q_hi, q_lo = prices[lo], prices[hi], cum[lo], cum[hi]
        if price == p_hi:
            return q_hi
        w = math.log(p_hi / price) / math.log(p_hi / p_lo)
        return math.exp((1.0 - w) * math.log(q_hi) + w * math.log(q_lo))


def homogeneous_residual(curve: DemandCurve, asks: Sequence[Order], j: int, price: float) -> float:
    """What seller ``j`` would sell at ``price`` if it had capacity for all of it: the demand
    at that price less the capacity of rivals asking less, rivals asking the same sharing it."""
    cheaper = math.fsum(a.qty for k, a in enumerate(asks) if k != j and a.price < price)
    tied = [a.qty for k, a in enumerate(asks) if k != j and a.price == price]
    left = max(0.0, curve.at(price) - cheaper)
    if tied:
        own = asks[j].qty
        share = own / (own + math.fsum(tied)) if own > 0 else 1.0 / (1 + len(tied))
        left *= share
    return left


def sellout_price(curve: DemandCurve, asks: Sequence[Order], j: int) -> float:
    """The highest bid price at which seller ``j``'s residual demand, on the bids as they trade
    (every bid at or above the price, less what rivals asking no more offer), covers all it
    offers; 0 when no bid price does. Residual demand only grows as the price falls, so the
    search halves the bid prices."""
    own = asks[j].qty
    if own <= 0 or not curve.prices:
        return 0.0
    rivals = sorted((a.price, a.qty) for k, a in enumerate(asks) if k != j)

    def covers(i: int) -> bool:
        price = curve.prices[i]
        served = math.fsum(q for p, q in rivals if p <= price)
        return curve.cumulative[i] - served >= own * (1.0 - 1e-9)

    lo, hi = 0, len(curve.prices) - 1  # prices high to low
    if not covers(hi):
        return 0.0
    while lo < hi:
        mid = (lo + hi) // 2
        if covers(mid):
            hi = mid
        else:
            lo = mid + 1
    return curve.prices[lo]


def homogeneous_signals(
    market: Market,
    book: str,
    bids: Sequence[Order],
    asks: Sequence[Order],
    sold: Sequence[float],
) -> list[tuple[str, DemandSignal]]:
    """Each seller's residual demand in a homogeneous book."""
    curve = DemandCurve(bids)
    traded = math.fsum(sold)
    out = []
    for j, ask in enumerate(asks):

        def at(p: float, j: int = j) -> float:
            return homogeneous_residual(curve, asks, j, p)

        # where its residual demand ends: the cheapest rival above it that would take it all
        above = sorted({a.price for k, a in enumerate(asks) if k != j and a.price > ask.price})
        ceiling = next((p for p in above if at(p * (1.0 + STEP)) <= 0.0), math.inf)
        sellout = sellout_price(curve, asks, j)
        unserved = max(0.0, curve.at(ask.price) - traded)
        below = [a.price for k, a in enumerate(asks) if k != j and 0 < a.price < ask.price]
        undercut = max(below) * (1.0 - STEP) if below else 0.0
        signal = _signal(market, book, ask, sold[j], at, ceiling, sellout, unserved, curve)
        if undercut > 0:
            signal = replace(signal, undercut=undercut, wanted_at_undercut=at(undercut))
        out.append((ask.firm, signal))
    return out


def market_elasticity(curve: DemandCurve, price: float) -> float:
    """The arc elasticity of the book's whole demand around ``price`` (NaN where there is none)."""
    below, above = curve.at(price * (1.0 - STEP)), curve.at(price * (1.0 + STEP))
    if below <= 0 or above <= 0:
        return math.nan
    return math.log(below / above) / math.log((1.0 + STEP) / (1.0 - STEP))


def _signal(
    market: Market,
    book: str,
    ask: Order,
    sold: float,
    at: Callable[[float], float],
    ceiling: float = math.inf,
    sellout: float = 0.0,
    unserved: float = 0.0,
    curve: DemandCurve | None = None,
) -> DemandSignal:
    p = ask.price
    return DemandSignal(
        market,
        book,
        p,
        ask.qty,
        sold,
        at(p),
        at(p * (1.0 - STEP)),
        at(p * (1.0 + STEP)),
        STEP,
        ceiling,
        sellout,
        unserved,
        market_elasticity=market_elasticity(curve, p) if curve is not None else math.nan,
    )


def logit_weights(
    appeal: Sequence[float], prices: Sequence[float], elasticity: float, per_usd: float = 0.0
) -> list[float]:
    """Buyers' logit / CES weights ``appeal · price^−x``, relative to the cheapest price so that
    a steep elasticity underflows to 0 rather than overflowing (the shares are the same); 0 for a
    seller asking nothing. With ``per_usd`` > 0, a logit in dollars instead (Berry 1994):
    ``appeal · exp(−per_usd · price)``, buyers weighing a dollar saved the same at any price
    level (markups then stay in dollars as costs fall, rather than in proportion to cost)."""
    if len(appeal) != len(prices):
        raise ValueError(f"{len(appeal)} appeals for {len(prices)} prices")
    positive = [p for p in prices if p > 0]
    cheapest = min(positive) if positive else 1.0
    if per_usd > 0:
        return [
            a * math.exp(-per_usd * (p - cheapest)) if p > 0 else 0.0
            for a, p in zip(appeal, prices, strict=False)
        ]
    power, exponent = math.pow, -elasticity
    return [
        a * power(p / cheapest, exponent) if p > 0 else 0.0
        for a, p in zip(appeal, prices, strict=False)
    ]


def dollar_weight(
    fixed: dict[str, float], book: str, asks: Sequence[Order], elasticity: float, compare: str
) -> float:
    """Buyers' weight on a dollar of price in ``book`` for a logit in dollars (0 when they compare
    prices by ratio, ``compare == "ratios"``): ``x`` over the book's mean ask the first time it
    has one, kept in ``fixed``, so that at the opening prices the choice has elasticity ``x`` as
    in the ratio form, and a dollar saved weighs the same however far costs fall later."""
    if compare != "dollars" or elasticity <= 0:
        return 0.0
    if book not in fixed:
        prices = [a.price for a in asks if a.price > 0]
        if not prices:
            return 0.0
        fixed[book] = elasticity / (math.fsum(prices) / len(prices))
    return fixed[book]


def logit_share(
    appeal: Sequence[float],
    prices: Sequence[float],
    j: int,
    elasticity: float,
    per_usd: float = 0.0,
) -> Callable[[float], float]:
    """Seller ``j``'s logit share as a function of its own price, rivals' prices held:
    ``share(p)`` is ``w[j] / fsum(w)`` for ``w = logit_weights(appeal, prices with p at j,
    elasticity, per_usd)``, float for float. The rivals' weights depend on ``p`` only through the
    cheapest price they are taken relative to, so while that is a rival's they are computed
    once (a residual-demand search probes one seller's price dozens of times)."""
    if len(appeal) != len(prices):
        raise ValueError(f"{len(appeal)} appeals for {len(prices)} prices")
    rival_low = min((q for k, q in enumerate(prices) if k != j and q > 0), default=None)
    exponent, power, exp, own_appeal = -elasticity, math.pow, math.exp, appeal[j]
    fixed: list[float] | None = None  # rivals' weights relative to rival_low

    def weight(a: float, q: float, cheapest: float) -> float:
        if q <= 0:
            return 0.0
        if per_usd > 0:
            return a * exp(-per_usd * (q - cheapest))
        return a * power(q / cheapest, exponent)

    def rivals(cheapest: float) -> list[float]:
        return [
            weight(a, q, cheapest)
            for k, (a, q) in enumerate(zip(appeal, prices, strict=True))
            if k != j
        ]

    def share(p: float) -> float:
        nonlocal fixed
        if p > 0:
            cheapest = p if rival_low is None or p < rival_low else rival_low
        else:
            cheapest = 1.0 if rival_low is None else rival_low
        if cheapest == rival_low:
            if fixed is None:
                fixed = rivals(cheapest)
            others = fixed
        else:
            others = rivals(cheapest)
        own = weight(own_appeal, p, cheapest)
        total = math.fsum([*others, own])
        return own / total if total > 0 else 0.0

    return share


def differentiated_signals(
    market: Market,
    book: str,
    bids: Sequence[Order],
    asks: Sequence[Order],
    appeal: Sequence[float],
    sold: Sequence[float],
    elasticity: float,
    capacity_bound: bool = False,
    per_usd: float = 0.0,
) -> list[tuple[str, DemandSignal]]:
    """Each seller's residual demand in a differentiated market: its logit share, at its price
    against its rivals' prices, of the demand at its price. ``capacity_bound``: its sellers
    supply from a capacity, so each is told its sellout price too (a search; sellers that serve
    to order, as in the token and plan markets, never read it)."""
    curve = DemandCurve(bids)
    prices = [a.price for a in asks]
    traded = math.fsum(sold)
    out = []
    for j, ask in enumerate(asks):
        share = logit_share(appeal, prices, j, elasticity, per_usd)

        def at(p: float, share: Callable[[float], float] = share) -> float:
            return share(p) * curve.at(p)

        sellout = _sellout_on(at, ask.qty, curve) if capacity_bound else 0.0
        # buyers at or above its price whom nobody served, in its share of the market
        demand = curve.at(ask.price)
        unserved = max(0.0, demand - traded) * at(ask.price) / demand if demand > 0 else 0.0
        signal = _signal(market, book, ask, sold[j], at, math.inf, sellout, unserved, curve)
        out.append((ask.firm, signal))
    return out


def _sellout_on(at: Callable[[float], float], qty: float, curve: DemandCurve) -> float:
    """The highest price at which a differentiated seller's residual demand ``at`` covers
    ``qty`` (0 when none does): bisection in logs between the lowest and highest bid prices,
    residual demand falling as its price rises."""
    if qty <= 0 or not curve.prices:
        return 0.0
    lo, hi = curve.prices[-1], curve.prices[0]
    if at(lo) < qty:
        return 0.0
    if at(hi) >= qty:
        return hi
    for _ in range(40):
        mid = math.sqrt(lo * hi)
        if at(mid) >= qty:
            lo = mid
        else:
            hi = mid
    return lo


class Trades:
    """A market's trades as columns, in matching order: each trade's bid and ask orders, its
    quantity and unit price. A run makes tens of thousands of trades; columns hold references
    to the orders instead of an object a trade. Iterating yields ``(bid, ask, qty, price)``
    tuples, as a :class:`Trade` unpacks."""

    __slots__ = ("ask", "bid", "price", "qty")

    def __init__(
        self,
        bid: list[Order] | None = None,
        ask: list[Order] | None = None,
        qty: list[float] | None = None,
        price: list[float] | None = None,
    ) -> None:
        self.bid = [] if bid is None else bid
        self.ask = [] if ask is None else ask
        self.qty = [] if qty is None else qty
        self.price = [] if price is None else price

    def __len__(self) -> int:
        return len(self.qty)

    def __iter__(self):
        return zip(self.bid, self.ask, self.qty, self.price, strict=True)

    def append(self, bid: Order, ask: Order, qty: float, price: float) -> None:
        self.bid.append(bid)
        self.ask.append(ask)
        self.qty.append(qty)
        self.price.append(price)

    def extend(self, other: Trades) -> None:
        self.bid += other.bid
        self.ask += other.ask
        self.qty += other.qty
        self.price += other.price

    def volume(self) -> float:
        """The quantity traded (exactly rounded, so independent of the order of the trades)."""
        return math.fsum(self.qty)

    def value(self) -> float:
        """What the trades are worth: the exactly rounded sum of quantity × price."""
        return math.fsum([q * p for q, p in zip(self.qty, self.price, strict=True)])

    def as_list(self) -> list[Trade]:
        return [Trade(*t) for t in self]


def trades_of(res: Clearing, bids: Sequence[Order], asks: Sequence[Order]) -> Trades:
    """The trades of a clearing, with their orders, in matching order."""
    ask_of = res.trade_ask.tolist()
    return Trades(
        list(map(bids.__getitem__, res.trade_bid.tolist())),
        [asks[0]] * len(ask_of) if len(asks) == 1 else list(map(asks.__getitem__, ask_of)),
        res.trade_qty.tolist(),
        res.trade_price.tolist(),
    )


class Clearer:
    """Clears books with one rule per market and keeps each book's :class:`Clearing` (for the
    recorder and the app)."""

    def __init__(
        self, rules: dict[Market, str], k: float, choice_set: int, record: Callable[..., None]
    ) -> None:
        self.rules = rules
        self.k = k
        self.choice_set = choice_set
        self.record = record
        self.books: dict[tuple[str, str], Clearing] = {}

    def book(
        self,
        market: Market,
        book: str,
        bids: Sequence[Order],
        asks: Sequence[Order],
        bid_qty: Sequence[float] | None = None,
        ask_qty: Sequence[float] | None = None,
    ) -> tuple[Clearing, Trades]:
        """Clear one book; ``bid_qty``/``ask_qty`` replace the orders' quantities (sub-books)."""
        bq = [o.qty for o in bids] if bid_qty is None else list(bid_qty)
        aq = [o.qty for o in asks] if ask_qty is None else list(ask_qty)
        res = clear(
            [o.price for o in bids],
            bq,
            [o.price for o in asks],
            aq,
            rule=self.rules[market],
            k=self.k,
        )
        return res, self._keep(market, book, res, bids, asks, bq, aq)

    def _keep(self, market, book, res, bids, asks, bid_qty, ask_qty) -> Trades:
        """Keep and record a cleared book; return its trades."""
        self.books[(market.value, book)] = res
        self.record(market, book, res, bids, asks, bid_qty, ask_qty)
        return trades_of(res, bids, asks)

    def homogeneous(
        self, market: Market, book: str, bids: Sequence[Order], asks: Sequence[Order]
    ) -> tuple[Trades, list[tuple[str, DemandSignal]]]:
        res, trades = self.book(market, book, bids, asks)
        signals = homogeneous_signals(market, book, bids, asks, res.ask_fill.tolist())
        return trades, signals

    def differentiated(
        self,
        market: Market,
        book: str,
        bids: Sequence[Order],
        asks: Sequence[Order],
        appeal: Sequence[float],
        elasticity: float,
        capacity_bound: bool = False,
        per_usd: float = 0.0,
    ) -> tuple[Trades, list[tuple[str, DemandSignal]], float, float]:
        """Clear a market of differentiated sellers; return the trades, each seller's signal,
        and the market's volume-weighted price and volume.

        Buyers spread over sellers by shares ∝ appeal · (ask per unit of value)^−elasticity
        (or ∝ appeal · exp(−per_usd · ask), see :func:`logit_weights`) and
        each seller's share clears against its ask in its own sub-book; buyers consider the
        ``choice_set`` most attractive sellers (a consideration set, Hauser & Wernerfelt 1990).
        What is left unserved (a seller sold out, or priced above some buyers) clears once more
        in a spillover book against every seller's remaining supply.
        """
        trades = Trades()
        bid_qty = np.array([b.qty for b in bids], dtype=float)
        left_bid = bid_qty.copy()
        left_ask = [a.qty for a in asks]
        sold = [0.0] * len(asks)
        live = [j for j, a in enumerate(asks) if a.qty > 0 and a.price > 0]
        if live and bids:
            weight = np.array(
                logit_weights(
                    [appeal[j] for j in live], [asks[j].price for j in live], elasticity, per_usd
                )
            )
            keep = np.sort(np.argsort(-weight, kind="stable")[: self.choice_set])
            live = [live[i] for i in keep]
            weight = weight[keep]
            shares = weight / math.fsum(weight.tolist())
            # every seller's sub-book at once: the same bids, in the seller's share
            rows = bid_qty[None, :] * shares[:, None]
            cleared = clear_shared_bids(
                [b.price for b in bids],
                rows,
                [asks[j].price for j in live],
                [asks[j].qty for j in live],
                rule=self.rules[market],
                k=self.k,
            )
            for j, row, res in zip(live, rows, cleared, strict=True):
                name = f"{book}/{asks[j].firm}" if book else asks[j].firm
                sub = self._keep(market, name, res, bids, [asks[j]], row, [asks[j].qty])
                if not sub:
                    continue
                trades.extend(sub)
                # one ask: each bid trades once, and the seller's totals run in trade order
                left_bid[res.trade_bid] -= res.trade_qty
                left_ask[j] = float(
                    np.subtract.accumulate(np.append(left_ask[j], res.trade_qty))[-1]
                )
                sold[j] = float(np.add.accumulate(np.append(sold[j], res.trade_qty))[-1])
        spill_bids = [i for i, q in enumerate(left_bid) if q > 1e-9]
        spill_asks = [j for j, q in enumerate(left_ask) if q > 1e-9]
        if spill_bids and spill_asks:
            res, sub = self.book(
                market,
                f"{book}/spillover" if book else "spillover",
                [bids[i] for i in spill_bids],
                [asks[j] for j in spill_asks],
                bid_qty=[float(left_bid[i]) for i in spill_bids],
                ask_qty=[left_ask[j] for j in spill_asks],
            )
            trades.extend(sub)
            for j, q in zip(res.trade_ask.tolist(), res.trade_qty.tolist(), strict=True):
                sold[spill_asks[j]] += q
        volume = trades.volume()
        price = trades.value() / volume if volume > 0 else math.nan
        signals = differentiated_signals(
            market, book, bids, asks, appeal, sold, elasticity, capacity_bound, per_usd
        )
        return trades, signals, price, volume
