"""Ailos (085), CNAB 240 with the FEBRABAN table; its header leaves the bank name blank."""

from regua.payments.cnab.layouts import Layout240

CNAB240 = Layout240(bank_code="085", bank_name="Ailos")
