"""BRB — Banco de Brasília (070), CNAB 400: every date with 8 digits (DDMMAAAA), so the fields
after the first date sit 2 to 4 positions to the right of the common layout.

Its table of occurrence codes was not at hand: only 05 is catalogued, as the liquidação the
published return file shows (valor recebido equal to the título's, with a credit date). Any
other code is listed in the import report and never settles.
"""

from regua.payments.cnab.layouts import DateField, Layout400
from regua.payments.cnab.records import Occurrences

OCCURRENCES_400: Occurrences = {
    "05": ("liquidação", "settlement"),
}

CNAB400 = Layout400(
    bank_code="070",
    bank_name="BRB — Banco de Brasília",
    nosso_numero=(71, 82),
    seu_numero=None,
    company_ref=None,
    occurred_on=DateField(111, "ddmmyyyy"),
    due_date=DateField(149, "ddmmyyyy"),
    face=(157, 169),
    fee=(180, 192),
    iof=(219, 231),
    rebate=(232, 244),
    discount=(245, 257),
    amount=(258, 270),
    interest=((284, 296),),  # outros recebimentos (juros e multa)
    credited_on=DateField(300, "ddmmyyyy"),
    reasons=(365, 394),
    occurrences=OCCURRENCES_400,
    file_date=DateField(95, "ddmmyyyy"),
)
