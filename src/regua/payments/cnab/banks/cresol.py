"""Cresol (133): CNAB 400 on Bradesco's model (nosso número 71-82 with DV) and CNAB 240 with
the FEBRABAN table."""

from regua.payments.cnab.layouts import FEBRABAN_240, Layout240, Layout400

CNAB400 = Layout400(
    bank_code="133",
    bank_name="Cresol",
    nosso_numero=(71, 82),
    check_digit_included=True,
    interest=((267, 279), (280, 292)),  # juros; outros créditos
    reasons=(319, 328),
    occurrences=FEBRABAN_240,  # Cresol's CNAB 400 uses the FEBRABAN movement codes
)

CNAB240 = Layout240(bank_code="133", bank_name="Cresol")
