"""Property-based fuzzing of what strangers send: BR Codes and webhook bodies. Whatever comes
in, the answer is a value or regua's own pt-BR error, never another exception (a traceback, an
HTTP 500). Bounded example counts keep the suite quick; bench/fuzz_night_payments.py runs long."""

from __future__ import annotations

import json
import os
from datetime import date
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from regua.errors import ReguaError
from regua.payments import pix
from regua.payments.webhooks import load_webhook_json, parse_pix_webhook
from tests.payments.test_pix import BCB_DYNAMIC, BCB_STATIC, with_crc

FUZZ = settings(
    max_examples=int(os.environ.get("REGUA_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def decoded_or_refused(code: str) -> None:
    try:
        result = pix.decode(code)
    except pix.PixError as exc:
        assert exc.message  # a reason a person can read
        return
    # Whatever is accepted keeps the manual's limits.
    assert len(code.strip()) <= pix.MAX_PAYLOAD
    assert 0 < len(result.name) <= pix.MAX_NAME and 0 < len(result.city) <= pix.MAX_CITY
    assert result.url is None or "://" not in result.url


@st.composite
def mutated_codes(draw: st.DrawFn) -> str:
    """A real BR Code with a few characters changed, inserted or deleted; the CRC made right
    again half of the time, so the structure checks are reached, not only the CRC's."""
    code = list(draw(st.sampled_from([BCB_STATIC, BCB_DYNAMIC]))[:-8])
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(code)))
        action = draw(st.sampled_from(["set", "insert", "delete"]))
        char = draw(st.characters(min_codepoint=32, max_codepoint=126))
        if action == "insert" or where >= len(code):
            code.insert(where, char)
        elif action == "set":
            code[where] = char
        else:
            del code[where]
    body = "".join(code)
    return with_crc(body) if draw(st.booleans()) else body + "6304ABCD"


@st.composite
def tlv_codes(draw: st.DrawFn) -> str:
    """Well-formed data objects in any mix (templates included), with a right CRC."""
    ids = st.sampled_from(["00", "01", "26", "52", "53", "54", "58", "59", "60", "61", "62", "80"])
    parts = []
    for field_id in draw(st.lists(ids, min_size=1, max_size=12)):
        if field_id in ("26", "62", "80"):
            inner = draw(
                st.lists(
                    st.tuples(
                        st.sampled_from(["00", "01", "02", "05", "25"]),
                        st.sampled_from(["br.gov.bcb.pix", "***", "x.com/a", "https://x.com/a"])
                        | st.text(
                            st.characters(min_codepoint=32, max_codepoint=126),
                            min_size=1,
                            max_size=30,
                        ),
                    ),
                    max_size=4,
                )
            )
            value = "".join(f"{i}{len(v):02d}{v}" for i, v in inner) or "0000"
        else:
            value = draw(
                st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=40)
            )
        parts.append(f"{field_id}{len(value):02d}{value}"[: 4 + 99])
    return with_crc("000201" + "".join(parts))


@FUZZ
@given(st.text(max_size=600))
@example("0" * 513)
@example("\x00")
@example("00020101021226")
def test_decode_of_any_text_is_a_brcode_or_a_pix_error(code: str) -> None:
    decoded_or_refused(code)


@FUZZ
@given(mutated_codes())
def test_decode_of_a_damaged_code_is_a_brcode_or_a_pix_error(code: str) -> None:
    decoded_or_refused(code)


@FUZZ
@given(tlv_codes())
def test_decode_of_well_formed_data_objects_is_a_brcode_or_a_pix_error(code: str) -> None:
    decoded_or_refused(code)


# ----------------------------------------------------------------------------- webhook bodies

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "110.00",
            "١.00",
            "0.00",
            "9999999999.99",
            "2026-11-23T10:15:30-03:00",
            "0001-01-01T00:00:00-03:00",
            "9999-12-31T23:59:59+14:00",
            "E" * 32,
            "DEVOLVIDO",
            "\ud800",
            "a\x00b",
        ]
    )
)


def _json_containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)
    )


json_values = st.recursive(json_leaves, _json_containers, max_leaves=25)
PIX_KEYS = [
    "endToEndId",
    "txid",
    "valor",
    "horario",
    "infoPagador",
    "devolucoes",
    "id",
    "rtrId",
    "status",
    "liquidacao",
]


def _pix_containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(PIX_KEYS), inner, max_size=6),
    )


pix_like = st.recursive(json_leaves, _pix_containers, max_leaves=30)


VALID_ITEM = {
    "endToEndId": "E18236120202611231015" + "0" * 11,
    "txid": "cobranca0000000000000000A1",
    "valor": "99.90",
    "horario": "2026-11-23T10:15:30.000-03:00",
    "infoPagador": "pagamento",
}
VALID_REFUND = {
    "id": "D1",
    "valor": "10.00",
    "status": "DEVOLVIDO",
    "horario": {"liquidacao": "2026-11-23T14:00:05.000-03:00"},
}


@st.composite
def nearly_valid_items(draw: st.DrawFn) -> dict[str, Any]:
    """A Pix as a PSP sends it with some fields replaced by anything: the checks past the
    first one are reached."""
    item: dict[str, Any] = dict(VALID_ITEM)
    for key in draw(st.lists(st.sampled_from([*VALID_ITEM, "devolucoes"]), max_size=3)):
        item[key] = draw(json_values)
    if draw(st.booleans()):
        refund = dict(VALID_REFUND)
        for key in draw(st.lists(st.sampled_from(list(VALID_REFUND)), max_size=2)):
            refund[key] = draw(json_values)
        item["devolucoes"] = [refund]
    return item


def dumped(value: Any) -> bytes:
    # surrogatepass: lone surrogates reach the wire as a careless client would send them.
    return json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass")


@FUZZ
@given(st.one_of(st.binary(max_size=200), json_values.map(dumped)))
def test_any_body_is_json_or_an_input_error(body: bytes) -> None:
    try:
        load_webhook_json(body)
    except ReguaError as exc:
        assert exc.http_status < 500


@FUZZ
@given(
    st.lists(pix_like | nearly_valid_items(), max_size=4).map(lambda items: dumped({"pix": items}))
)
def test_any_pix_body_is_read_or_refused_with_a_reason(body: bytes) -> None:
    try:
        found = parse_pix_webhook(body, today=date(2026, 11, 23))
    except ReguaError as exc:
        assert exc.http_status < 500 and exc.message
        return
    for item in found:
        assert item.amount_cents > 0 and len(item.end_to_end_id) == 32
