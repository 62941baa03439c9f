"""What a return file says, as plain data for `regua cnab inspect` (text and JSON)."""

from __future__ import annotations

from typing import Any

from regua.payments.cnab.records import SETTLING_KINDS, ReturnFile

LAYOUT_NAMES = {"cnab240": "CNAB 240", "cnab400": "CNAB 400"}


def describe_file(parsed: ReturnFile, filename: str) -> dict[str, Any]:
    """Bank, layout, dates, counts and each title with its occurrence in words and amounts."""
    titles = [
        {
            "line": r.line,
            "nosso_numero": r.nosso_numero,
            "seu_numero": r.seu_numero,
            "company_ref": r.company_ref,
            "occurrence": r.occurrence,
            "occurrence_text": r.occurrence_text,
            "kind": r.kind,
            "settles": r.kind in SETTLING_KINDS,
            "due_date": r.due_date.isoformat() if r.due_date else None,
            "paid_on": r.paid_on.isoformat() if r.paid_on else None,
            "credited_on": r.credited_on.isoformat() if r.credited_on else None,
            "face_cents": r.face_cents,
            "paid_cents": r.paid_cents,
            "interest_cents": r.interest_cents,
            "discount_cents": r.discount_cents,
            "rebate_cents": r.rebate_cents,
            "iof_cents": r.iof_cents,
            "fee_cents": r.fee_cents,
            "credited_cents": r.net_cents,
            "reasons": list(r.reasons),
            "pix_txid": r.pix_txid or None,
        }
        for r in parsed.records
    ]
    settling = [t for t in titles if t["settles"]]
    return {
        "file": filename,
        "layout": parsed.layout,
        "layout_name": LAYOUT_NAMES[parsed.layout],
        "variant": parsed.variant,
        "bank_code": parsed.bank_code,
        "bank_name": parsed.bank_name,
        "company_document": parsed.company_document,
        "generated_on": parsed.generated_on.isoformat() if parsed.generated_on else None,
        "warnings": list(parsed.warnings),
        "settlements": len(settling),
        "paid_cents": sum(t["paid_cents"] for t in settling),
        "fee_cents": sum(t["fee_cents"] for t in settling),
        "credited_cents": sum(t["credited_cents"] for t in settling),
        "unknown_occurrences": [t["line"] for t in titles if t["kind"] == "unknown"],
        "titles": titles,
    }
