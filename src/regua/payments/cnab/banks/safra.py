"""Banco Safra (422), CNAB 400: the common positions, nosso número 63-71 (8 digits and DV).

No published Safra return file was at hand to check against: only the codes whose meaning the
manual gives plainly are catalogued; any other is listed in the import report, never settles.
"""

from regua.payments.cnab.layouts import Layout400
from regua.payments.cnab.records import Occurrences

OCCURRENCES_400: Occurrences = {
    "02": ("entrada confirmada", "entry_confirmed"),
    "03": ("entrada rejeitada", "entry_rejected"),
    "06": ("liquidação normal", "settlement"),
    "09": ("baixado automaticamente", "written_off"),
    "10": ("baixado conforme instruções", "written_off"),
    "12": ("abatimento concedido", "other"),
    "13": ("abatimento cancelado", "other"),
    "14": ("vencimento alterado", "other"),
    "15": ("liquidação em cartório", "settlement"),
    "19": ("confirmação de instrução de protesto", "protest"),
    "23": ("título enviado a cartório", "protest"),
}

CNAB400 = Layout400(
    bank_code="422",
    bank_name="Banco Safra",
    nosso_numero=(63, 71),
    check_digit_included=True,
    occurrences=OCCURRENCES_400,
)
