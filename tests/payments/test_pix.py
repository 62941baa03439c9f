"""Pix BR Code: the BCB examples byte for byte, key normalisation, field rules, strict decoding."""

from __future__ import annotations

import string
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.br import cnpj as stdnum_cnpj

from regua.errors import InputError, ReguaError
from regua.payments import pix
from regua.payments.pix import PixError, PixKey

BCB_STATIC = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)
BCB_DYNAMIC = (
    "00020101021226700014br.gov.bcb.pix2548pix.example.com/8b3da2f39a4140d1a91abd93113bd441"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***630464E4"
)


def with_crc(body_without_crc: str) -> str:
    """Append ``6304`` and the right CRC, to build payloads whose only defect is elsewhere."""
    body = body_without_crc + "6304"
    return body + f"{pix.crc16_ccitt(body.encode()):04X}"


# ----------------------------------------------------------------------------- CRC


def test_crc_check_value() -> None:
    assert pix.crc16_ccitt(b"123456789") == 0x29B1


def test_crc_of_the_bcb_examples() -> None:
    assert f"{pix.crc16_ccitt(BCB_STATIC[:-4].encode()):04X}" == "1D3D"
    assert f"{pix.crc16_ccitt(BCB_DYNAMIC[:-4].encode()):04X}" == "64E4"


# ----------------------------------------------------------------------------- BCB examples


def test_encodes_the_bcb_static_example() -> None:
    code = pix.encode_static(
        key="123e4567-e12b-12d1-a456-426655440000", name="Fulano de Tal", city="BRASILIA"
    )
    assert code == BCB_STATIC


def test_encodes_the_bcb_dynamic_example() -> None:
    code = pix.encode_dynamic(
        url="https://pix.example.com/8b3da2f39a4140d1a91abd93113bd441",
        name="Fulano de Tal",
        city="BRASILIA",
    )
    assert code == BCB_DYNAMIC


def test_decodes_the_bcb_static_example() -> None:
    result = pix.decode(BCB_STATIC)
    assert result == pix.BrCode(
        payload_format="01",
        initiation="static",
        gui="br.gov.bcb.pix",
        key="123e4567-e12b-12d1-a456-426655440000",
        description=None,
        url=None,
        mcc="0000",
        currency="986",
        amount_cents=None,
        country="BR",
        name="Fulano de Tal",
        city="BRASILIA",
        postal_code=None,
        txid="***",
        crc="1D3D",
        raw={
            "00": "01",
            "26": "0014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000",
            "26.00": "br.gov.bcb.pix",
            "26.01": "123e4567-e12b-12d1-a456-426655440000",
            "52": "0000",
            "53": "986",
            "58": "BR",
            "59": "Fulano de Tal",
            "60": "BRASILIA",
            "62": "0503***",
            "62.05": "***",
            "63": "1D3D",
        },
    )


def test_decodes_the_bcb_dynamic_example() -> None:
    result = pix.decode(BCB_DYNAMIC)
    assert result.initiation == "dynamic"
    assert result.url == "pix.example.com/8b3da2f39a4140d1a91abd93113bd441"
    assert result.key is None
    assert result.raw["01"] == "12"
    assert (result.name, result.city, result.txid, result.crc) == (
        "Fulano de Tal",
        "BRASILIA",
        "***",
        "64E4",
    )


def test_decode_ignores_surrounding_whitespace_of_a_pasted_code() -> None:
    assert pix.decode(f"  {BCB_STATIC}\n").key == "123e4567-e12b-12d1-a456-426655440000"


# ----------------------------------------------------------------------------- decoding errors


def test_rejects_broken_tlv_even_with_a_correct_crc() -> None:
    # The widely copied annotated example: 62 declares 08 characters but holds "0503***" (7).
    broken = with_crc(
        "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
        "5204000053039865802BR5913Fulano de Tal6008BRASILIA62080503***"
    )
    with pytest.raises(PixError, match="posição"):
        pix.decode(broken)


