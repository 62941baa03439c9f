"""Caixa Econômica Federal (104), SIGCB: CNAB 400 and CNAB 240.

Caixa's CNAB 400 codes are its own: 01 is the entrada confirmada, 02 a baixa, 21 and 22 the
liquidações; its nosso número is 17 digits at 57-73 (modalidade "14" + 15 digits). In CNAB 240
the FEBRABAN table applies; segment T has the modalidade at 40-41 and 15 digits at 42-56.
"""

from regua.payments.cnab.layouts import DateField, Layout240, Layout400, SegmentT
from regua.payments.cnab.records import Occurrences

OCCURRENCES_400: Occurrences = {
    "01": ("entrada confirmada", "entry_confirmed"),
    "02": ("baixa confirmada", "written_off"),
    "03": ("abatimento concedido", "other"),
    "04": ("abatimento cancelado", "other"),
    "05": ("vencimento alterado", "other"),
    "06": ("uso da empresa alterado", "other"),
    "07": ("prazo de protesto alterado", "other"),
    "08": ("prazo de devolução alterado", "other"),
    "09": ("alteração confirmada", "other"),
    "10": ("alteração com reemissão de boleto confirmada", "other"),
    "11": ("alteração da opção de protesto para devolução", "other"),
    "12": ("alteração da opção de devolução para protesto", "other"),
    "20": ("em ser", "other"),
    "21": ("liquidação", "settlement"),
    "22": ("liquidação em cartório", "settlement"),
    "23": ("baixa por devolução", "written_off"),
    "24": ("baixa por franco pagamento", "written_off"),
    "25": ("baixa por protesto", "written_off"),
    "26": ("título enviado para cartório", "protest"),
    "27": ("sustação de protesto", "protest"),
    "28": ("estorno de protesto", "protest"),
    "29": ("estorno de sustação de protesto", "protest"),
    "30": ("alteração de título", "other"),
    "31": ("tarifa sobre título vencido", "other"),
    "32": ("outras tarifas de alteração", "other"),
    "33": ("estorno de baixa/liquidação", "reversal"),
    "34": ("transferência de carteira/entrada", "other"),
    "35": ("transferência de carteira/baixa", "other"),
    "99": ("rejeição do título", "entry_rejected"),
}

REASONS_400 = {
    "001": "movimento sem beneficiário correspondente",
    "002": "movimento sem título correspondente",
    "008": "movimento para título já com movimentação no dia",
    "009": "nosso número não pertence ao beneficiário",
    "010": "inclusão de título já existente",
    "012": "movimento duplicado",
    "045": "data de vencimento com prazo de mais de 1 ano",
    "049": "movimento inválido para título baixado/liquidado",
    "081": "CEP do pagador inválido",
    "082": "CPF/CNPJ do pagador inválido",
}

CNAB400 = Layout400(
    bank_code="104",
    bank_name="Caixa Econômica Federal",
    nosso_numero=(57, 73),
    company_ref=(32, 56),
    interest=((267, 279), (280, 292)),  # juros; multa
    credited_on=DateField(294),
    reasons=(80, 82),
    reason_width=3,
    occurrences=OCCURRENCES_400,
    reason_texts=REASONS_400,
)

CNAB240 = Layout240(
    bank_code="104",
    bank_name="Caixa Econômica Federal",
    segment_t=SegmentT(nosso_numero=(42, 56), seu_numero=(59, 69), nosso_numero_zero_filled=True),
)
