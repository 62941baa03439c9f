"""Santander (033): CNAB 400 with its Pix record (type 2) and CNAB 240.

CNAB 400: nosso número 63-70 (7 digits and DV); record 2, after a detail, carries the Pix key
(3-79) and txid (80-114) of a boleto paid by Pix. CNAB 240: segment T is shifted 3-5
positions to the left of FEBRABAN's from the nosso número on, and the lot trailers count the
detail records only.
"""

from regua.payments.cnab.layouts import Layout240, Layout400, SegmentT
from regua.payments.cnab.records import Occurrences

OCCURRENCES_400: Occurrences = {
    "01": ("título não existe", "entry_rejected"),
    "02": ("entrada de título confirmada", "entry_confirmed"),
    "03": ("entrada de título rejeitada", "entry_rejected"),
    "06": ("liquidação", "settlement"),
    "07": ("liquidação por conta", "settlement"),
    "08": ("liquidação por saldo", "settlement"),
    "09": ("baixa automática", "written_off"),
    "10": ("título baixado conforme instrução ou por título protestado", "written_off"),
    "11": ("em ser", "other"),
    "12": ("abatimento concedido", "other"),
    "13": ("abatimento cancelado", "other"),
    "14": ("prorrogação de vencimento", "other"),
    "15": ("enviado para cartório", "protest"),
    "16": ("título já baixado/liquidado", "other"),
    "17": ("liquidado em cartório", "settlement"),
    "21": ("entrada em cartório", "protest"),
    "22": ("retirado de cartório", "protest"),
    "24": ("custas de cartório", "other"),
    "25": ("protestar título", "protest"),
    "26": ("sustar protesto", "protest"),
}

CNAB400 = Layout400(
    bank_code="033",
    bank_name="Santander",
    pix_type="2",
    pix_txid=(80, 114),
    nosso_numero=(63, 70),
    check_digit_included=True,
    interest=((267, 279), (280, 292)),  # juros de mora; multa
    reasons=(137, 145),
    reason_width=3,
    occurrences=OCCURRENCES_400,
)

CNAB240 = Layout240(
    bank_code="033",
    bank_name="Santander",
    segment_t=SegmentT(
        nosso_numero=(41, 53),
        seu_numero=(55, 69),
        due_date=(70, 77),
        face=(78, 92),
        company_ref=(101, 125),
        fee=(194, 208),
        reasons=(209, 218),
        nosso_numero_zero_filled=True,
    ),
    check_digit_included=True,
    lot_count_details_only=True,
)