def test_rejects_a_wrong_crc_naming_both_values() -> None:
    with pytest.raises(PixError, match=r"^CRC inválido: esperado 1D3D, encontrado 0000$"):
        pix.decode(BCB_STATIC[:-4] + "0000")


def test_lower_case_crc_is_accepted() -> None:
    assert pix.decode(BCB_STATIC[:-4] + "1d3d").crc == "1D3D"


def test_any_changed_character_breaks_the_crc() -> None:
    tampered = BCB_STATIC.replace("Fulano de Tal", "Fulano de Tel")
    with pytest.raises(PixError, match=r"CRC inválido: esperado [0-9A-F]{4}, encontrado 1D3D"):
        pix.decode(tampered)


def test_gui_is_compared_case_insensitively_but_is_covered_by_the_crc() -> None:
    upper = BCB_STATIC[:-4].replace("br.gov.bcb.pix", "BR.GOV.BCB.PIX")
    with pytest.raises(PixError, match="CRC inválido"):
        pix.decode(upper + "1D3D")
    recomputed = with_crc(upper[:-4])
    assert recomputed[-4:] != "1D3D"
    assert pix.decode(recomputed).gui == "BR.GOV.BCB.PIX"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # 00 is not first
        (
            "52040000000201265800"
            "14br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
            "53039865802BR5913Fulano de Tal6008BRASILIA62070503***",
            "deve começar pelo campo 00",
        ),
        # a nested data object overflows its template
        (
            "00020126580014br.gov.bcb.pix0137123e4567-e12b-12d1-a456-426655440000"
            "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***",
            "campo 26-01 na posição 29: tamanho 37 ultrapassa o fim do campo 26",
        ),
        # non-numeric length
        (
            "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
            "52040000530398658XXBR5913Fulano de Tal6008BRASILIA62070503***",
            r"campo 58 \(país\) na posição 84: tamanho inválido 'XX'",
        ),
        # duplicated field
        (
            "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
            "5204000053039865802BR5913Fulano de Tal5913Fulano de Tal6008BRASILIA62070503***",
            r"campo 59 \(nome do recebedor\) repetido na posição 107",
        ),
        # missing merchant name
        (
            "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
            "5204000053039865802BR6008BRASILIA62070503***",
            r"campo 59 \(nome do recebedor\) ausente",
        ),
        # not BRL
        (
            "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
            "5204000053038405802BR5913Fulano de Tal6008BRASILIA62070503***",
            r"campo 53 \(moeda\) deve ser 986",
        ),
        # not a Pix account
        (
            "00020126580014br.gov.bcb.xyz0136123e4567-e12b-12d1-a456-426655440000"
            "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***",
            "br.gov.bcb.pix: não é um Pix",
        ),
        # both key and URL
        (
            "00020126300014br.gov.bcb.pix0101a2503x.y"
            "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***",
            r"chave \(01\) e URL \(25\) não podem vir juntas",
        ),
        # neither key nor URL
        (
            "00020126180014br.gov.bcb.pix"
            "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***",
            r"falta a chave Pix \(01\) ou a URL \(25\)",
        ),
        # amount with a comma
        (
            "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
            "52040000530398654041,005802BR5913Fulano de Tal6008BRASILIA62070503***",
            r"campo 54 \(valor\) inválido: '1,00'",
        ),
        # zero amount
        (
            "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
            "52040000530398654040.005802BR5913Fulano de Tal6008BRASILIA62070503***",
            "deve ser maior que zero",
        ),
        # empty value
        (
            "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
            "520400005303986540005802BR5913Fulano de Tal6008BRASILIA62070503***",
            r"campo 54 \(valor\) na posição 84: valor vazio",
        ),
        # an unreserved template (80-99) is checked as a template too
        (
            "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
            "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***8003abc",
            "fim inesperado no campo 80 na posição 134",
        ),
    ],
)
def test_decode_errors_name_the_field(body: str, message: str) -> None:
    with pytest.raises(PixError, match=message):
        pix.decode(with_crc(body))


