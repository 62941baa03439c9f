"""A believable synthetic portfolio for `regua demo`, written as the CSV files an ERP exports.

The same seed and reference date give the same files byte for byte. Customers have Brazilian
names, valid CPFs/CNPJs, phones and e-mails (some missing a channel); invoices spread like a
small business's receivables; payment histories follow distinct behaviours: on time, a few days
late as a habit, long overdue, and new customers.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from stdnum.br import cnpj as stdnum_cnpj
from stdnum.br import cpf as stdnum_cpf

from regua.domain.creditor_profile import CreditorProfile
from regua.domain.csv_safety import safe_row
from regua.domain.fees import FeeTerms, charges
from regua.domain.money import format_brl

# The demo's creditor: an example company with every field of a profile set. It lives here,
# for the demo (and tests), and nowhere else: a real creditor's missing field stays missing.
EXAMPLE_CREDITOR = CreditorProfile(
    legal_name="Empresa Exemplo Ltda",
    trade_name="Exemplo",
    document="11222333000181",
    pix_key="11222333000181",
    pix_key_kind="cnpj",
    sender_email="cobranca@exemplo.com.br",
    reply_to="financeiro@exemplo.com.br",
    email="financeiro@exemplo.com.br",
    phone="+551130000000",
    whatsapp="+5511930000000",
    address="Av. Paulista, 1000, Bela Vista",
    city="São Paulo",
    uf="SP",
    postal_code="01310100",
    website="https://www.exemplo.com.br",
    service_hours="de segunda a sexta, das 8h às 18h",
    late_fee_bp=200,
    interest_monthly_bp=100,
)

FIRST_NAMES = (
    "Ana",
    "Maria",
    "Juliana",
    "Fernanda",
    "Patrícia",
    "Aline",
    "Camila",
    "Beatriz",
    "Larissa",
    "Luciana",
    "Vanessa",
    "Gabriela",
    "Mariana",
    "Renata",
    "Tatiane",
    "Francisca",
    "Antônia",
    "Adriana",
    "Sandra",
    "Letícia",
    "José",
    "João",
    "Antônio",
    "Francisco",
    "Carlos",
    "Paulo",
    "Pedro",
    "Lucas",
    "Luiz",
    "Marcos",
    "Luís",
    "Gabriel",
    "Rafael",
    "Daniel",
    "Marcelo",
    "Bruno",
    "Eduardo",
    "Felipe",
    "Raimundo",
    "Rodrigo",
    "Thiago",
    "Matheus",
    "Gustavo",
    "Leonardo",
    "Diego",
    "Vinícius",
    "Sebastião",
    "Márcio",
    "Fábio",
    "Caio",
    "Débora",
    "Érica",
)
SURNAMES = (
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Rodrigues",
    "Ferreira",
    "Alves",
    "Pereira",
    "Lima",
    "Gomes",
    "Costa",
    "Ribeiro",
    "Martins",
    "Carvalho",
    "Almeida",
    "Lopes",
    "Soares",
    "Fernandes",
    "Vieira",
    "Barbosa",
    "Rocha",
    "Dias",
    "Nascimento",
    "Andrade",
    "Moreira",
    "Nunes",
    "Marques",
    "Machado",
    "Mendes",
    "Freitas",
    "Cardoso",
    "Ramos",
    "Gonçalves",
    "Santana",
    "Teixeira",
    "Araújo",
    "Monteiro",
    "Moura",
    "Cavalcanti",
    "Correia",
    "Batista",
    "Campos",
    "Pinto",
    "Castro",
    "Cunha",
    "Azevedo",
    "Brandão",
    "Conceição",
)
COMPANY_WORDS = (
    "Padaria",
    "Mercadinho",
    "Oficina",
    "Farmácia",
    "Papelaria",
    "Auto Peças",
    "Restaurante",
    "Clínica",
    "Construtora",
    "Transportadora",
    "Distribuidora",
    "Academia",
    "Pet Shop",
    "Escritório Contábil",
    "Ótica",
    "Floricultura",
    "Serralheria",
    "Marcenaria",
    "Lanchonete",
    "Hortifruti",
    "Açougue",
    "Salão",
    "Gráfica",
    "Lavanderia",
)
COMPANY_NAMES = (
    "Bom Sabor",
    "Estrela",
    "Progresso",
    "São Jorge",
    "Boa Vista",
    "Primavera",
    "Aliança",
    "Central",
    "Nova Era",
    "Horizonte",
    "União",
    "Real",
    "Santa Luzia",
    "Ipê",
    "Jequitibá",
    "Aurora",
    "Brasil",
    "Vitória",
    "Sol Nascente",
    "Cristal",
)
COMPANY_SUFFIXES = ("Ltda", "ME", "Ltda ME", "EPP", "S.A.")
# (UF, capital, DDD, weight): portfolios concentrate where the business is (Southeast).
PLACES = (
    ("SP", "São Paulo", "11", 30),
    ("SP", "Campinas", "19", 8),
    ("SP", "Santos", "13", 4),
    ("RJ", "Rio de Janeiro", "21", 10),
    ("MG", "Belo Horizonte", "31", 8),
    ("PR", "Curitiba", "41", 5),
    ("RS", "Porto Alegre", "51", 5),
    ("BA", "Salvador", "71", 5),
    ("PE", "Recife", "81", 4),
    ("CE", "Fortaleza", "85", 4),
    ("DF", "Brasília", "61", 3),
    ("GO", "Goiânia", "62", 3),
    ("SC", "Florianópolis", "48", 3),
    ("AM", "Manaus", "92", 2),
    ("PA", "Belém", "91", 2),
    ("ES", "Vitória", "27", 2),
    ("MT", "Cuiabá", "65", 1),
    ("AC", "Rio Branco", "68", 1),
)
# The first digits of each city's CEP range (Correios), so a demo letter's CEP is its city's.
CEP_PREFIX = {
    "São Paulo": "01",
    "Campinas": "13",
    "Santos": "11",
    "Rio de Janeiro": "20",
    "Belo Horizonte": "30",
    "Curitiba": "80",
    "Porto Alegre": "90",
    "Salvador": "40",
    "Recife": "50",
    "Fortaleza": "60",
    "Brasília": "70",
    "Goiânia": "74",
    "Florianópolis": "88",
    "Manaus": "69",
    "Belém": "66",
    "Vitória": "29",
    "Cuiabá": "78",
    "Rio Branco": "69",
}
STREETS = (
    "Rua das Flores",
    "Av. Brasil",
    "Rua XV de Novembro",
    "Rua São Bento",
    "Av. Getúlio Vargas",
    "Rua Sete de Setembro",
    "Rua Tiradentes",
    "Av. Independência",
    "Rua Dom Pedro II",
    "Rua Barão do Rio Branco",
    "Rua Marechal Deodoro",
    "Av. Santos Dumont",
)
CONSUMER_PRODUCTS = (
    ("Mensalidade internet fibra 300 Mega", 9990, 0.15),
    ("Mensalidade internet fibra 600 Mega", 12990, 0.15),
    ("Plano TV + internet", 18990, 0.2),
    ("Instalação e roteador Wi-Fi", 29900, 0.3),
    ("Parcela de móveis planejados", 45000, 0.35),
    ("Mensalidade academia", 11990, 0.1),
)
BUSINESS_PRODUCTS = (
    ("Link dedicado 100 Mega", 89000, 0.15),
    ("Material de escritório", 65000, 0.6),
    ("Manutenção de equipamentos", 120000, 0.5),
    ("Licença de sistema de gestão", 34900, 0.1),
    ("Suprimentos de limpeza", 48000, 0.5),
    ("Consultoria fiscal mensal", 250000, 0.2),
)
MONTHS_PT = ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez")

BEHAVIOURS = (("pontual", 0.55), ("atrasador", 0.25), ("risco", 0.10), ("novo", 0.10))


@dataclass(frozen=True)
class DemoFiles:
    customers: Path
    invoices: Path
    payments: Path
    future_payments: Path
    opted_out: list[tuple[str, str]]  # (customer external id, channel)
    customers_count: int
    invoices_count: int
    payments_count: int


def _cpf(rng: random.Random) -> str:
    base = "".join(str(rng.randint(0, 9)) for _ in range(9))
    if len(set(base)) == 1:
        base = "1" + base[1:] if base[0] != "1" else "2" + base[1:]
    number = base + _cpf_check_digits(base)
    return str(stdnum_cpf.format(stdnum_cpf.validate(number)))


def _cpf_check_digits(base: str) -> str:
    # python-stdnum keeps its CPF check-digit function private; the mod-11 rule (BRAZIL.md §5)
    # is short, and the result is still validated by stdnum above.
    digits = [int(d) for d in base]
    for _ in range(2):
        total = sum(d * w for d, w in zip(digits, range(len(digits) + 1, 1, -1), strict=True))
        remainder = total % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return f"{digits[-2]}{digits[-1]}"


def _cnpj(rng: random.Random) -> str:
    base = "".join(str(rng.randint(0, 9)) for _ in range(8)) + "0001"
    number = base + stdnum_cnpj.calc_check_digits(base)
    return str(stdnum_cnpj.format(number))


def _ascii_slug(text: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum() or ch == ".")


def _brl(cents: int) -> str:
    return format_brl(cents).replace("R$ ", "")


def generate(folder: Path, *, customers: int, seed: int, today: date) -> DemoFiles:
    """Write clientes.csv, titulos.csv and pagamentos.csv into `folder`."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    customer_path = folder / "clientes.csv"
    invoice_path = folder / "titulos.csv"
    payment_path = folder / "pagamentos.csv"
    future_path = folder / "pagamentos_futuros.csv"
    opted_out: list[tuple[str, str]] = []
    place_weights = [p[3] for p in PLACES]
    invoice_count = payment_count = 0
    invoice_number = 10_000
    with (
        customer_path.open("w", encoding="utf-8", newline="") as cf,
        invoice_path.open("w", encoding="utf-8", newline="") as inf,
        payment_path.open("w", encoding="utf-8", newline="") as pf,
        future_path.open("w", encoding="utf-8", newline="") as ff,
    ):
        cw = csv.writer(cf, delimiter=";")
        iw = csv.writer(inf, delimiter=";")
        pw = csv.writer(pf, delimiter=";")
        cw.writerow(
            [
                "codigo_cliente",
                "nome",
                "cpf_cnpj",
                "email",
                "celular",
                "telefone_2",
                "cidade",
                "uf",
                "endereco",
                "cep",
                "tags",
            ]
        )
        iw.writerow(
            [
                "id_titulo",
                "numero",
                "codigo_cliente",
                "descricao",
                "emissao",
                "vencimento",
                "valor",
                "situacao",
            ]
        )
        pw.writerow(["id_pagamento", "id_titulo", "data_pagamento", "valor", "forma"])
        fw = csv.writer(ff, delimiter=";")
        fw.writerow(["id_pagamento", "id_titulo", "data_pagamento", "valor", "forma"])
        for index in range(customers):
            external_id = f"C{index + 1:06d}"
            is_company = rng.random() < 0.3
            uf, city, ddd, _w = rng.choices(PLACES, weights=place_weights)[0]
            if is_company:
                name = (
                    f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_NAMES)} "
                    f"{rng.choice(COMPANY_SUFFIXES)}"
                )
                document = _cnpj(rng)
                contact_name = rng.choice(FIRST_NAMES)
            else:
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"
                document = _cpf(rng)
                contact_name = name.split()[0]
            email = ""
            if rng.random() > 0.12:
                domain = rng.choice(
                    (
                        "gmail.com",
                        "hotmail.com",
                        "outlook.com",
                        "yahoo.com.br",
                        "uol.com.br",
                        "bol.com.br",
                    )
                )
                slug = _ascii_slug(name.split()[0] + "." + name.split()[-1])
                if is_company:
                    slug = _ascii_slug(contact_name) + ".financeiro"
                email = f"{slug}{rng.randint(1, 99)}@{domain}"
            mobile = ""
            if rng.random() > 0.08:
                number = f"9{rng.randint(6000, 9999)}-{rng.randint(0, 9999):04d}"
                style = rng.random()
                mobile = (
                    f"({ddd}) {number}"
                    if style < 0.6
                    else f"{ddd}{number.replace('-', '')}"
                    if style < 0.8
                    else f"+55 {ddd} {number}"
                )
            landline = ""
            if rng.random() < 0.2:
                landline = f"({ddd}) {rng.randint(2000, 5999)}-{rng.randint(0, 9999):04d}"
            # The street line; the importer adds the city, the state and the CEP below it.
            address = f"{rng.choice(STREETS)}, {rng.randint(10, 3000)}"
            district = rng.randint(10000, 99999) % 1000
            cep = f"{CEP_PREFIX[city]}{district:03d}-{rng.randint(0, 999):03d}"
            behaviour = rng.choices([b for b, _ in BEHAVIOURS], weights=[w for _, w in BEHAVIOURS])[
                0
            ]
            tags = "empresa" if is_company else "consumidor"
            cw.writerow(
                safe_row(
                    [
                        external_id,
                        name,
                        document,
                        email,
                        mobile,
                        landline,
                        city,
                        uf,
                        address,
                        cep,
                        tags,
                    ]
                )
            )
            if mobile and rng.random() < 0.03:
                opted_out.append((external_id, "whatsapp"))
            if email and rng.random() < 0.02:
                opted_out.append((external_id, "email"))
            products = BUSINESS_PRODUCTS if is_company else CONSUMER_PRODUCTS
            product, base_cents, spread = rng.choice(products)
            due_day = rng.choice((5, 10, 10, 15, 20, 25, 28))
            months = 2 if behaviour == "novo" else rng.randint(5, 17)
            for due in _monthly_dues(today, months, due_day, rng):
                invoice_number += 1
                invoice_count += 1
                cents = max(1000, int(base_cents * (1 + rng.uniform(-spread, spread))))
                if spread <= 0.15:
                    cents = base_cents  # subscriptions bill the same amount every month
                issue = due - timedelta(days=rng.choice((10, 15, 20, 30)))
                invoice_id = f"T{invoice_number:07d}"
                status = "aberto"
                if rng.random() < 0.01:
                    status = "cancelado"
                elif rng.random() < 0.01:
                    status = "contestado"
                description = f"{product} - {MONTHS_PT[due.month - 1]}/{due.year}"
                iw.writerow(
                    [
                        invoice_id,
                        f"{invoice_number}",
                        external_id,
                        description,
                        issue.strftime("%d/%m/%Y"),
                        due.strftime("%d/%m/%Y"),
                        _brl(cents),
                        status,
                    ]
                )
                if status != "aberto":
                    continue
                paid_on = _payment_date(behaviour, due, rng)
                if paid_on is None:
                    continue
                owed = charges(cents, due, paid_on, FeeTerms(is_consumer=not is_company))
                amount = owed.total_cents
                if rng.random() < 0.03:
                    amount = amount // 2  # partial payment: the rest stays open
                payment_count += 1
                # Payments still to come are what the simulated days of `regua demo` receive.
                writer = pw if paid_on < today else fw
                writer.writerow(
                    [
                        f"P{payment_count:07d}",
                        invoice_id,
                        paid_on.strftime("%d/%m/%Y"),
                        _brl(amount),
                        rng.choice(("pix", "pix", "boleto", "boleto", "transferencia")),
                    ]
                )
    return DemoFiles(
        customer_path,
        invoice_path,
        payment_path,
        future_path,
        opted_out,
        customers,
        invoice_count,
        payment_count,
    )


def _monthly_dues(today: date, months: int, due_day: int, rng: random.Random) -> Iterator[date]:
    """`months` consecutive monthly due dates ending one or two months after today."""
    ahead = rng.choice((0, 1, 1, 2))
    year, month = today.year, today.month + ahead
    while month > 12:
        year, month = year + 1, month - 12
    for _ in range(months):
        yield date(year, month, min(due_day, 28))
        month -= 1
        if month == 0:
            year, month = year - 1, 12


def _payment_date(behaviour: str, due: date, rng: random.Random) -> date | None:
    if behaviour == "pontual":
        return due - timedelta(days=rng.choice((0, 0, 1, 2, 3, 5)))
    if behaviour == "atrasador":
        return due + timedelta(days=int(rng.triangular(1, 25, 6)))
    if behaviour == "risco":
        if rng.random() < 0.55:
            return None
        return due + timedelta(days=int(rng.triangular(25, 150, 45)))
    return due + timedelta(days=rng.choice((-2, 0, 0, 3, 8)))  # novo: unknown yet
