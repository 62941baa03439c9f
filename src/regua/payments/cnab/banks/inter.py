"""Banco Inter (077), CNAB 400: a compact detail of its own (occurrence at 90-91, face value at
125-137, amount paid at 160-172, credit date at 173-178); no tarifa is reported."""

from regua.payments.cnab.layouts import DateField, Layout400
from regua.payments.cnab.records import Occurrences

OCCURRENCES_400: Occurrences = {
    "02": ("em aberto (entrada confirmada)", "entry_confirmed"),
    "03": ("erro (entrada rejeitada)", "entry_rejected"),
    "06": ("pago", "settlement"),
    "07": ("baixado", "written_off"),
}

CNAB400 = Layout400(
    bank_code="077",
    bank_name="Banco Inter",
    nosso_numero=(71, 81),
    seu_numero=(98, 107),
    occurrence=(90, 91),
    occurred_on=DateField(92),
    due_date=DateField(119),
    face=(125, 137),
    fee=None,
    iof=None,
    rebate=None,
    discount=None,
    amount=(160, 172),
    interest=(),
    credited_on=DateField(173),
    occurrences=OCCURRENCES_400,
)
