"""Money: total cost of ownership of a fleet, and what a steady stream of egress costs a month.

SI cores (``*_si``: USD, W, s, B/s, USD/J, USD/B) and unit-checked public formulas around them.
"""
from __future__ import annotations

from ._check import link, number, result, si

#: a billing month, as cloud price lists reckon it (s)
MONTH_S = 30 * 86400.0


# --- SI cores ----------------------------------------------------------------------------------------
def fleet_tco_si(unit_cost, power_w, quantity, duration_s, energy_price_per_j):
    """TCO = n · capex + n · P · t · price (Barroso, Hölzle & Ranganathan 2018, ch. 6, capex + power opex)."""
    return quantity * unit_cost + quantity * power_w * duration_s * energy_price_per_j


def egress_cost_si(bytes_per_s, price_per_byte, duration_s=MONTH_S):
    """Cost = rate · t · price per byte (t a 30-day month by default)."""
    return bytes_per_s * duration_s * price_per_byte


# --- unit-checked public formulas ------------------------------------------------------------------
@link(fleet_tco_si)
def fleet_tco(unit_cost, power, quantity, duration, energy_price):
    """Total cost of ownership: n·capex + n·P·t·(price of energy) (Barroso et al. 2018, "The Datacenter as a
    Computer", ch. 6). Returns USD."""
    return result(fleet_tco_si(si(unit_cost, "price", "unit_cost"), si(power, "power", "power"),
                               number(quantity, "quantity", minimum=0), si(duration, "time", "duration"),
                               si(energy_price, "energy price", "energy_price")), "price")


@link(egress_cost_si)
def monthly_egress_cost(data_rate, price_per_gb):
    """Egress bill of a steady stream for a 30-day month: rate · 30 d · price per byte. Returns USD."""
    return result(egress_cost_si(si(data_rate, "data rate", "data_rate"),
                                 si(price_per_gb, "data price", "price_per_gb")), "price")


__all__ = ["MONTH_S", "egress_cost_si", "fleet_tco", "fleet_tco_si", "monthly_egress_cost"]