def test_63_must_be_last() -> None:
    code = BCB_STATIC + "8004abcd"
    with pytest.raises(PixError, match=r"terminar pelo campo 63 \(CRC\); termina por 80"):
        pix.decode(code)


def test_truncated_code() -> None:
    with pytest.raises(PixError, match="ultrapassa o fim do código"):
        pix.decode(BCB_STATIC[:-2])


def test_non_ascii_character_is_refused_with_its_position() -> None:
    with pytest.raises(PixError, match="caractere não permitido na posição 115: 'Í'"):
        pix.decode(BCB_STATIC.replace("BRASILIA", "BRASÍLIA"))


def test_unreserved_template_is_accepted_and_kept_raw() -> None:
    code = with_crc(
        "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
        "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***80080004abcd"
    )
    assert pix.decode(code).raw["80.00"] == "abcd"


def test_amount_without_decimals_is_read() -> None:
    code = with_crc(
        "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
        "520400005303986540410.55802BR5913Fulano de Tal6008BRASILIA62070503***"
    )
    assert pix.decode(code).amount_cents == 1050


def test_pix_error_is_an_input_error() -> None:
    assert issubclass(PixError, InputError)
    assert issubclass(PixError, ReguaError)


# ----------------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("529.982.247-25", PixKey("cpf", "52998224725")),
        ("52998224725", PixKey("cpf", "52998224725")),
        ("11.222.333/0001-81", PixKey("cnpj", "11222333000181")),
        ("11222333000181", PixKey("cnpj", "11222333000181")),
        ("12.abc.345/01de-35", PixKey("cnpj", "12ABC34501DE35")),
        ("(11) 98765-4321", PixKey("phone", "+5511987654321")),
        ("+55 11 98765-4321", PixKey("phone", "+5511987654321")),
        ("11987654321", PixKey("phone", "+5511987654321")),  # not a valid CPF
        ("5511987654321", PixKey("phone", "+5511987654321")),
        (" Fulano.Tal@Example.COM ", PixKey("email", "fulano.tal@example.com")),
        (
            "123E4567-E12B-12D1-A456-426655440000",
            PixKey("evp", "123e4567-e12b-12d1-a456-426655440000"),
        ),
    ],
)
def test_normalize_pix_key(text: str, expected: PixKey) -> None:
    assert pix.normalize_pix_key(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "chave Pix vazia"),
        ("abc", "chave Pix inválida: abc"),
        ("12345", "chave Pix inválida: 12345"),
        ("529.982.247-24", "CPF inválido: 529.982.247-24"),
        ("11.222.333/0001-82", "CNPJ inválido"),
        ("+1 650 253 0000", "telefone fora do Brasil"),
        ("fulano@", "e-mail inválido"),
        ("12345678901", "não é CPF nem telefone válido"),
    ],
)
def test_normalize_pix_key_rejects(text: str, message: str) -> None:
    with pytest.raises(PixError, match=message):
        pix.normalize_pix_key(text)


def test_email_key_longer_than_77_is_refused() -> None:
    address = "a" * 64 + "@" + "b" * 10 + ".com.br"
    with pytest.raises(PixError, match="e-mail\\) com 82 caracteres; máximo 77"):
        pix.normalize_pix_key(address)


# ----------------------------------------------------------------------------- encoding rules


def test_static_code_with_every_optional_field_in_the_bcb_order() -> None:
    code = pix.encode_static(
        key="529.982.247-25",
        name="José da Conceição",
        city="São Paulo",
        amount_cents=123456,
        txid="FAT2026000123",
        description="Fatura 123",
        postal_code="01310-100",
    )
    # Assembled by hand from the field table: 00, 26(00, 01, 02), 52, 53, 54, 58, 59, 60, 61, 62.
    expected = with_crc(
        "000201"
        "2647" + "0014br.gov.bcb.pix" + "011152998224725" + "0210Fatura 123"
        "52040000"
        "5303986"
        "54071234.56"
        "5802BR"
        "5917Jose da Conceicao"
        "6009Sao Paulo"
        "610801310100"
        "6217" + "0513FAT2026000123"
    )
    assert code == expected


