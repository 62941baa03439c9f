"""Sicredi (748): CNAB 400 and CNAB 240.

CNAB 400: nosso número 48-62 (year, byte, sequence and DV); the número do documento 117-126;
the credit date 329-336 is AAAAMMDD.
"""

from regua.payments.cnab.layouts import DateField, Layout240, Layout400
from regua.payments.cnab.records import Occurrences

OCCURRENCES_400: Occurrences = {
    "02": ("entrada confirmada", "entry_confirmed"),
    "03": ("entrada rejeitada", "entry_rejected"),
    "06": ("liquidação normal", "settlement"),
    "09": ("baixado automaticamente via arquivo", "written_off"),
    "10": ("baixado conforme instruções da cooperativa", "written_off"),
    "12": ("abatimento concedido", "other"),
    "13": ("abatimento cancelado", "other"),
    "14": ("vencimento alterado", "other"),
    "15": ("liquidação em cartório", "settlement"),
    "17": ("liquidação após baixa", "settlement"),
    "19": ("confirmação de recebimento de instrução de protesto", "protest"),
    "20": ("confirmação de recebimento de instrução de sustação de protesto", "protest"),
    "23": ("entrada de título em cartório", "protest"),
    "24": ("entrada rejeitada por CEP irregular", "entry_rejected"),
    "27": ("baixa rejeitada", "other"),
    "28": ("tarifa", "other"),
    "29": ("rejeição do pagador", "other"),
    "30": ("alteração rejeitada", "other"),
    "32": ("instrução rejeitada", "other"),
    "33": ("confirmação de pedido de alteração de outros dados", "other"),
    "34": ("retirado de cartório e manutenção em carteira", "protest"),
    "35": ("aceite do pagador", "other"),
}

CNAB400 = Layout400(
    bank_code="748",
    bank_name="Sicredi",
    nosso_numero=(48, 62),
    check_digit_included=True,
    company_ref=None,
    interest=((267, 279), (280, 292)),  # juros; multa
    credited_on=DateField(329, "yyyymmdd"),
    reasons=(319, 328),
    occurrences=OCCURRENCES_400,
)

CNAB240 = Layout240(bank_code="748", bank_name="Sicredi")
