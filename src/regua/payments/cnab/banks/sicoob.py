"""Sicoob / Bancoob (756): CNAB 400 (on Banco do Brasil's model) and CNAB 240.

CNAB 400: nosso número 63-73 with its DV; the credit date at 176-181 and a 7-digit tarifa at
182-188, as at Banco do Brasil. CNAB 240: the nosso número is 10 digits (with DV) at 38-47,
followed by parcela, modalidade and formulário.
"""

from regua.payments.cnab.layouts import DateField, Layout240, Layout400, SegmentT
from regua.payments.cnab.records import Occurrences

OCCURRENCES_400: Occurrences = {
    "02": ("confirmação de entrada de título", "entry_confirmed"),
    "05": ("liquidação sem registro", "settlement"),
    "06": ("liquidação normal", "settlement"),
    "09": ("baixa de título", "written_off"),
    "10": ("baixa solicitada pelo beneficiário", "written_off"),
    "11": ("títulos em ser", "other"),
    "14": ("alteração de vencimento", "other"),
    "15": ("liquidação em cartório", "settlement"),
    "23": ("encaminhado a protesto", "protest"),
    "27": ("confirmação de alteração de dados", "other"),
    "48": ("confirmação de transferência de carteira/modalidade", "other"),
}

CNAB400 = Layout400(
    bank_code="756",
    bank_name="Sicoob",
    nosso_numero=(63, 73),
    check_digit_included=True,
    fee=(182, 188),
    interest=((267, 279), (280, 292)),
    credited_on=DateField(176),
    reasons=(319, 328),
    occurrences=OCCURRENCES_400,
)

CNAB240 = Layout240(
    bank_code="756",
    bank_name="Sicoob",
    segment_t=SegmentT(nosso_numero=(38, 47)),
    check_digit_included=True,
)
