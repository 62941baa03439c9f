"""Banco Pine (643), CNAB 400: Fibra's correspondent layout and table."""

from dataclasses import replace

from regua.payments.cnab.banks.fibra import CNAB400 as FIBRA

CNAB400 = replace(FIBRA, bank_code="643", bank_name="Banco Pine")