def test_accents_are_stripped_from_name_city_and_description() -> None:
    code = pix.encode_static(
        key="fulano@example.com",
        name="Açaí & Cia Ltda",
        city="Brasília",
        description="Mensalidade março",
    )
    decoded = pix.decode(code)
    assert (decoded.name, decoded.city, decoded.description) == (
        "Acai & Cia Ltda",
        "Brasilia",
        "Mensalidade marco",
    )
    assert code.isascii()


def test_long_name_and_city_are_cut_by_default() -> None:
    code = pix.encode_static(
        key="fulano@example.com",
        name="Companhia Brasileira de Distribuição S.A.",
        city="São José dos Campos",
    )
    decoded = pix.decode(code)
    assert decoded.name == "Companhia Brasileira de D"
    assert decoded.city == "Sao Jose dos Ca"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"name": "Companhia Brasileira de Distribuição S.A."},
            "nome do recebedor com 41 caracteres; máximo 25",
        ),
        ({"city": "São José dos Campos"}, "cidade com 19 caracteres; máximo 15"),
    ],
)
def test_long_name_and_city_raise_when_not_fitting(kwargs: dict[str, str], message: str) -> None:
    args = {"key": "fulano@example.com", "name": "Fulano", "city": "Recife", "fit_text": False}
    args.update(kwargs)
    with pytest.raises(PixError, match=message):
        pix.encode_static(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "  "}, "nome do recebedor vazio"),
        ({"city": ""}, "cidade vazio"),
        ({"name": "Fulano ☺"}, "nome do recebedor: caractere não permitido no Pix: '☺'"),
        ({"txid": "A" * 26}, "txid inválido"),
        ({"txid": "FAT-123"}, "txid inválido: 'FAT-123'"),
        ({"txid": ""}, "txid inválido"),
        ({"amount_cents": 0}, "valor do Pix deve ser maior que zero"),
        ({"amount_cents": -100}, "valor do Pix deve ser maior que zero"),
        ({"amount_cents": 1_000_000_000_000}, "valor do Pix com 14 caracteres; máximo 13"),
        ({"postal_code": "1310-100"}, "CEP inválido"),
        ({"description": "x" * 80}, r"campo 26 \(conta Pix\) com 124 caracteres; máximo 99"),
        ({"key": PixKey("email", "a" * 78)}, "chave Pix com 78 caracteres; máximo 77"),
        ({"key": PixKey("email", "joão@example.com")}, "chave Pix com caractere não permitido"),
    ],
)
def test_static_encoding_rules(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"key": "fulano@example.com", "name": "Fulano", "city": "Recife"}
    args.update(kwargs)
    with pytest.raises(PixError, match=message):
        pix.encode_static(**args)  # type: ignore[arg-type]


def test_txid_of_25_characters_and_largest_amount_are_accepted() -> None:
    code = pix.encode_static(
        key="fulano@example.com",
        name="Fulano",
        city="Recife",
        txid="A" * 25,
        amount_cents=999_999_999_999,
    )
    decoded = pix.decode(code)
    assert (decoded.txid, decoded.amount_cents) == ("A" * 25, 999_999_999_999)
    assert decoded.raw["54"] == "9999999999.99"


