"""Itaú Unibanco (341), "Cobrança — CNAB 400 retorno" and CNAB 240.

254-266 holds the VALOR PRINCIPAL, the amount credited to the account: the payment already
less the tarifa at 176-188. What the payer paid is that amount plus the tarifa. The nosso
número (63-70) comes without its DAC, which is at 94. Settling codes per the manual: 06
liquidação normal, 07 liquidação parcial (cobrança inteligente B2B), 08 liquidação em
cartório; 10 is a baixa telling the title was liquidated (money only when no settlement of the
title came before it).
"""

from regua.payments.cnab.layouts import Layout240, Layout400, SegmentT
from regua.payments.cnab.records import Occurrences

OCCURRENCES: Occurrences = {
    "02": ("entrada confirmada", "entry_confirmed"),
    "03": ("entrada rejeitada", "entry_rejected"),
    "04": ("alteração de dados — nova entrada", "other"),
    "05": ("alteração de dados — baixa", "other"),
    "06": ("liquidação normal", "settlement"),
    "07": ("liquidação parcial — cobrança inteligente (B2B)", "settlement"),
    "08": ("liquidação em cartório", "settlement"),
    "09": ("baixa simples", "written_off"),
    "10": ("baixa por ter sido liquidado", "settled_written_off"),
    "11": ("em ser (retorno mensal)", "other"),
    "12": ("abatimento concedido", "other"),
    "13": ("abatimento cancelado", "other"),
    "14": ("vencimento alterado", "other"),
    "15": ("baixa rejeitada", "other"),
    "16": ("instrução rejeitada", "other"),
    "17": ("alteração de dados rejeitada", "other"),
    "18": ("cobrança contratual — instrução rejeitada/pendente", "other"),
    "19": ("confirmação de recebimento de instrução de protesto", "protest"),
    "20": ("confirmação de recebimento de instrução de sustação de protesto", "protest"),
    "21": ("confirmação de recebimento de instrução de não protestar", "other"),
    "23": ("título enviado a cartório", "protest"),
    "24": ("instrução de protesto rejeitada/sustada/pendente", "protest"),
    "25": ("alegações do pagador", "other"),
    "26": ("tarifa de aviso de cobrança", "other"),
    "27": ("tarifa de extrato posição", "other"),
    "28": ("tarifa de relação das liquidações", "other"),
    "29": ("tarifa de manutenção de títulos vencidos", "other"),
    "30": ("débito mensal de tarifas", "other"),
    "32": ("baixa por ter sido protestado", "written_off"),
    "33": ("custas de protesto", "other"),
    "34": ("custas de sustação", "other"),
    "35": ("custas de cartório distribuidor", "other"),
    "36": ("custas de edital", "other"),
    "37": ("tarifa de emissão de boleto", "other"),
    "38": ("tarifa de instrução", "other"),
    "39": ("tarifa de ocorrências", "other"),
    "47": ("baixa com transferência para desconto", "written_off"),
    "57": ("instrução cancelada", "other"),
    "59": ("baixa por crédito em c/c através do SISPAG", "settled_written_off"),
    "64": ("entrada confirmada com rateio de crédito", "entry_confirmed"),
    "65": ("pagamento com cheque — aguardando compensação", "other"),
    "69": ("cheque devolvido", "reversal"),
    "71": ("entrada registrada, aguardando avaliação", "other"),
    "76": ("cheque compensado", "other"),
}

CNAB400 = Layout400(
    bank_code="341",
    bank_name="Itaú",
    nosso_numero=(63, 70),
    check_digit=(94, 94),
    amount_is="credited",
    interest=((267, 279), (280, 292)),  # juros de mora e multa; outros créditos
    reasons=(378, 385),
    occurrences=OCCURRENCES,
)

# Itaú CNAB 240: carteira 38-40, nosso número 41-48, DAC 49.
CNAB240 = Layout240(
    bank_code="341",
    bank_name="Itaú",
    segment_t=SegmentT(nosso_numero=(41, 48), nosso_numero_zero_filled=True),
)
