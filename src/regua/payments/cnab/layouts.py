"""Declarative bank layouts: where each field of a return file sits and what it means.

CNAB 400 is one skeleton with a layout per bank; CNAB 240 is the FEBRABAN layout with a few
deviations per bank. A bank is described once, in its own module of ``banks`` (positions from
its manual, its table of occurrences, which of them settle, what its amount fields hold); the
parsers in ``cnab400`` and ``cnab240`` read any bank from that description, so adding a bank
is a data change. Positions are the 1-based inclusive positions of the manuals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from regua.payments.cnab.records import Occurrences

Span = tuple[int, int]
DateForm = Literal["ddmmyy", "ddmmyyyy", "yyyymmdd"]
# What the amount field of a CNAB 400 detail holds: the payer's payment ("paid"), or what the
# bank credited to the account, the payment less its fee ("credited", Itaú).
AmountMeaning = Literal["paid", "credited"]


@dataclass(frozen=True)
class DateField:
    start: int
    form: DateForm = "ddmmyy"

    @property
    def span(self) -> Span:
        return (self.start, self.start + (5 if self.form == "ddmmyy" else 7))


@dataclass(frozen=True, kw_only=True)
class Layout400:
    """A bank's CNAB 400 return layout (defaults: the positions most banks share)."""

    bank_code: str
    bank_name: str
    variant: str = ""  # a name for the layout when the bank has several (CBR643)
    detail_type: str = "1"
    # Other record types the bank sends, by what they hold; read past, never refused.
    extra_types: Mapping[str, str] = field(default_factory=dict)
    pix_type: str = ""  # record holding the Pix txid of the detail before it (Santander: 2)
    pix_txid: Span | None = None
    nosso_numero: Span
    check_digit: Span | None = None  # the nosso número's DV, in a field of its own
    check_digit_included: bool = False  # the last character of nosso_numero is its DV
    convenio_prefix: Span | None = None  # convênio the nosso número starts with (BB)
    seu_numero: Span | None = (117, 126)
    company_ref: Span | None = (38, 62)
    occurrence: Span = (109, 110)
    occurred_on: DateField = DateField(111)
    due_date: DateField | None = DateField(147)
    face: Span = (153, 165)
    fee: Span | None = (176, 188)
    iof: Span | None = (215, 227)
    rebate: Span | None = (228, 240)
    discount: Span | None = (241, 253)
    amount: Span = (254, 266)
    amount_is: AmountMeaning = "paid"
    interest: tuple[Span, ...] = ((267, 279),)  # juros, multa, outros créditos: summed
    credited: Span | None = None  # the credited amount, when the bank gives it apart (BB)
    credited_on: DateField | None = DateField(296)
    reasons: Span | None = None
    reason_width: int = 2
    occurrences: Occurrences
    reason_texts: Mapping[str, str] = field(default_factory=dict)
    file_date: DateField = DateField(95)


@dataclass(frozen=True, kw_only=True)
class SegmentT:
    """Positions of the segment T fields that move by bank (1-based inclusive)."""

    nosso_numero: Span = (38, 57)
    seu_numero: Span = (59, 73)
    due_date: Span = (74, 81)
    face: Span = (82, 96)
    company_ref: Span = (106, 130)
    fee: Span = (199, 213)
    reasons: Span = (214, 223)
    nosso_numero_zero_filled: bool = False  # writer: 9(n) field instead of X(n)


# FEBRABAN table C044, código de movimento retorno. 06 and 17 are payments; 44 undoes one.
FEBRABAN_240: Occurrences = {
    "02": ("entrada confirmada", "entry_confirmed"),
    "03": ("entrada rejeitada", "entry_rejected"),
    "04": ("transferência de carteira/entrada", "other"),
    "05": ("transferência de carteira/baixa", "other"),
    "06": ("liquidação", "settlement"),
    "07": ("confirmação do recebimento da instrução de desconto", "other"),
    "08": ("confirmação do recebimento do cancelamento do desconto", "other"),
    "09": ("baixa", "written_off"),
    "11": ("títulos em carteira (em ser)", "other"),
    "12": ("confirmação recebimento instrução de abatimento", "other"),
    "13": ("confirmação recebimento instrução de cancelamento abatimento", "other"),
    "14": ("confirmação recebimento instrução alteração de vencimento", "other"),
    "15": ("franco de pagamento", "other"),
    "17": ("liquidação após baixa ou liquidação de título não registrado", "settlement"),
    "19": ("confirmação recebimento instrução de protesto", "protest"),
    "20": ("confirmação recebimento instrução de sustação/cancelamento de protesto", "protest"),
    "23": ("remessa a cartório (aponte em cartório)", "protest"),
    "24": ("retirada de cartório e manutenção em carteira", "protest"),
    "25": ("protestado e baixado (baixa por ter sido protestado)", "protest"),
    "26": ("instrução rejeitada", "other"),
    "27": ("confirmação do pedido de alteração de outros dados", "other"),
    "28": ("débito de tarifas/custas", "other"),
    "29": ("ocorrências do pagador", "other"),
    "30": ("alteração de dados rejeitada", "other"),
    "44": ("título pago com cheque devolvido", "reversal"),
    "45": ("título pago com cheque compensado", "other"),
    "50": ("título pago com cheque pendente de compensação", "other"),
}

# FEBRABAN table C047, motivos de ocorrência for 02/03/26/30 (the common ones).
FEBRABAN_240_REASONS: Mapping[str, str] = {
    "01": "código do banco inválido",
    "02": "código do registro detalhe inválido",
    "03": "código do segmento inválido",
    "04": "código de movimento não permitido para a carteira",
    "05": "código de movimento inválido",
    "06": "tipo/número de inscrição do beneficiário inválidos",
    "07": "agência/conta/DV inválido",
    "08": "nosso número inválido",
    "09": "nosso número duplicado",
    "10": "carteira inválida",
    "16": "data de vencimento inválida",
    "20": "valor do título inválido",
    "45": "nome do pagador não informado",
    "46": "tipo/número de inscrição do pagador inválidos",
    "47": "endereço do pagador não informado",
    "48": "CEP inválido",
}


@dataclass(frozen=True, kw_only=True)
class Layout240:
    """A bank's deviations from the FEBRABAN CNAB 240 return layout."""

    bank_code: str
    bank_name: str
    segment_t: SegmentT = SegmentT()
    occurrences: Occurrences = field(default_factory=lambda: FEBRABAN_240)
    reason_texts: Mapping[str, str] = field(default_factory=lambda: FEBRABAN_240_REASONS)
    check_digit_included: bool = False  # the nosso número's last digit is its DV
    # Banco do Brasil: a 17-digit nosso número is the 7-digit convênio and a 10-digit
    # sequence; ERPs store either form.
    convenio_digits: int = 0
    # Santander's lot trailers count the detail records only (without header and trailer).
    lot_count_details_only: bool = False
