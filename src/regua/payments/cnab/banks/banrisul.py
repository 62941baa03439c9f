"""Banrisul (041), CNAB 400: nosso número 63-70 and its two check digits at 71-72."""

from regua.payments.cnab.layouts import Layout240, Layout400
from regua.payments.cnab.records import Occurrences

OCCURRENCES_400: Occurrences = {
    "02": ("confirmação de entrada", "entry_confirmed"),
    "03": ("entrada rejeitada", "entry_rejected"),
    "04": ("baixa de título liquidado por edital", "settled_written_off"),
    "06": ("liquidação normal", "settlement"),
    "07": ("liquidação parcial", "settlement"),
    "08": ("baixa por pagamento, liquidação pelo saldo", "settled_written_off"),
    "09": ("devolução automática", "written_off"),
    "10": ("baixado conforme instruções", "written_off"),
    "11": ("arquivo levantamento", "other"),
    "12": ("concessão de abatimento", "other"),
    "13": ("cancelamento de abatimento", "other"),
    "14": ("vencimento alterado", "other"),
    "15": ("pagamento em cartório", "settlement"),
    "16": ("alteração de dados", "other"),
    "18": ("alteração de instruções", "other"),
    "19": ("confirmação de instrução de protesto", "protest"),
    "20": ("confirmação de instrução para sustar protesto", "protest"),
    "21": ("aguardando autorização para protesto por edital", "protest"),
    "22": ("protesto sustado por alteração de vencimento e prazo de cartório", "protest"),
    "23": ("confirmação da entrada em cartório", "protest"),
    "25": ("devolução, liquidado anteriormente", "settled_written_off"),
    "26": ("devolvido pelo cartório — erro de informação", "protest"),
    "30": ("cobrança a creditar (liquidação em trânsito)", "other"),
    "31": ("título em trânsito pago em cartório", "other"),
    "40": ("baixa de títulos protestados", "written_off"),
    "41": ("despesa de aponte", "other"),
    "42": ("alteração de título", "other"),
    "43": ("relação de títulos", "other"),
    "44": ("manutenção mensal", "other"),
    "47": ("confirmação de entrada — pagador DDA", "entry_confirmed"),
}

CNAB400 = Layout400(
    bank_code="041",
    bank_name="Banrisul",
    nosso_numero=(63, 70),
    check_digit=(71, 72),
    iof=(189, 201),
    interest=((267, 279), (280, 292)),  # juros; outros recebimentos
    reasons=(383, 392),
    occurrences=OCCURRENCES_400,
)

CNAB240 = Layout240(bank_code="041", bank_name="Banrisul")
