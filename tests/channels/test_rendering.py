"""Rendering: exact pt-BR output, filters, overrides, the sandbox, and the call script."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import regua
from regua.channels.call_scripts import (
    lint_call_script,
    load_call_script,
    render_call_script,
)
from regua.channels.rendering import (
    TemplateError,
    TemplateRenderer,
    TemplateSecurityError,
    compile_template_text,
    load_user_template_text,
    render,
)
from regua.channels.sms_length import sms_length, to_gsm7
from regua.channels.template_samples import sample_context
from regua.errors import InputError

TODAY = date(2026, 11, 23)


def render_text(text: str, **context: object) -> str:
    return compile_template_text(text).render({"today": TODAY, **context})


@pytest.mark.parametrize(
    ("template", "context", "expected"),
    [
        ("{{ 123456|brl }}", {}, "R$ 1.234,56"),
        ("{{ 5|brl }}", {}, "R$ 0,05"),
        ("{{ d|data }}", {"d": date(2026, 11, 23)}, "23/11/2026"),
        ("{{ d|data_extenso }}", {"d": date(2026, 11, 23)}, "23 de novembro de 2026"),
        ("{{ d|relativo }}", {"d": date(2026, 11, 23)}, "hoje"),
        ("{{ d|relativo }}", {"d": date(2026, 11, 24)}, "amanhã"),
        ("{{ d|relativo }}", {"d": date(2026, 11, 22)}, "ontem"),
        ("{{ d|relativo }}", {"d": date(2026, 11, 26)}, "em 3 dias"),
        ("{{ d|relativo }}", {"d": date(2026, 11, 20)}, "há 3 dias"),
        ("{{ d|relativo }}", {"d": date(2027, 1, 7)}, "em 45 dias"),
        ("{{ '11222333000181'|documento }}", {}, "11.222.333/0001-81"),
        ("{{ '529.982.247-25'|documento }}", {}, "529.982.247-25"),
        ("{{ '11987654321'|telefone }}", {}, "(11) 98765-4321"),
        ("{{ 'MARIA DA CONCEIÇÃO SOUZA'|nome }}", {}, "Maria da Conceição Souza"),
        ("{{ 'PADARIA SOL NASCENTE ME'|nome }}", {}, "Padaria Sol Nascente ME"),
        ("{{ 'Ótica Horizonte EPP'|nome }}", {}, "Ótica Horizonte EPP"),
        ("{{ 'joão de souza'|nome }}", {}, "João de Souza"),
        ("{{ 1|dias }} / {{ -3|dias }}", {}, "1 dia / 3 dias"),
        ("{{ today|mais_dias(10)|data }}", {}, "03/12/2026"),
    ],
)
def test_ptbr_filters(template: str, context: dict[str, object], expected: str) -> None:
    assert render_text(template, **context) == expected


@pytest.mark.parametrize("channel", ["email", "whatsapp"])
def test_the_portal_line_promises_installments_only_for_overdue_invoices(channel: str) -> None:
    # The portal pays by PIX and offers installments for overdue debt; it shows no boleto.
    before = render("lembrete_vencimento", channel, sample_context(TODAY, offset=-3))
    after = render("atraso_amigavel", channel, sample_context(TODAY, offset=3))
    for rendered in (before, after):
        assert "boleto ou parcelamento" not in rendered.text
        assert rendered.html is None or "boleto ou parcelamento" not in rendered.html
    assert "parcelamento)" not in before.text and "ou parcelamento:" not in before.text
    assert "(PIX ou parcelamento)" in after.text or "com PIX ou parcelamento:" in after.text
    if channel == "email":
        assert before.html is not None and after.html is not None
        assert ">PIX</span>" in before.html
        assert ">PIX ou parcelamento</span>" in after.html


def test_brl_refuses_floats() -> None:
    renderer = TemplateRenderer()
    with pytest.raises(TemplateError, match="centavos inteiros"):
        renderer.render_string("{{ 12.5|brl }}", {}, where="teste.txt.j2")


def test_email_plain_text_is_exact() -> None:
    rendered = render("atraso_amigavel", "email", sample_context(TODAY, offset=3))

    assert rendered.subject == "Não identificamos o pagamento da fatura de 20/11/2026"
    assert rendered.text == (
        "Olá, Maria.\n\n"
        "Ainda não identificamos o pagamento da fatura de Plano Internet Fibra 300 Mega, que "
        "venceu em 20/11/2026. Pode ter sido um esquecimento, acontece com todo mundo.\n\n"
        "Com o atraso, o valor passa a incluir multa e juros de mora, como prevê o contrato. "
        "Este é o valor atualizado até hoje, 23/11/2026:\n\n"
        "Fatura NF-1042: Plano Internet Fibra 300 Mega (vencimento em 20/11/2026)\n"
        "  Valor original: R$ 149,90\n"
        "  Multa: R$ 3,00\n"
        "  Juros de mora: R$ 0,15\n"
        "  Total: R$ 153,05\n\n"
        "Como pagar:\n"
        "- PIX copia e cola (copie o código abaixo e cole no aplicativo do seu banco):\n"
        "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865"
        "802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D\n"
        "- Linha digitável do boleto: 34191.79001 01043.510047 91020.150008 1 12340000014990\n"
        "- Pela internet, com PIX ou parcelamento: "
        "https://pagar.conectafibra.com.br/p/7Hk2QaLm9xVb3TnR8wYc1ZdEf4GhJ5KpQ6s\n\n"
        "Se estiver com alguma dificuldade, conte para a gente: podemos combinar uma nova data "
        "ou um parcelamento.\n\n"
        "Prefere conversar com uma pessoa? Fale com a nossa equipe pelo telefone (11) 4002-8922, "
        "pelo WhatsApp (11) 98765-4321 ou pelo e-mail atendimento@conectafibra.com.br, de "
        "segunda a sexta, das 8h às 20h, e aos sábados, das 8h às 14h.\n\n"
        "Se você já pagou, obrigado e desconsidere esta mensagem. A confirmação de um boleto "
        "pode levar até 3 dias úteis.\n\n"
        "Atenciosamente,\n"
        "Conecta Fibra\n"
        "Conecta Fibra Ltda - CNPJ 11.222.333/0001-81\n"
        "Rua das Flores, 123, Centro, São Paulo - SP, 01010-000\n"
        "www.conectafibra.com.br"
    )
    assert rendered.html is not None and "<strong>R$&nbsp;153,05</strong>" in rendered.html


def test_payment_options_appear_only_when_present() -> None:
    context = sample_context(TODAY, offset=3)
    context["payment"] = {
        "pix_code": None,
        "pix_qr_svg": None,
        "boleto_line": "34191.79001 01043.510047 91020.150008 1 12340000014990",
        "portal_url": None,
    }
    text = render("atraso_amigavel", "email", context).text
    assert "Linha digitável do boleto" in text
    assert "PIX copia e cola" not in text and "Pela internet" not in text
    sms = render("atraso_amigavel", "sms", context).text
    assert "Linha do boleto: 34191.79001" in sms


def test_sms_is_gsm7_even_with_accented_data() -> None:
    context = sample_context(TODAY, offset=0)
    context["customer"]["first_name"] = "Conceição"
    context["invoices"][0]["description"] = "Manutenção “premium”"
    rendered = render("vence_hoje", "sms", context)
    assert rendered.text == (
        "Conecta Fibra Ltda (CNPJ 11.222.333/0001-81): Ola, Conceicao! Sua fatura Manutencao "
        '"premium" de R$ 149,90 vence hoje. Pague em '
        "https://pagar.conectafibra.com.br/p/7Hk2QaLm9xVb3TnR8wYc1ZdEf4GhJ5KpQ6s Duvidas: "
        "(11) 98765-4321. Nao quer mais SMS? Responda SAIR"
    )
    assert sms_length(rendered.text).encoding == "gsm7"
    assert rendered.sms_segments == 2


def test_every_default_sms_fits_two_segments() -> None:
    # With a portal link as long as a real one (35-character token). An SMS that carries a PIX
    # copia e cola (the early-payment discount's: 150 to 180 characters) may take a third part.
    renderer = TemplateRenderer()
    for name in renderer.template_names():
        offset = renderer.meta(name)["offset"]
        for count in (1, 3):
            context = sample_context(TODAY, offset=offset, invoices=count)
            rendered = renderer.render(name, "sms", context)
            assert (
                context["payment"]["portal_url"] in rendered.text
                or name == "agradecimento"
                or (context["payment"]["early"] is not None)
            ), name
            budget = 3 if "br.gov.bcb.pix" in rendered.text else 2
            assert rendered.sms_segments is not None and rendered.sms_segments <= budget, name


def test_html_is_escaped_but_text_is_not() -> None:
    context = sample_context(TODAY, offset=-3)
    context["invoices"][0]["description"] = "Cabo <HDMI> & conector"
    email = render("lembrete_vencimento", "email", context)
    assert "Cabo &lt;HDMI&gt; &amp; conector" in (email.html or "")
    assert "Cabo <HDMI> & conector" in email.text


def test_whatsapp_template_params_and_body() -> None:
    rendered = render("vence_hoje", "whatsapp", sample_context(TODAY, offset=0, invoices=2))
    assert rendered.whatsapp_template == "regua_vence_hoje"
    assert rendered.whatsapp_params[:4] == ("Maria", "2 faturas", "R$ 229,90", "23/11/2026")
    assert rendered.whatsapp_template_text is not None
    assert rendered.whatsapp_template_text.startswith(
        "Olá, Maria! O pagamento de 2 faturas, no valor de R$ 229,90, vence hoje, 23/11/2026."
    )


def test_user_folder_overrides_one_file(tmp_path: Path) -> None:
    folder = tmp_path / "messages" / "vence_hoje"
    folder.mkdir(parents=True)
    (folder / "sms.j2").write_text("{{ creditor.name }}: oi, {{ customer.first_name }}.", "utf-8")
    renderer = TemplateRenderer(tmp_path)
    context = sample_context(TODAY, offset=0)

    assert renderer.render("vence_hoje", "sms", context).text == "Conecta Fibra Ltda: oi, Maria."
    assert renderer.render("vence_hoje", "email", context).subject == (
        "Sua fatura vence hoje (23/11/2026)"
    )


def test_a_user_folder_file_edited_while_running_is_rendered_anew(tmp_path: Path) -> None:
    import os

    folder = tmp_path / "messages" / "vence_hoje"
    folder.mkdir(parents=True)
    sms = folder / "sms.j2"
    sms.write_text("Oi, {{ customer.first_name }}.", "utf-8")
    renderer = TemplateRenderer(tmp_path)
    context = sample_context(TODAY, offset=0)
    assert renderer.render("vence_hoje", "sms", context).text == "Oi, Maria."

    sms.write_text("Olá de novo, {{ customer.first_name }}.", "utf-8")
    stat = sms.stat()
    os.utime(sms, (stat.st_atime, stat.st_mtime + 10))  # a later change, whatever the clock
    assert renderer.render("vence_hoje", "sms", context).text == "Ola de novo, Maria."


def test_a_context_key_named_like_a_dict_method_reads_the_key() -> None:
    renderer = load_user_template_text(
        "vence_hoje", {"sms.j2": "{{ extra.items }}, {{ extra.keys()|list|length }} chave"}
    )
    context = {**sample_context(TODAY), "extra": {"items": "3 itens"}}
    assert renderer.render("vence_hoje", "sms", context).text == "3 itens, 1 chave"


def test_user_texts_are_compiled_at_once_with_the_line_of_the_error() -> None:
    with pytest.raises(TemplateError, match=r"sms.j2, linha 2"):
        load_user_template_text("vence_hoje", {"sms.j2": "Olá\n{% if %}"})
    renderer = load_user_template_text("vence_hoje", {"sms.j2": "Olá, {{ customer.first_name }}"})
    assert renderer.render("vence_hoje", "sms", sample_context(TODAY)).text == "Ola, Maria"


def test_missing_data_is_an_error_not_a_hole() -> None:
    renderer = load_user_template_text("vence_hoje", {"sms.j2": "{{ customer.apelido }}"})
    with pytest.raises(TemplateError, match="usa um dado que não existe"):
        renderer.render("vence_hoje", "sms", sample_context(TODAY))


def test_empty_whatsapp_param_is_refused() -> None:
    context = sample_context(TODAY, offset=0)
    context["customer"]["first_name"] = ""
    with pytest.raises(TemplateError, match="ficou vazio"):
        render("vence_hoje", "whatsapp", context)


@pytest.mark.parametrize(
    "attack",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ range.__init__.__globals__ }}",
        "{{ customer._private }}",
        "{{ customer.__class__ }}",
        "{{ invoices.append(1) }}",
        "{{ 'x' * 100000000 }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_sandbox_blocks_python_internals(attack: str) -> None:
    renderer = load_user_template_text("vence_hoje", {"sms.j2": attack})
    with pytest.raises(TemplateSecurityError, match="tentou acessar partes internas"):
        renderer.render("vence_hoje", "sms", sample_context(TODAY))


def test_unknown_template_or_channel() -> None:
    with pytest.raises(TemplateError, match="não tem versão para o canal"):
        render("nao_existe", "sms", sample_context(TODAY))
    with pytest.raises(TemplateError, match="roteiros"):
        render("vence_hoje", "phone", sample_context(TODAY))


def test_to_gsm7() -> None:
    assert to_gsm7("Olá, João! Ação “já” – café € ✓") == 'Ola, Joao! Acao "ja" - café € '


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "gsm7", 0, 1),
        ("a" * 160, "gsm7", 160, 1),
        ("a" * 161, "gsm7", 161, 2),
        ("a" * 306, "gsm7", 306, 2),
        ("a" * 307, "gsm7", 307, 3),
        ("€" * 80, "gsm7", 160, 1),  # extension characters count twice
        ("a" * 152 + "€" + "a" * 152, "gsm7", 306, 3),  # an escape pair never straddles parts
        ("ã" * 70, "ucs2", 70, 1),
        ("ã" * 71, "ucs2", 71, 2),
        ("😀" * 35, "ucs2", 70, 1),  # surrogate pairs count as two units
    ],
)
def test_sms_length(text: str, encoding: str, units: int, segments: int) -> None:
    length = sms_length(text)
    assert (length.encoding, length.units, length.segments) == (encoding, units, segments)


def test_call_script_is_rendered_and_branches_cover_the_hard_answers() -> None:
    script = render_call_script(
        load_call_script("roteiro_negociacao"), sample_context(TODAY, offset=10)
    )
    assert script.start == "apresentacao"
    assert script.step("terceiro").record == "not_customer"
    assert script.step("ja_pagou").pause_collection is True
    assert script.step("nao_reconhece").record == "dispute"
    assert script.step("registrar_promessa").capture == ("amount_cents", "date", "means")
    answers = [b.when for b in script.step("informar_debito").branches]
    assert '"Já paguei"' in answers
    assert '"Estou desempregado" ou passa por dificuldade financeira' in answers
    assert script.step("informar_debito").say.startswith(
        "Obrigado, Maria. Estou ligando porque consta em aberto a fatura de Plano Internet "
        "Fibra 300 Mega, que venceu em 13/11/2026. O valor atualizado hoje é R$ 153,40"
    )


def _script(tmp_path: Path, text: str) -> TemplateRenderer:
    (tmp_path / "scripts").mkdir(exist_ok=True)
    (tmp_path / "scripts" / "teste.yaml").write_text(text, "utf-8")
    return TemplateRenderer(tmp_path)


def test_call_script_with_a_dangling_goto_is_rejected(tmp_path: Path) -> None:
    renderer = _script(
        tmp_path,
        "name: teste\ntitle: T\nstart: a\nsteps:\n"
        "  - {id: a, title: A, say: Olá, branches: [{when: sim, goto: b}]}\n",
    )
    with pytest.raises(InputError, match=r"scripts/teste.yaml: .*inexistente: b"):
        load_call_script("teste", renderer=renderer)


def test_script_that_mentions_the_debt_before_identity_fails_lint(tmp_path: Path) -> None:
    renderer = _script(
        tmp_path,
        "name: teste\ntitle: T\nstart: a\nidentity_check: b\nsteps:\n"
        "  - {id: a, title: A, say: 'Olá, da {{ creditor.name }}, sobre sua fatura em atraso.',"
        " branches: [{when: sim, goto: b}]}\n"
        "  - {id: b, title: B, say: 'Confirme seu CPF.', end: true}\n",
    )
    [issue] = lint_call_script("teste", renderer=renderer, today=TODAY)
    assert issue.issue.code == "divida_antes_da_identificacao"
    assert "'a'" in issue.issue.message_pt


def test_whatsapp_spec_and_params_are_read_once_and_again_when_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import yaml

    import regua.channels.rendering as rendering

    folder = tmp_path / "messages" / "vence_hoje"
    folder.mkdir(parents=True)
    spec = folder / "whatsapp.yaml"
    spec.write_text(
        'name: teste_um\nbody: "Olá, {{1}}."\nparams: ["{{ customer.first_name }}"]\n', "utf-8"
    )
    renderer = TemplateRenderer(tmp_path)
    loads: list[str] = []
    compiles: list[str] = []
    real_load, real_compile = yaml.safe_load, rendering.compile_template_text
    monkeypatch.setattr(
        rendering.yaml, "safe_load", lambda text: loads.append(text) or real_load(text)
    )
    monkeypatch.setattr(
        rendering,
        "compile_template_text",
        lambda text, **kw: compiles.append(text) or real_compile(text, **kw),
    )
    context = sample_context(TODAY, offset=0)

    for _ in range(3):
        rendered = renderer.render("vence_hoje", "whatsapp", context)
        assert (rendered.whatsapp_template, rendered.whatsapp_template_text) == (
            "teste_um",
            "Olá, Maria.",
        )
    assert len(loads) == 1
    assert compiles == ["{{ customer.first_name }}"]

    spec.write_text(
        'name: teste_dois\nbody: "Oi, {{1}}!"\nparams: ["{{ customer.name }}"]\n', "utf-8"
    )
    stat = spec.stat()
    os.utime(spec, (stat.st_atime, stat.st_mtime + 10))  # a later change, whatever the clock
    rendered = renderer.render("vence_hoje", "whatsapp", context)
    assert rendered.whatsapp_template == "teste_dois"
    assert rendered.whatsapp_template_text == "Oi, Maria da Conceição Souza!"
    assert len(loads) == 2


def test_a_broken_file_is_reported_by_the_render_not_taken_for_missing() -> None:
    renderer = load_user_template_text("vence_hoje", {"sms.j2": "Olá"}).with_texts(
        {"messages/vence_hoje/email.subject.j2": "{% if %}"}
    )
    with pytest.raises(TemplateError, match=r"email.subject.j2, linha 1"):
        renderer.render("vence_hoje", "email", sample_context(TODAY))


def test_compiling_every_message_ahead_leaves_a_broken_file_to_its_render(tmp_path: Path) -> None:
    packaged = TemplateRenderer().compile_messages()
    assert packaged == len(list((Path(regua.__file__).parent / "templates/messages").rglob("*.j2")))
    folder = tmp_path / "messages" / "vence_hoje"
    folder.mkdir(parents=True)
    (folder / "sms.j2").write_text("Olá {% if %}", "utf-8")
    (folder / "whatsapp.j2").write_text("Olá, {{ customer.first_name }}.", "utf-8")
    renderer = TemplateRenderer(tmp_path)

    assert renderer.compile_messages() == packaged - 1  # sms.j2 replaced by a broken one
    with pytest.raises(TemplateError, match=r"sms.j2, linha 1"):
        renderer.render("vence_hoje", "sms", sample_context(TODAY))


def test_a_whatsapp_template_s_discount_version_is_checked_like_the_template(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "messages" / "lembrete_vencimento"
    folder.mkdir(parents=True)
    base = 'name: lembrete\nbody: "Olá, {{1}}."\nparams: ["{{ customer.first_name }}"]\n'
    context = sample_context(TODAY, offset=-7)  # the discount holds
    (folder / "whatsapp.yaml").write_text(base + "early_payment: sim\n", "utf-8")
    with pytest.raises(TemplateError, match="'early_payment' deve ter 'name', 'body'"):
        TemplateRenderer(tmp_path).render("lembrete_vencimento", "whatsapp", context)
    (folder / "whatsapp.yaml").write_text(
        base + 'early_payment:\n  name: lembrete_desconto\n  body: "{{1}} paga {{2}}."\n'
        '  params: ["{{ customer.first_name }}"]\n',
        "utf-8",
    )
    with pytest.raises(TemplateError, match="early_payment: o corpo usa"):
        TemplateRenderer(tmp_path).render("lembrete_vencimento", "whatsapp", context)
    (folder / "whatsapp.yaml").write_text(
        base + 'early_payment:\n  name: lembrete_desconto\n  body: "{{1}} paga {{2}}."\n'
        '  params: ["{{ customer.first_name }}", "{{ payment.early.amount_cents|brl }}"]\n',
        "utf-8",
    )
    renderer = TemplateRenderer(tmp_path)
    early = renderer.render("lembrete_vencimento", "whatsapp", context)
    assert (early.whatsapp_template, early.whatsapp_template_text) == (
        "lembrete_desconto",
        "Maria paga R$ 146,90.",
    )
    assert early.whatsapp_language == "pt_BR"  # the template's, unless it says otherwise
    # Without the discount (here: the reminder three days before), the template itself.
    plain = renderer.render("lembrete_vencimento", "whatsapp", sample_context(TODAY, offset=-3))
    assert (plain.whatsapp_template, plain.whatsapp_template_text) == ("lembrete", "Olá, Maria.")