def test_smallest_amount() -> None:
    assert (
        pix.decode(
            pix.encode_static(key="fulano@example.com", name="F", city="R", amount_cents=1)
        ).raw["54"]
        == "0.01"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://pix.example.com/abc", "deve usar https"),
        ("https://" + "x" * 78, "URL do Pix dinâmico com 78 caracteres; máximo 77"),
        ("", "URL do Pix dinâmico com 0 caracteres"),
    ],
)
def test_dynamic_url_rules(url: str, message: str) -> None:
    with pytest.raises(PixError, match=message):
        pix.encode_dynamic(url=url, name="Fulano", city="Recife")


def test_dynamic_code_with_amount() -> None:
    code = pix.encode_dynamic(
        url="psp.example.com/v2/cobv/abc", name="Fulano", city="Recife", amount_cents=5000
    )
    decoded = pix.decode(code)
    assert (decoded.initiation, decoded.url, decoded.amount_cents, decoded.txid) == (
        "dynamic",
        "psp.example.com/v2/cobv/abc",
        5000,
        "***",
    )


# ----------------------------------------------------------------------------- round trips

accented_text = st.text(
    alphabet=string.ascii_letters + string.digits + " .-&áàâãéêíóôõúçÁÀÂÃÉÊÍÓÔÕÚÇ",
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() != "")


def _valid_cnpj(base: str) -> str:
    return base + stdnum_cnpj.calc_check_digits(base)


keys = st.one_of(
    st.uuids().map(lambda u: str(u).upper()),
    st.from_regex(r"[a-z][a-z0-9_]{0,10}(\.[a-z0-9_]{1,10})?@[a-z]{1,10}\.com\.br", fullmatch=True),
    st.tuples(
        st.sampled_from(["11", "21", "31", "41", "51", "61", "71", "81", "85", "92"]),
        st.from_regex(r"9[6-9][0-9]{7}", fullmatch=True),
    ).map(lambda parts: f"+55{parts[0]}{parts[1]}"),
    st.from_regex(r"[0-9A-Z]{8}0001", fullmatch=True).map(_valid_cnpj),
)
txids = st.one_of(st.just("***"), st.from_regex(r"[A-Za-z0-9]{1,25}", fullmatch=True))
amounts = st.one_of(st.none(), st.integers(min_value=1, max_value=999_999_999_999))


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@given(key=keys, name=accented_text, city=accented_text, amount=amounts, txid=txids)
def test_encode_then_decode_gives_the_same_fields(
    key: str, name: str, city: str, amount: int | None, txid: str
) -> None:
    code = pix.encode_static(key=key, name=name, city=city, amount_cents=amount, txid=txid)
    decoded = pix.decode(code)

    assert decoded.key == pix.normalize_pix_key(key).value
    assert decoded.name == _ascii(name)[:25].rstrip()
    assert decoded.city == _ascii(city)[:15].rstrip()
    assert decoded.amount_cents == amount
    assert decoded.txid == txid
    assert decoded.initiation == "static"
    assert code.isascii()
    # Re-encoding the decoded fields gives back the very same payload.
    assert (
        pix.encode_static(
            key=pix.PixKey("evp", decoded.key or ""),
            name=decoded.name,
            city=decoded.city,
            amount_cents=decoded.amount_cents,
            txid=decoded.txid or "***",
        )
        == code
    )


@given(path=st.from_regex(r"[a-z0-9./-]{1,60}", fullmatch=True), amount=amounts)
def test_dynamic_round_trip(path: str, amount: int | None) -> None:
    url = "pix.example.com/" + path
    code = pix.encode_dynamic(url=url, name="Fulano", city="Recife", amount_cents=amount)
    decoded = pix.decode(code)
    assert (decoded.url, decoded.amount_cents) == (url, amount)


# ----------------------------------------------------------------------------- manual's limits


def tlv(field_id: str, value: str) -> str:
    return f"{field_id}{len(value):02d}{value}"


def static_body(*, name: str = "Fulano de Tal", city: str = "BRASILIA", extra: str = "") -> str:
    account = tlv("26", tlv("00", "br.gov.bcb.pix") + tlv("01", "+5511987654321"))
    return (
        tlv("00", "01")
        + account
        + "52040000530398658"
        + "02BR"
        + tlv("59", name)
        + tlv("60", city)
        + extra
        + tlv("62", tlv("05", "***"))
    )


