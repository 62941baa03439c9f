"""Opting a customer's contacts out (SAIR, PARE, a person's request), and finding customers by
the ERP's id. Both are single statements of the store (`store.contacts`, `store.customers`);
the contact points the planner reads are `store.contacts.contact_points`."""

from __future__ import annotations

from regua.store.contacts import opt_out
from regua.store.customers import id_by_external as customer_id_by_external

__all__ = ["customer_id_by_external", "opt_out"]
