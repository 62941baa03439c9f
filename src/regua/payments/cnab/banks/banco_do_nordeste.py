"""Banco do Nordeste (004), CNAB 400: nosso número 63-69 with its DV apart at 70."""

from regua.payments.cnab.layouts import Layout400
from regua.payments.cnab.records import Occurrences

OCCURRENCES_400: Occurrences = {
    "02": ("entrada confirmada", "entry_confirmed"),
    "04": ("alteração", "other"),
    "06": ("liquidação normal", "settlement"),
    "07": ("pagamento por conta", "settlement"),
    "08": ("pagamento em cartório", "settlement"),
    "09": ("baixa simples", "written_off"),
    "10": ("devolvido — protestado", "protest"),
    "11": ("em ser", "other"),
    "12": ("abatimento concedido", "other"),
    "13": ("abatimento cancelado", "other"),
    "14": ("vencimento alterado", "other"),
    "15": ("baixa automática", "written_off"),
    "18": ("alteração de depositária", "other"),
    "19": ("confirmação de recebimento de instrução de protesto", "protest"),
    "20": ("confirmação de recebimento de instrução de sustação de protesto", "protest"),
    "21": ("alteração de informações de controle da empresa", "other"),
    "22": ("alteração do seu número", "other"),
    "51": ("entrada rejeitada", "entry_rejected"),
}

CNAB400 = Layout400(
    bank_code="004",
    bank_name="Banco do Nordeste",
    nosso_numero=(63, 69),
    check_digit=(70, 70),
    iof=None,
    credited_on=None,
    occurrences=OCCURRENCES_400,
)