def test_decode_refuses_a_payload_over_512_characters() -> None:
    # Unreserved templates 81-86 pad the code past the limit, each well formed.
    padding = "".join(tlv(f"{n}", tlv("00", "x" * 80)) for n in range(81, 86))
    code = with_crc(static_body(extra=padding))
    assert len(code) == 513 or len(code) > 512

    with pytest.raises(PixError, match="máximo 512"):
        pix.decode(code)


def test_decode_refuses_a_merchant_name_of_26_characters_and_a_city_of_16() -> None:
    assert pix.decode(with_crc(static_body(name="N" * 25))).name == "N" * 25
    with pytest.raises(PixError, match=r"campo 59 .* 26 caracteres; máximo 25"):
        pix.decode(with_crc(static_body(name="N" * 26)))
    with pytest.raises(PixError, match=r"campo 60 .* 16 caracteres; máximo 15"):
        pix.decode(with_crc(static_body(city="C" * 16)))


def test_decode_refuses_a_dynamic_location_with_its_scheme() -> None:
    account = tlv("26", tlv("00", "br.gov.bcb.pix") + tlv("25", "https://pix.example.com/cob/1"))
    body = (
        tlv("00", "01")
        + tlv("01", "12")
        + account
        + "52040000"
        + "5303986"
        + "5802BR"
        + tlv("59", "Fulano de Tal")
        + tlv("60", "BRASILIA")
        + tlv("62", tlv("05", "***"))
    )

    with pytest.raises(PixError, match="sem o esquema"):
        pix.decode(with_crc(body))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (tlv("61", "0131010"), "CEP"),
        (tlv("61", "0131010A"), "CEP"),
    ],
)
def test_decode_checks_the_optional_fields_as_the_encoder_writes_them(
    extra: str, message: str
) -> None:
    with pytest.raises(PixError, match=message):
        pix.decode(with_crc(static_body(extra=extra)))


def test_decode_refuses_a_txid_the_encoder_would_refuse() -> None:
    body = static_body().replace(tlv("62", tlv("05", "***")), tlv("62", tlv("05", "pedido-12")))
    with pytest.raises(PixError, match="txid"):
        pix.decode(with_crc(body))


RECURRENCE = tlv("80", tlv("00", "br.gov.bcb.pix") + tlv("25", "pix.example.com/rec/7f3a9c"))


def test_a_pix_automatico_code_is_recognised_and_said_what_it_is() -> None:
    body = (
        tlv("00", "01")
        + "52040000530398658"
        + "02BR"
        + tlv("59", "Provedor Exemplo")
        + tlv("60", "CURITIBA")
        + tlv("62", tlv("05", "***"))
        + RECURRENCE
    )

    decoded = pix.decode(with_crc(body))

    assert decoded.initiation == "recurrence"
    assert decoded.recurrence_url == "pix.example.com/rec/7f3a9c"
    assert decoded.key is None and decoded.url is None


def test_a_dynamic_code_with_a_recurrence_keeps_both_locations() -> None:
    body = BCB_DYNAMIC[:-8] + RECURRENCE

    decoded = pix.decode(with_crc(body))

    assert decoded.initiation == "dynamic"
    assert decoded.url == "pix.example.com/8b3da2f39a4140d1a91abd93113bd441"
    assert decoded.recurrence_url == "pix.example.com/rec/7f3a9c"


def test_a_recurrence_with_a_scheme_is_refused() -> None:
    bad = tlv("80", tlv("00", "br.gov.bcb.pix") + tlv("25", "https://pix.example.com/rec/1"))
    with pytest.raises(PixError, match="sem o esquema"):
        pix.decode(with_crc(BCB_DYNAMIC[:-8] + bad))
