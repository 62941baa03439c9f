"""Bradesco (237), "Cobrança Bradesco — Layout de Arquivo Retorno CNAB 400".

254-266 is the amount the payer paid; the tarifa (176-188) is debited from it. The nosso
número (71-82) is 11 digits and its DV (which may be 'P'). Record 3 (rateio de crédito) is an
optional split of the credit among accounts.
"""

from regua.payments.cnab.layouts import Layout240, Layout400
from regua.payments.cnab.records import Occurrences

OCCURRENCES: Occurrences = {
    "02": ("entrada confirmada", "entry_confirmed"),
    "03": ("entrada rejeitada", "entry_rejected"),
    "06": ("liquidação normal", "settlement"),
    "09": ("baixado automaticamente via arquivo", "written_off"),
    "10": ("baixado conforme instruções da agência", "written_off"),
    "11": ("em ser (títulos pendentes)", "other"),
    "12": ("abatimento concedido", "other"),
    "13": ("abatimento cancelado", "other"),
    "14": ("vencimento alterado", "other"),
    "15": ("liquidação em cartório", "settlement"),
    "16": ("título pago em cheque vinculado", "settlement"),
    "17": ("liquidação após baixa ou título não registrado", "settlement"),
    "18": ("acerto de depositária", "other"),
    "19": ("confirmação de recebimento de instrução de protesto", "protest"),
    "20": ("confirmação de recebimento de instrução de sustação de protesto", "protest"),
    "21": ("acerto do controle do participante", "other"),
    "22": ("título com pagamento cancelado", "reversal"),
    "23": ("entrada do título em cartório", "protest"),
    "24": ("entrada rejeitada por CEP irregular", "entry_rejected"),
    "27": ("baixa rejeitada", "other"),
    "28": ("débito de tarifas/custas", "other"),
    "30": ("alteração de outros dados rejeitados", "other"),
    "32": ("instrução rejeitada", "other"),
    "33": ("confirmação pedido alteração outros dados", "other"),
    "34": ("retirado de cartório e manutenção carteira", "protest"),
    "35": ("desagendamento do débito automático", "other"),
    "40": ("estorno de pagamento", "reversal"),
}

REASONS = {
    "00": "ocorrência aceita",
    "02": "código do registro detalhe inválido",
    "03": "código da ocorrência inválida",
    "04": "código de ocorrência não permitida para a carteira",
    "05": "código de ocorrência não numérico",
    "07": "agência/conta/dígito inválido",
    "08": "nosso número inválido",
    "09": "nosso número duplicado",
    "10": "carteira inválida",
    "16": "data de vencimento inválida",
    "18": "vencimento fora do prazo de operação",
    "20": "valor do título inválido",
    "21": "espécie do título inválida",
    "24": "data de emissão inválida",
    "38": "prazo para protesto inválido",
    "45": "nome do pagador não informado",
    "46": "tipo/número de inscrição do pagador inválidos",
    "47": "endereço do pagador não informado",
    "48": "CEP inválido",
}

CNAB400 = Layout400(
    bank_code="237",
    bank_name="Bradesco",
    extra_types={"3": "rateio de crédito"},
    nosso_numero=(71, 82),
    check_digit_included=True,
    interest=((267, 279),),  # juros de mora, multa included
    reasons=(319, 328),
    occurrences=OCCURRENCES,
    reason_texts=REASONS,
)

CNAB240 = Layout240(bank_code="237", bank_name="Bradesco", check_digit_included=True)
