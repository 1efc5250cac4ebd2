"""Recording (step 10): the per-quarter panels a run returns, with their schemas declared once."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import polars as pl

from agents.apps import App
from agents.base import Books, Order
from agents.compute import Cloud
from agents.labs import Lab
from agents.supply import ChipDesigner, Foundry
from market.calendar import period_of
from market.catalogue import PRODUCING_LAYERS, RULE, UNIT, Market

if TYPE_CHECKING:
    import mesa

    from agents.protocol import Observation
    from market.auction import Clearing

FIRM_SCHEMA: dict[str, pl.DataType] = {
    "quarter": pl.Int32,
    "period": pl.String,
    "firm": pl.String,
    "name": pl.String,
    "layer": pl.String,
    "role": pl.String,
    "parent": pl.String,
    "revenue_usd": pl.Float64,
    "cost_of_revenue_usd": pl.Float64,
    "gross_profit_usd": pl.Float64,
    "gross_margin": pl.Float64,
    "rnd_usd": pl.Float64,
    "sga_usd": pl.Float64,
    "other_opex_usd": pl.Float64,
    "operating_income_usd": pl.Float64,
    "operating_margin": pl.Float64,
    "interest_usd": pl.Float64,
    "depreciation_usd": pl.Float64,
    "capex_usd": pl.Float64,
    "funding_usd": pl.Float64,
    "borrowing_usd": pl.Float64,
    "debt_usd": pl.Float64,
    "cash_cents": pl.Int64,
    "capacity_h100e": pl.Float64,
    "price_usd": pl.Float64,
    "quality": pl.Float64,
    "defaulted": pl.Boolean,
}
MARKET_SCHEMA: dict[str, pl.DataType] = {
    "quarter": pl.Int32,
    "period": pl.String,
    "market": pl.String,
    "book": pl.String,
    "rule": pl.String,
    "price_usd": pl.Float64,
    "volume": pl.Float64,
    "demand": pl.Float64,
    "supply": pl.Float64,
    "unmet": pl.Float64,
    "unit": pl.String,
    "buyers": pl.Int32,
    "sellers": pl.Int32,
}
MODEL_SCHEMA: dict[str, pl.DataType] = {
    "quarter": pl.Int32,
    "period": pl.String,
    "model": pl.String,
    "owner": pl.String,
    "quality": pl.Float64,
    "token_value": pl.Float64,
    "price_usd_per_mtok": pl.Float64,
    "tokens_m": pl.Float64,
    "open_weights": pl.Boolean,
}
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "quarter": pl.Int32,
    "period": pl.String,
    "firm": pl.String,
    "kind": pl.String,
    "text": pl.String,
}
ORDER_SCHEMA: dict[str, pl.DataType] = {
    "quarter": pl.Int32,
    "market": pl.String,
    "book": pl.String,
    "side": pl.String,
    "firm": pl.String,
    "price": pl.Float64,
    "qty": pl.Float64,
    "fill": pl.Float64,
    "tag": pl.String,
}


def _ratio(num: float, den: float) -> float | None:
    """A margin: ``num / den``, or None (a null in the frame) without revenue to divide by."""
    return num / den if den > 0 else None


class Recorder:
    """Collects rows as the economy runs; turns them into polars frames on request."""

    def __init__(self, economy: mesa.Model, keep_orders: bool = False) -> None:
        self.economy = economy
        self.firm_rows: list[tuple] = []
        self.market_rows: list[tuple] = []
        self.model_rows: list[tuple] = []
        self.event_rows: list[tuple] = []
        self.order_rows: list[tuple] = []
        self.keep_orders = keep_orders

    def period(self, quarter: int) -> str:
        return period_of(self.economy.config.start, quarter)

    def event(self, quarter: int, firm: str, kind: str, text: str) -> None:
        self.event_rows.append((quarter, self.period(quarter), firm, kind, text))

    def market(
        self,
        market: Market,
        book: str,
        res: Clearing,
        bids: list[Order],
        asks: list[Order],
        bid_qty: list[float],
        ask_qty: list[float],
    ) -> None:
        """One book's row (and its orders with ``keep_orders``); ``bid_qty``/``ask_qty`` are
        the quantities the book cleared (they differ from the orders' in sub-books)."""
        quarter = self.economy.quarter
        demand = res.demand_at_price if not math.isnan(res.price) else math.fsum(bid_qty)
        supply = res.supply_at_price if not math.isnan(res.price) else math.fsum(ask_qty)
        self.market_rows.append(
            (
                quarter,
                self.period(quarter),
                market.value,
                book,
                RULE[market],
                res.price,
                res.volume,
                demand,
                supply,
                max(0.0, demand - res.volume),
                UNIT[market],
                len(bids),
                len(asks),
            )
        )
        if self.keep_orders:
            for side, orders, qty, fills in (
                ("bid", bids, bid_qty, res.bid_fill),
                ("ask", asks, ask_qty, res.ask_fill),
            ):
                for order, q, fill in zip(orders, qty, fills, strict=True):
                    self.order_rows.append(
                        (
                            quarter,
                            market.value,
                            book,
                            side,
                            order.firm,
                            order.price,
                            float(q),
                            float(fill),
                            order.tag,
                        )
                    )

    def market_total(
        self,
        quarter: int,
        market: Market,
        book: str,
        price: float,
        volume: float,
        bids: list[Order],
        asks: list[Order],
    ) -> None:
        """A row summing the sub-books of one market: the volume-weighted price, the volume,
        what was bid at or above that price and offered at or below it."""
        traded = not math.isnan(price)
        demand = math.fsum(b.qty for b in bids if not traded or b.price >= price)
        supply = math.fsum(a.qty for a in asks if not traded or a.price <= price)
        self.market_rows.append(
            (
                quarter,
                self.period(quarter),
                market.value,
                book,
                "total",
                price,
                volume,
                demand,
                supply,
                max(0.0, demand - volume),
                UNIT[market],
                len(bids),
                len(asks),
            )
        )

    def record(self, obs: Observation, books: dict[str, Books]) -> None:
        econ = self.economy
        tech = econ.tech
        for firm in econ.firms.values():
            gone = firm.gone and obs.quarter not in (firm.default_quarter, firm.exit_quarter)
            if gone or firm.layer not in PRODUCING_LAYERS:
                continue
            b = books[firm.firm_id]
            capacity = math.nan
            price = math.nan
            quality = math.nan
            match firm:
                case Cloud():
                    capacity = firm.capacity.installed(obs.quarter)
                    price = firm.ask
                case Foundry():
                    capacity = firm.capacity
                    price = firm.price
                case ChipDesigner():
                    price = firm.price
                case Lab():
                    quality = firm.serving_quality(obs)
                    price = (firm.token_ask or math.nan) * tech.token_value(quality)
                    if firm.own is not None:
                        capacity = firm.own.installed(obs.quarter)
                case App():
                    quality = firm.quality
                    plans = list(firm.desk.plans.values())
                    price = plans[0].price if plans else math.nan
            self.firm_rows.append(
                (
                    obs.quarter,
                    obs.period,
                    firm.firm_id,
                    firm.name,
                    firm.layer.value,
                    firm.role,
                    firm.parent,
                    b.revenue,
                    b.cost_of_revenue,
                    b.gross_profit,
                    _ratio(b.gross_profit, b.revenue),
                    b.rnd,
                    b.sga,
                    b.other_opex,
                    b.operating_income,
                    _ratio(b.operating_income, b.revenue),
                    b.interest,
                    b.depreciation,
                    b.capex,
                    b.funding,
                    b.borrowing,
                    firm.debt,
                    econ.ledger.balance_cents(firm.firm_id),
                    capacity,
                    price,
                    quality,
                    firm.defaulted,
                )
            )
            if isinstance(firm, Lab):
                self._model_row(firm, obs)

    def _model_row(self, lab, obs: Observation) -> None:
        tech = self.economy.tech
        quality = lab.serving_quality(obs)
        value = tech.token_value(quality)
        sold_q = lab.api_sold_q
        tokens_m = sold_q / value + lab.reserved_app_tokens_m
        price = self.economy.prices[Market.TOKENS] * value
        name = f"{lab.name} {'open model' if lab.params.serves_open_model else 'frontier'}"
        self.model_rows.append(
            (
                obs.quarter,
                obs.period,
                name,
                lab.firm_id,
                quality,
                value,
                price,
                tokens_m,
                bool(lab.params.serves_open_model),
            )
        )

    def frames(self) -> dict[str, pl.DataFrame]:
        econ = self.economy
        flows = econ.ledger.flows()
        # one period label per distinct quarter, joined on: no per-row Python
        periods = pl.DataFrame(
            {
                "quarter": (qs := flows["quarter"].unique().sort()),
                "period": [self.period(q) for q in qs],
            },
            schema={"quarter": pl.Int32, "period": pl.String},
        )
        return {
            "firms": pl.DataFrame(self.firm_rows, schema=FIRM_SCHEMA, orient="row"),
            "markets": pl.DataFrame(self.market_rows, schema=MARKET_SCHEMA, orient="row"),
            "flows": flows.join(periods, on="quarter", how="left", maintain_order="left").select(
                "quarter", "period", "payer", "payee", "kind", "amount_cents"
            ),
            "models": pl.DataFrame(self.model_rows, schema=MODEL_SCHEMA, orient="row"),
            "events": pl.DataFrame(self.event_rows, schema=EVENT_SCHEMA, orient="row"),
        }
