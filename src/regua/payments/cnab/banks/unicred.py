"""Unicred (136), CNAB 400: nosso número 52-62; the credit date at 176-181 and a 7-digit tarifa
at 182-188; the seu número at 280-305."""

from regua.payments.cnab.layouts import DateField, Layout400
from regua.payments.cnab.records import Occurrences

OCCURRENCES_400: Occurrences = {
    "01": ("pago (título protestado pago em cartório)", "settlement"),
    "02": ("instrução confirmada", "entry_confirmed"),
    "03": ("instrução rejeitada", "entry_rejected"),
    "04": ("sustado judicial", "protest"),
    "06": ("liquidação normal", "settlement"),
    "07": ("liquidação em condicional (cartório, cheque do devedor)", "settlement"),
    "08": ("sustado definitivo", "protest"),
    "09": ("liquidação de título descontado", "settlement"),
    "10": ("protesto solicitado", "protest"),
    "11": ("protesto em cartório", "protest"),
    "12": ("sustação solicitada", "protest"),
    "13": ("título descontado", "other"),
    "14": ("título descontável", "other"),
}

CNAB400 = Layout400(
    bank_code="136",
    bank_name="Unicred",
    nosso_numero=(52, 62),
    check_digit_included=True,
    seu_numero=(280, 305),
    company_ref=None,
    fee=(182, 188),
    iof=None,
    interest=((267, 279),),
    credited_on=DateField(176),
    reasons=(319, 326),
    occurrences=OCCURRENCES_400,
)
