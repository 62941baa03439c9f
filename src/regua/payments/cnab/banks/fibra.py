"""Banco Fibra (224), CNAB 400: nosso número 63-73, reasons at 378-385."""

from regua.payments.cnab.layouts import Layout400
from regua.payments.cnab.records import Occurrences

# Fibra and Pine share one correspondent-banking layout and table.
CORRESPONDENT_OCCURRENCES: Occurrences = {
    "01": ("entrada do título confirmada na CIP", "entry_confirmed"),
    "02": ("entrada confirmada", "entry_confirmed"),
    "03": ("entrada rejeitada", "entry_rejected"),
    "05": ("campo livre alterado", "other"),
    "06": ("liquidação normal", "settlement"),
    "08": ("liquidação em cartório", "settlement"),
    "09": ("baixa automática", "written_off"),
    "10": ("baixa por ter sido liquidado", "settled_written_off"),
    "12": ("abatimento confirmado", "other"),
    "13": ("abatimento cancelado", "other"),
    "14": ("vencimento alterado", "other"),
    "15": ("baixa rejeitada", "other"),
    "16": ("instrução rejeitada", "other"),
    "19": ("confirmação de recebimento de ordem de protesto", "protest"),
    "20": ("confirmação de recebimento de ordem de sustação", "protest"),
    "22": ("seu número alterado", "other"),
    "23": ("título enviado para cartório", "protest"),
    "24": ("confirmação de ordem de não protestar", "other"),
    "28": ("débito de tarifas/custas", "other"),
    "40": ("tarifa de entrada (debitada na liquidação)", "other"),
    "43": ("baixado por ter sido protestado", "written_off"),
    "96": ("tarifa sobre instruções — mês anterior", "other"),
    "97": ("tarifa sobre baixas — mês anterior", "other"),
    "98": ("tarifa sobre entradas — mês anterior", "other"),
}

CNAB400 = Layout400(
    bank_code="224",
    bank_name="Banco Fibra",
    nosso_numero=(63, 73),
    credited_on=None,
    reasons=(378, 385),
    occurrences=CORRESPONDENT_OCCURRENCES,
)
