"""Banco do Brasil (001): CBR643, the CNAB 400 return with detail record 7, and CNAB 240.

CBR643: nosso número 64-80 is the 7-digit convênio (also at 32-38) and a 10-digit sequence;
254-266 is what the payer paid, 182-188 the tarifa (7 digits), 306-318 the amount credited,
176-181 the credit date; the natureza do recebimento / motivo is at 87-88.
CNAB 240: the nosso número (segment T, 38-57) is the same 17 digits; ERPs keep either form.
"""

from regua.payments.cnab.layouts import DateField, Layout240, Layout400
from regua.payments.cnab.records import Occurrences

OCCURRENCES: Occurrences = {
    "02": ("confirmação de entrada de título", "entry_confirmed"),
    "03": ("comando recusado", "entry_rejected"),
    "05": ("liquidado sem registro", "settlement"),
    "06": ("liquidação normal", "settlement"),
    "07": ("liquidação por conta", "settlement"),
    "08": ("liquidação por saldo", "settlement"),
    "09": ("baixa de título", "written_off"),
    "10": ("baixa solicitada", "written_off"),
    "11": ("títulos em ser", "other"),
    "12": ("abatimento concedido", "other"),
    "13": ("abatimento cancelado", "other"),
    "14": ("alteração de vencimento do título", "other"),
    "15": ("liquidação em cartório", "settlement"),
    "16": ("confirmação de alteração de juros de mora", "other"),
    "19": ("confirmação de recebimento de instruções para protesto", "protest"),
    "20": ("débito em conta", "other"),
    "21": ("alteração do nome do pagador", "other"),
    "22": ("alteração do endereço do pagador", "other"),
    "23": ("indicação de encaminhamento a cartório", "protest"),
    "24": ("sustar protesto", "protest"),
    "25": ("dispensar juros de mora", "other"),
    "26": ("alteração do número do título dado pelo beneficiário", "other"),
    "28": ("manutenção de título vencido", "other"),
    "31": ("conceder desconto", "other"),
    "32": ("não conceder desconto", "other"),
    "33": ("retificar desconto", "other"),
    "34": ("alterar data para desconto", "other"),
    "35": ("cobrar multa", "other"),
    "36": ("dispensar multa", "other"),
    "37": ("dispensar indexador", "other"),
    "38": ("dispensar prazo limite para recebimento", "other"),
    "39": ("alterar prazo limite para recebimento", "other"),
    "41": ("alteração do número de controle do participante", "other"),
    "42": ("alteração do número do documento do pagador", "other"),
    "44": ("título pago com cheque devolvido", "reversal"),
    "46": ("título pago com cheque, aguardando compensação", "other"),
    "72": ("alteração de tipo de cobrança", "other"),
    "96": ("despesas de protesto", "other"),
    "97": ("despesas de sustação de protesto", "other"),
    "98": ("débito de custas antecipadas", "other"),
}

# Natureza do recebimento (liquidações) at 87-88.
REASONS = {
    "01": "liquidação — agência",
    "02": "liquidação — auto-atendimento",
    "03": "liquidação — internet",
    "04": "liquidação — compensação eletrônica",
    "05": "liquidação — compensação convencional",
    "07": "liquidação — correspondente",
    "08": "liquidação — arquivo",
    "09": "liquidação — Pix",
}

CNAB400 = Layout400(
    bank_code="001",
    bank_name="Banco do Brasil",
    variant="CBR643",
    detail_type="7",
    nosso_numero=(64, 80),
    convenio_prefix=(32, 38),
    company_ref=(39, 63),
    fee=(182, 188),
    interest=((267, 279), (280, 292)),  # juros de mora; outros recebimentos
    credited=(306, 318),
    credited_on=DateField(176),
    reasons=(87, 88),
    occurrences=OCCURRENCES,
    reason_texts=REASONS,
)

CNAB240 = Layout240(bank_code="001", bank_name="Banco do Brasil", convenio_digits=7)
