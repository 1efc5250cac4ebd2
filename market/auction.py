"""The auctioneer: one call auction on price-quantity orders, as a pure function over numpy arrays.

Every market of the economy (chips, compute, API tokens, end-user plans) clears through
:func:`clear`. Nothing here knows about firms or Mesa: orders come in as parallel arrays, fills come
out as parallel arrays, so the mechanism can be table-tested, property-tested and replaced by a
faster version behind the same signature.

Two pricing rules:

``"uniform"``
    A sealed-bid call auction (a "k-double auction", Satterthwaite & Williams 1989; the clearing
    rule of exchange opening auctions). Bids are sorted from the highest price down, asks from the
    lowest price up, and matched while the bid is at least the ask. That greedy match maximises the
    gains from trade. Every trade happens at one price ``p`` chosen inside the interval where
    demand meets supply: ``p`` is at least every filled ask and every bid left wanting, and at most
    every filled bid and every ask left unsold. ``k`` places ``p`` inside that interval (0 = the
    sellers' end, 1 = the buyers' end).

``"posted"``
    Posted prices with efficient rationing (the "posted offer" institution of experimental
    economics, Plott & Smith 1978). Each ask is a seller's list price and trades at that price.
    Sellers are visited from the cheapest ask up; the bids still wanting and priced at or above
    the ask are served highest first, so when the ask cannot serve them all, those who value the
    good most get it (ties share pro rata to what they still want).

``"posted_proportional"``
    The same, but an oversubscribed ask rations every eligible bid in proportion to what it still
    wants, whatever its price (proportional rationing: buyers who value the good least get a share,
    so some gains from trade are lost).

Ties are resolved by order index (earlier orders first) so that the result never depends on the
sort algorithm. Quantities are floats (chips, hours, tokens and seats are all divisible here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Rule = Literal["uniform", "posted", "posted_proportional"]
RULES: tuple[str, ...] = ("uniform", "posted", "posted_proportional")
_EPS = 1e-12


@dataclass(frozen=True, slots=True)
class Curve:
    """A step curve: from ``price[i]`` to the next step the cumulative quantity is ``quantity[i]``.

    For demand the prices run from high to low and the quantity is what buyers want at that price
    or above; for supply the prices run from low to high and the quantity is what sellers offer at
    that price or below.
    """

    price: NDArray[np.float64]
    quantity: NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Clearing:
    """The outcome of one call auction.

    Attributes:
        price: the clearing price (uniform rule) or the volume-weighted average trade price (posted
            rule); ``nan`` when nothing traded.
        volume: total quantity traded.
        bid_fill: quantity filled for each bid, in the order given.
        ask_fill: quantity filled for each ask, in the order given.
        trade_bid, trade_ask, trade_qty, trade_price: the bilateral trades (who bought from whom,
            how much, at what unit price), in matching order; what the ledger settles.
        demand, supply: the step curves of the book, for inspection and charts.
        rule: the pricing rule used.
    """

    price: float
    volume: float
    bid_fill: NDArray[np.float64]
    ask_fill: NDArray[np.float64]
    trade_bid: NDArray[np.int64]
    trade_ask: NDArray[np.int64]
    trade_qty: NDArray[np.float64]
    trade_price: NDArray[np.float64]
    demand: Curve
    supply: Curve
    rule: str

    @property
    def demand_at_price(self) -> float:
        """What buyers wanted at the clearing price (all bids priced at or above it)."""
        if np.isnan(self.price):
            return 0.0
        return _quantity_at(self.demand, self.price, side="demand")

    @property
    def supply_at_price(self) -> float:
        """What sellers offered at the clearing price (all asks priced at or below it)."""
        if np.isnan(self.price):
            return 0.0
        return _quantity_at(self.supply, self.price, side="supply")


def _quantity_at(curve: Curve, price: float, side: str) -> float:
    tol = 1e-9 * max(1.0, abs(price))
    mask = curve.price >= price - tol if side == "demand" else curve.price <= price + tol
    return float(curve.quantity[mask][-1]) if mask.any() else 0.0


def _as_orders(price: ArrayLike, qty: ArrayLike, name: str) -> tuple[NDArray, NDArray]:
    p = np.asarray(price, dtype=np.float64).reshape(-1)
    q = np.asarray(qty, dtype=np.float64).reshape(-1)
    if p.shape != q.shape:
        raise ValueError(
            f"{name}: price and quantity arrays differ in length ({p.size} vs {q.size})"
        )
    _check(p, q, name)
    return p, q


def _check(p: NDArray, q: NDArray, name: str) -> None:
    if not (np.isfinite(p).all() and np.isfinite(q).all()):
        raise ValueError(f"{name}: prices and quantities must be finite")
    if (q < 0).any():
        raise ValueError(f"{name}: quantities must be non-negative")


def _curve(price: NDArray, qty: NDArray, order: NDArray) -> Curve:
    if order.size == 0:
        return Curve(np.empty(0), np.empty(0))
    p = price[order]
    cum = np.cumsum(qty[order])
    # keep the last point of each distinct price: one step per price level
    last = np.concatenate((p[1:] != p[:-1], [True]))
    return Curve(p[last].copy(), cum[last])


def clear(
    bid_price: ArrayLike,
    bid_qty: ArrayLike,
    ask_price: ArrayLike,
    ask_qty: ArrayLike,
    rule: Rule = "uniform",
    k: float = 0.5,
) -> Clearing:
    """Clear one call auction.

    Args:
        bid_price: the most each buyer pays per unit.
        bid_qty: how many units each buyer wants (non-negative).
        ask_price: the least each seller takes per unit (its list price under ``"posted"``).
        ask_qty: how many units each seller offers (non-negative).
        rule: ``"uniform"`` or ``"posted"``.
        k: under ``"uniform"``, where in the clearing interval the price lies (0 = sellers' end,
            1 = buyers' end).

    Returns:
        The :class:`Clearing`: price, volume, each order's fill, the trades and both curves.

    Raises:
        ValueError: on mismatched lengths, non-finite values, negative quantities, an unknown rule
            or ``k`` outside [0, 1].
    """
    bp, bq = _as_orders(bid_price, bid_qty, "bids")
    ap, aq = _as_orders(ask_price, ask_qty, "asks")
    if not 0.0 <= k <= 1.0:
        raise ValueError(f"k must lie in [0, 1], got {k}")
    # stable sorts: equal prices keep their index order, so ties go to earlier orders
    bid_order = np.argsort(-bp, kind="stable")
    ask_order = np.argsort(ap, kind="stable")
    demand = _curve(bp, bq, bid_order)
    supply = _curve(ap, aq, ask_order)
    match rule:
        case "uniform":
            return _clear_uniform(bp, bq, ap, aq, bid_order, ask_order, k, demand, supply)
        case "posted" | "posted_proportional":
            return _clear_posted(
                bp, bq, ap, aq, bid_order, ask_order, demand, supply, priority=rule == "posted"
            )
        case _:
            raise ValueError(f"unknown rule {rule!r}; allowed: {', '.join(RULES)}")


def _clear_uniform(bp, bq, ap, aq, bid_order, ask_order, k, demand, supply) -> Clearing:
    bid_fill = np.zeros_like(bq)
    ask_fill = np.zeros_like(aq)
    trades_b: list[int] = []
    trades_a: list[int] = []
    trades_q: list[float] = []
    bid_idx = [int(i) for i in bid_order if bq[i] > 0]
    ask_idx = [int(j) for j in ask_order if aq[j] > 0]
    ib = ia = 0
    rem_b = bq[bid_idx[0]] if bid_idx else 0.0
    rem_a = aq[ask_idx[0]] if ask_idx else 0.0
    last_bid = last_ask = np.nan
    while ib < len(bid_idx) and ia < len(ask_idx):
        i, j = bid_idx[ib], ask_idx[ia]
        if bp[i] < ap[j]:
            break
        q = min(rem_b, rem_a)
        bid_fill[i] += q
        ask_fill[j] += q
        trades_b.append(i)
        trades_a.append(j)
        trades_q.append(q)
        last_bid, last_ask = bp[i], ap[j]
        rem_b -= q
        rem_a -= q
        if rem_b <= _EPS * max(1.0, bq[i]):
            ib += 1
            rem_b = bq[bid_idx[ib]] if ib < len(bid_idx) else 0.0
        if rem_a <= _EPS * max(1.0, aq[j]):
            ia += 1
            rem_a = aq[ask_idx[ia]] if ia < len(ask_idx) else 0.0
    if not trades_q:
        return _result(np.nan, bid_fill, ask_fill, [], [], [], np.nan, demand, supply, "uniform")
    # the interval of prices consistent with every fill and every order left out
    lo, hi = last_ask, last_bid
    if ib < len(bid_idx):  # highest bid still wanting must not be priced above p
        lo = max(lo, bp[bid_idx[ib]])
    if ia < len(ask_idx):  # cheapest ask still unsold must not be priced below p
        hi = min(hi, ap[ask_idx[ia]])
    price = float(lo + k * (hi - lo))
    return _result(
        price, bid_fill, ask_fill, trades_b, trades_a, trades_q, price, demand, supply, "uniform"
    )


def _clear_posted(bp, bq, ap, aq, bid_order, ask_order, demand, supply, priority) -> Clearing:
    bid_fill = np.zeros_like(bq)
    ask_fill = np.zeros_like(aq)
    remaining = bq.copy()
    sorted_price = bp[bid_order]
    parts_b: list[NDArray] = []
    parts_a: list[NDArray] = []
    parts_q: list[NDArray] = []
    for j in ask_order.tolist():
        if aq[j] <= 0:
            continue
        eligible = bid_order[(sorted_price >= ap[j]) & (remaining[bid_order] > 0)]
        if eligible.size == 0:
            continue
        served, q = _serve_ask(eligible, bp, remaining, float(aq[j]), priority)
        if served.size == 0:
            continue
        # each bid is served once per ask, so these are the same single updates, bid by bid
        remaining[served] -= q
        bid_fill[served] += q
        ask_fill[j] = np.add.accumulate(q)[-1]  # the running sum, in matching order
        parts_b.append(served)
        parts_a.append(np.full(served.size, j, dtype=np.int64))
        parts_q.append(q)
    if parts_q:
        tb, ta, tq = np.concatenate(parts_b), np.concatenate(parts_a), np.concatenate(parts_q)
    else:
        tb, ta, tq = np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    tp = ap[ta]
    volume = math.fsum(tq.tolist())
    return Clearing(
        price=math.fsum((tq * tp).tolist()) / volume if volume > 0 else math.nan,
        volume=volume,
        bid_fill=bid_fill,
        ask_fill=ask_fill,
        trade_bid=tb,
        trade_ask=ta,
        trade_qty=tq,
        trade_price=tp,
        demand=demand,
        supply=supply,
        rule="posted" if priority else "posted_proportional",
    )


def _serve_ask(
    eligible: NDArray, bp: NDArray, remaining: NDArray, offered: float, priority: bool
) -> tuple[NDArray, NDArray]:
    """One ask of ``offered`` units served to the ``eligible`` bids (sorted, highest first):
    which bids get how much, in matching order.

    Groups of bids (runs of equal price under priority, all of them under proportional
    rationing) are served in turn, each bid of a group its share ``min(1, left / wanted)`` of
    what it still wants. While every share is 1 the quantities are what the bids want and the
    units left fall by them one by one, so that prefix is read off a running difference; from
    the first group rationed on, the groups are served one at a time.
    """
    want = remaining[eligible]
    if priority:
        prices = bp[eligible]
        starts = np.flatnonzero(np.concatenate(([True], prices[1:] != prices[:-1])))
    else:
        starts = np.zeros(1, dtype=np.int64)
    ends = np.concatenate((starts[1:], [eligible.size]))
    wanted = _group_sums(want, starts, ends)
    # units left before each bid, were every share 1: offered − want[0] − want[1] − … in order
    left = np.subtract.accumulate(np.concatenate(([offered], want)))
    before = left[starts]
    share = np.minimum(1.0, before / wanted)
    full = (before > 0) & (share >= 1.0)
    first = int(np.argmin(full)) if not full.all() else starts.size
    cut = int(starts[first]) if first < starts.size else eligible.size
    if first == starts.size:
        return eligible, want
    served, qty = [eligible[:cut]], [want[:cut]]
    units = float(left[cut])
    for g in range(first, starts.size):
        if units <= 0:
            break
        s, e = int(starts[g]), int(ends[g])
        group_share = min(1.0, units / float(wanted[g]))
        q = want[s:e] * group_share
        keep = q > 0
        served.append(eligible[s:e][keep])
        qty.append(q[keep])
        units = float(np.subtract.accumulate(np.concatenate(([units], q[keep])))[-1])
    return np.concatenate(served), np.concatenate(qty)


def _group_sums(values: NDArray, starts: NDArray, ends: NDArray) -> NDArray:
    """The exactly rounded sum of each group ``values[starts[g]:ends[g]]`` (``math.fsum``; a
    group of one or two is its own sum, rounded once)."""
    sums = np.add.reduceat(values, starts) if values.size else np.zeros(0)
    for g in np.flatnonzero(ends - starts > 2).tolist():
        sums[g] = math.fsum(values[starts[g] : ends[g]].tolist())
    return sums


def _result(price, bid_fill, ask_fill, tb, ta, tq, tp, demand, supply, rule) -> Clearing:
    tq_arr = np.asarray(tq, dtype=np.float64)
    tp_arr = (
        np.full(tq_arr.size, tp, dtype=np.float64)
        if np.isscalar(tp)
        else np.asarray(tp, dtype=np.float64)
    )
    return Clearing(
        price=float(price),
        volume=math.fsum(tq_arr.tolist()),
        bid_fill=bid_fill,
        ask_fill=ask_fill,
        trade_bid=np.asarray(tb, dtype=np.int64),
        trade_ask=np.asarray(ta, dtype=np.int64),
        trade_qty=tq_arr,
        trade_price=tp_arr,
        demand=demand,
        supply=supply,
        rule=rule,
    )


def clear_shared_bids(
    bid_price: ArrayLike,
    bid_qty: ArrayLike,
    ask_price: ArrayLike,
    ask_qty: ArrayLike,
    rule: Rule = "posted",
    k: float = 0.5,
) -> list[Clearing]:
    """Clear K books that share their bids' prices, each with its own row of bid quantities and
    one ask (the sub-books of a differentiated market), with the array work done once for all.

    The result is ``[clear(bid_price, bid_qty[k], [ask_price[k]], [ask_qty[k]], rule) for k in
    range(K)]``, float for float: the bids are sorted once, every book's demand curve and running
    differences are one accumulate along its row (the same additions in the same order as one
    book alone; a bid a book does not serve adds exactly 0), and a book whose ask runs out inside
    a group of bids is finished one group at a time, as :func:`clear` does.

    Args:
        bid_price: the n bids' prices, shared by every book.
        bid_qty: K rows of n quantities, one row a book.
        ask_price, ask_qty: each book's one ask.
        rule, k: as for :func:`clear`; only the posted rules are batched.
    """
    ap, aq = _as_orders(ask_price, ask_qty, "asks")
    bp = np.asarray(bid_price, dtype=np.float64).reshape(-1)
    q2 = np.asarray(bid_qty, dtype=np.float64)
    if q2.shape != (ap.size, bp.size):
        raise ValueError(
            f"bids: quantities of shape {q2.shape} for {ap.size} books of {bp.size} bids"
        )
    _check(bp, q2, "bids")
    if rule not in ("posted", "posted_proportional"):
        return [clear(bp, q2[i], ap[i : i + 1], aq[i : i + 1], rule, k) for i in range(ap.size)]
    books, n = ap.size, bp.size
    order = np.argsort(-bp, kind="stable")
    sp = bp[order]
    w = q2[:, order]
    if n:
        new_price = np.concatenate(([True], sp[1:] != sp[:-1]))
        last = np.concatenate((new_price[1:], [True]))
        steps, cum = sp[last], np.cumsum(w, axis=1)[:, last]
        starts = np.flatnonzero(new_price) if rule == "posted" else np.zeros(1, dtype=np.int64)
    else:
        steps, cum = np.empty(0), np.empty((books, 0))
        starts = np.empty(0, dtype=np.int64)
    ends = np.concatenate((starts[1:], [n]))
    eligible = (sp >= ap[:, None]) & (w > 0) & (aq > 0)[:, None]
    want = np.where(eligible, w, 0.0)
    wanted = np.add.reduceat(want, starts, axis=1) if n else np.zeros((books, 0))
    for g in np.flatnonzero(ends - starts > 2).tolist():
        for k in range(books):
            wanted[k, g] = math.fsum(want[k, starts[g] : ends[g]].tolist())
    # units left before each bid were every share 1, and the shares that would give
    left = np.subtract.accumulate(np.concatenate([aq[:, None], want], axis=1), axis=1)
    before = left[:, starts]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.minimum(1.0, before / wanted)
    # a group with no eligible bid is no group at all; the others are served in full while
    # units are left and their share is 1
    full = (wanted <= 0) | ((before > 0) & (share >= 1.0))
    first_short = np.argmin(full, axis=1) if starts.size else np.zeros(books, dtype=np.int64)
    first = np.where(full.all(axis=1), starts.size, first_short)
    cut = np.concatenate((starts, [n]))[first]
    served = eligible & (np.arange(n) < cut[:, None])
    served_qty = np.where(served, w, 0.0)
    ask_run = np.add.accumulate(served_qty, axis=1)[:, -1] if n else np.zeros(books)
    # the books' trades in one pass, row by row: positions, quantities, and their values
    counts = served.sum(axis=1).tolist()
    flat_pos = np.nonzero(served)[1]
    flat_qty = w[served]
    flat_qty_list = flat_qty.tolist()
    flat_value = (flat_qty * np.repeat(ap, counts)).tolist()
    fills = np.zeros((books, n))
    fills[:, order] = served_qty
    out = []
    start = 0
    for k in range(books):
        end = start + counts[k]
        pos, qty = flat_pos[start:end], flat_qty[start:end]
        qty_list, value = flat_qty_list[start:end], flat_value[start:end]
        sold = float(ask_run[k])
        if first[k] < starts.size:
            pos, qty, sold = _finish_book(
                k,
                int(first[k]),
                pos,
                qty,
                sold,
                float(left[k, cut[k]]),
                w,
                eligible,
                wanted,
                starts,
                ends,
            )
            fills[k, order[pos]] = qty
            qty_list = qty.tolist()
            value = (qty * ap[k]).tolist()
        start = end
        volume = math.fsum(qty_list)
        out.append(
            Clearing(
                price=math.fsum(value) / volume if volume > 0 else math.nan,
                volume=volume,
                bid_fill=fills[k],
                ask_fill=np.array([sold if qty_list else 0.0]),
                trade_bid=order[pos],
                trade_ask=np.zeros(len(qty_list), dtype=np.int64),
                trade_qty=qty,
                trade_price=np.full(len(qty_list), ap[k]),
                demand=Curve(steps.copy(), cum[k]),
                supply=Curve(ap[k : k + 1].copy(), aq[k : k + 1].copy()),
                rule=rule,
            )
        )
    return out


def _finish_book(k, first, pos, qty, sold, units, w, eligible, wanted, starts, ends):
    """Book ``k`` of :func:`clear_shared_bids` from its first rationed group on, one group at a
    time, bid by bid in Python floats (the same IEEE operations as numpy's, on a few bids):
    positions served, their quantities and the ask's running total."""
    extra_pos: list[int] = []
    extra_qty: list[float] = []
    row = w[k]
    for g in range(first, starts.size):
        if units <= 0:
            break
        s, e = int(starts[g]), int(ends[g])
        members = [s + i for i, ok in enumerate(eligible[k, s:e].tolist()) if ok]
        if not members:
            continue
        share = min(1.0, units / float(wanted[k, g]))
        for i, want in zip(members, row[members].tolist(), strict=True):
            q = want * share
            if q > 0:
                extra_pos.append(i)
                extra_qty.append(q)
                units -= q
                sold += q
    if not extra_pos:
        return pos, qty, sold
    return (
        np.concatenate([pos, np.array(extra_pos, dtype=np.int64)]),
        np.concatenate([qty, np.array(extra_qty)]),
        sold,
    )
