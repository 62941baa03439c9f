"""Tone lint for collection messages: what CDC art. 42, 42-A and 71 forbid or require.

`lint_text` reads one rendered message (or call-script line) and returns `LintIssue` values; it
never raises for a finding. Rules, each with a stable `code`:

- ``ameaca`` (error): threats and false legal consequences — prisão, polícia, processo criminal,
  "vamos acionar", "sua última chance", protesto imediato, "nome sujo" (CDC art. 42 and 71).
- ``constrangimento`` (error): shaming or ridicule — caloteiro, vergonha, mau pagador,
  irresponsável (CDC art. 42: the consumer is not to be exposed to ridicule).
- ``terceiros`` (error): telling or contacting family, employer, neighbours or colleagues about
  the debt (CDC art. 42 and 71; LGPD art. 6 purpose and necessity).
- ``pressao`` (warning): false urgency ("urgente", "último aviso").
- ``caixa_alta`` (warning): shouting — two or more words of three or more letters fully in
  capitals on one line, acronyms such as PIX, CPF, CNPJ and the creditor's own name excepted.
- ``pontuacao`` (warning): pressure punctuation ("!!", "?!", more than three "!").
- ``credor_nao_identificado`` (error): the creditor's name and CPF/CNPJ do not both appear
  (CDC art. 42-A). Phone scripts only need the name: the law speaks of documents.
- ``sem_opt_out`` (error): an SMS or WhatsApp message without "responda SAIR" (or PARE).
- ``tamanho`` (error/warning): over the channel limit — SMS over 3 segments (error) or over 2
  (warning), SMS outside GSM-7 (warning: 70-character segments), WhatsApp template body over
  1024 characters or free text over 4096 (error), e-mail subject over 78 characters (warning).

Matching ignores case and accents, so "prisao" in an SMS written without accents is caught too.
This module is pure: SMS segment counts come from the caller (`regua.channels.sms_length`),
because the domain does not import adapters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

WHATSAPP_TEMPLATE_MAX = 1024  # Meta: body text of a message template
WHATSAPP_TEXT_MAX = 4096  # Meta: free-text message inside the 24 h conversation window
EMAIL_SUBJECT_MAX = 78  # RFC 5322 §2.1.1 line length; longer subjects are cut in inboxes
SMS_SEGMENTS_WARN = 2  # the default library stays within two segments
SMS_SEGMENTS_MAX = 3
# A PIX copia e cola is 150 to 180 characters by itself: an SMS that carries one (the discount's,
# or the only way to pay) is allowed its third part without a warning.
_PIX_PAYLOAD = re.compile(r"000201\S*br\.gov\.bcb\.pix\S{40,}", re.IGNORECASE)

ALLOWED_CAPITALS = frozenset(
    {
        "PIX", "CPF", "CNPJ", "SMS", "SAIR", "PARE", "CDC", "SPC", "SCPC", "SERASA", "BR", "UF",
        "LGPD", "SP", "RJ", "MG", "CEP", "DDD", "URL", "PDF", "LTDA", "EIRELI", "MEI", "NF",
        "NFE", "SAC", "FAQ", "OK", "CNH", "INSS", "FGTS", "IPCA", "SELIC", "CNAB", "TED", "DOC",
        "QR", "WHATSAPP", "AR", "RG", "SA", "ME", "EPP", "PROCON",
    }
)  # fmt: skip


@dataclass(frozen=True)
class LintIssue:
    code: str
    message_pt: str
    line: int | None  # 1-based line of the text (or subject); None for the whole message
    severity: Severity = "error"
    part: Literal["text", "subject"] = "text"


@dataclass(frozen=True)
class _Rule:
    code: str
    severity: Severity
    pattern: re.Pattern[str]
    message: str  # "{found}" is replaced by the matched words


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


# Patterns are written without accents and in lower case: they run on the folded text.
_RULES: tuple[_Rule, ...] = (
    _Rule(
        "ameaca",
        "error",
        _rx(
            r"pris(?:ao|oes)",
            r"pres[oa]s?",
            r"prender",
            r"cadeia",
            r"policia\w*",
            r"delegacia",
            r"boletim de ocorrencia",
            r"processo criminal",
            r"crime",
            r"criminal\w*",
            r"estelionat\w+",
            r"(?:vamos|iremos|vou|vai|vao) (?:acionar|processar|protestar|negativar)",
            r"acionaremos",
            r"(?:sua|esta e a) ultima (?:chance|oportunidade)",
            r"protesto imediato",
            r"protestad[oa]s? imediatamente",
            r"negativa\w* imediat\w+",
            r"nome sujo",
            r"sujar (?:o )?seu nome",
            r"oficial de justica",
            r"penhora\w*",
            r"bloqueio de bens",
            r"busca e apreensao",
            r"consequencias graves",
            r"medidas (?:drasticas|cabiveis|severas)",
            r"perder (?:sua|seu|o|a) (?:casa|emprego|carro|imovel)",
        ),
        "Linguagem de ameaça ou consequência intimidatória: “{found}”. A cobrança não pode "
        "ameaçar nem afirmar consequências falsas (CDC art. 42 e 71).",
    ),
    _Rule(
        "constrangimento",
        "error",
        _rx(
            r"calot\w+",
            r"vergonh\w*",
            r"envergonh\w+",
            r"ma[ua] pagador[a]?",
            r"maus pagadores",
            r"irresponsave(?:l|is)",
            r"irresponsabilidade",
            r"desonest\w+",
            r"vagabund\w+",
            r"picaret\w+",
            r"trapaceir\w+",
            r"lista (?:negra|de devedores|de caloteiros)",
            r"todos (?:vao|irao) saber",
        ),
        "Linguagem que expõe ou ridiculariza o cliente: “{found}”. O consumidor não pode ser "
        "exposto a ridículo nem a constrangimento (CDC art. 42).",
    ),
    _Rule(
        "terceiros",
        "error",
        re.compile(
            r"\b(?:avis\w+|inform\w+|comunic\w+|contat\w+|contact\w+|ligar\w*|ligaremos|procur\w+"
            r"|notific\w+|falar|falaremos|visit\w+|envi\w+|cobrar)\b(?:\W+\w+){0,5}?\W+"
            r"(?:familia\w*|parentes?|empregador\w*|chefe\w*|patr(?:ao|oes)|vizinh\w+|colegas?"
            r"|local de trabalho|seu trabalho|referencias|conjuge|esposa|marido)\b"
        ),
        "Menção a contato com terceiros sobre a dívida: “{found}”. A dívida não pode ser "
        "revelada a família, empregador, vizinhos ou colegas (CDC art. 42 e 71; LGPD art. 6º).",
    ),
    _Rule(
        "pressao",
        "warning",
        _rx(r"urgente\w*", r"urgencia", r"ultimo aviso", r"hoje ou nunca", r"prazo final"),
        "Falsa urgência: “{found}”. Prefira informar a data e as opções com calma.",
    ),
)

_PRESSURE_PUNCTUATION = re.compile(r"!{2,}|\?!|!\?")
_OPT_OUT = re.compile(
    r"\b(?:responda|responder|envie|enviar|digite|mande|escreva)\b[^.\n]{0,25}?\b(?:sair|pare)\b"
)
_CNPJ = re.compile(r"\b[0-9A-Z]{2}\.?[0-9A-Z]{3}\.?[0-9A-Z]{3}/?[0-9A-Z]{4}-?\d{2}\b")
_CPF = re.compile(r"\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b")
_WORD = re.compile(r"[^\W\d_]+")


def fold(text: str) -> str:
    """Lower case without accents; one output character per input character for pt-BR text."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _compact(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _phrase_issues(text: str, part: Literal["text", "subject"]) -> list[LintIssue]:
    folded = fold(text)
    issues: list[LintIssue] = []
    for rule in _RULES:
        for match in rule.pattern.finditer(folded):
            issues.append(
                LintIssue(
                    rule.code,
                    rule.message.format(found=match.group(0)),
                    _line_of(folded, match.start()),
                    rule.severity,
                    part,
                )
            )
    return issues


def _capitals_issues(
    text: str, part: Literal["text", "subject"], creditor_name: str | None
) -> list[LintIssue]:
    allowed = set(ALLOWED_CAPITALS)
    if creditor_name:
        # Company names are registered in capitals ("COMERCIO SILVA LTDA"); naming the creditor
        # as registered is identification, not shouting.
        allowed.update(word.upper() for word in _WORD.findall(creditor_name))
    issues: list[LintIssue] = []
    for number, line in enumerate(text.splitlines(), start=1):
        shouted: list[str] = []
        for token in line.split():
            if "://" in token or "@" in token or token.lower().startswith("www."):
                continue
            word = token.strip(".,;:!?()[]{}\"'“”‘’«»-–—/*")
            if len(word) < 3 or not word.isalpha() or not word.isupper():
                continue
            if word in allowed or fold(word).upper() in allowed:
                continue
            shouted.append(word)
        if len(shouted) >= 2:
            issues.append(
                LintIssue(
                    "caixa_alta",
                    f"Palavras em caixa alta soam como grito: “{' '.join(shouted)}”. "
                    "Escreva em letras minúsculas, exceto siglas.",
                    number,
                    "warning",
                    part,
                )
            )
    return issues


def _punctuation_issues(text: str, part: Literal["text", "subject"]) -> list[LintIssue]:
    issues = [
        LintIssue(
            "pontuacao",
            f"Pontuação de pressão: “{match.group(0)}”. Use no máximo um ponto de exclamação.",
            _line_of(text, match.start()),
            "warning",
            part,
        )
        for match in _PRESSURE_PUNCTUATION.finditer(text)
    ]
    if text.count("!") > 3:
        issues.append(
            LintIssue(
                "pontuacao",
                f"Exclamações demais ({text.count('!')}); o tom fica insistente.",
                None,
                "warning",
                part,
            )
        )
    return issues


def _identification_issues(
    channel: str, full_text: str, creditor_name: str | None, creditor_document: str | None
) -> list[LintIssue]:
    folded = fold(full_text)
    missing: list[str] = []
    if creditor_name and fold(creditor_name).strip() not in folded:
        missing.append(f"o nome do credor (“{creditor_name}”)")
    if channel != "phone":
        if creditor_document:
            wanted = _compact(creditor_document)
            found = any(
                _compact(m.group(0)) == wanted
                for m in (*_CNPJ.finditer(full_text.upper()), *_CPF.finditer(full_text))
            ) or wanted in _compact(full_text)
            if not found:
                missing.append(f"o CPF/CNPJ do credor ({creditor_document})")
        elif not (_CNPJ.search(full_text.upper()) or _CPF.search(full_text)):
            missing.append("o CPF/CNPJ do credor")
    if not missing:
        return []
    return [
        LintIssue(
            "credor_nao_identificado",
            "Falta identificar o credor: " + " e ".join(missing) + " (CDC art. 42-A).",
            None,
            "error",
        )
    ]


def _length_issues(
    channel: str,
    text: str,
    subject: str | None,
    sms_segments: int | None,
    sms_unicode: bool,
    whatsapp_free_text: bool,
) -> list[LintIssue]:
    issues: list[LintIssue] = []
    if channel == "sms" and sms_segments is not None:
        if sms_segments > SMS_SEGMENTS_MAX:
            issues.append(
                LintIssue(
                    "tamanho",
                    f"SMS com {sms_segments} partes; o limite é {SMS_SEGMENTS_MAX}.",
                    None,
                    "error",
                )
            )
        elif sms_segments > SMS_SEGMENTS_WARN and not _PIX_PAYLOAD.search(text):
            issues.append(
                LintIssue(
                    "tamanho",
                    f"SMS com {sms_segments} partes; cada parte é cobrada. "
                    f"Tente ficar em {SMS_SEGMENTS_WARN}.",
                    None,
                    "warning",
                )
            )
    if channel == "sms" and sms_unicode:
        issues.append(
            LintIssue(
                "tamanho",
                "O SMS tem caracteres fora do alfabeto GSM-7 (acentos como ã, ç, õ ou emoji): "
                "cada parte cabe só 70 caracteres em vez de 160.",
                None,
                "warning",
            )
        )
    limit = WHATSAPP_TEXT_MAX if whatsapp_free_text else WHATSAPP_TEMPLATE_MAX
    if channel == "whatsapp" and len(text) > limit:
        issues.append(
            LintIssue(
                "tamanho",
                f"Mensagem de WhatsApp com {len(text)} caracteres; o limite é {limit}.",
                None,
                "error",
            )
        )
    if subject is not None:
        if not subject.strip():
            issues.append(LintIssue("tamanho", "Assunto vazio.", 1, "error", "subject"))
        elif len(subject) > EMAIL_SUBJECT_MAX:
            issues.append(
                LintIssue(
                    "tamanho",
                    f"Assunto com {len(subject)} caracteres; acima de {EMAIL_SUBJECT_MAX} ele é "
                    "cortado na caixa de entrada.",
                    1,
                    "warning",
                    "subject",
                )
            )
    return issues


def lint_text(
    channel: str,
    text: str,
    *,
    subject: str | None = None,
    creditor_name: str | None = None,
    creditor_document: str | None = None,
    check_identification: bool = True,
    sms_segments: int | None = None,
    sms_unicode: bool = False,
    whatsapp_free_text: bool = False,
) -> list[LintIssue]:
    """Lint one rendered message for tone, identification, opt-out and length.

    Args:
        channel: "email", "sms", "whatsapp", "letter" or "phone".
        text: the message body as the debtor reads it (plain text).
        subject: the e-mail subject, linted with the body and checked for length.
        creditor_name / creditor_document: when given, these exact values must appear
            (CDC art. 42-A); without a document any formatted CPF/CNPJ counts.
        check_identification: False for fragments (one step of a call script).
        sms_segments / sms_unicode: from `regua.channels.sms_length` for SMS length rules.
        whatsapp_free_text: the text goes inside the 24 h window (4096 characters), not as the
            body of an approved template (1024).

    Returns:
        Issues in rule order; an empty list means the text is clean.
    """
    issues = _phrase_issues(text, "text")
    issues += _capitals_issues(text, "text", creditor_name)
    issues += _punctuation_issues(text, "text")
    if subject is not None:
        issues += _phrase_issues(subject, "subject")
        issues += _capitals_issues(subject, "subject", creditor_name)
        issues += _punctuation_issues(subject, "subject")
    if check_identification:
        full = text if subject is None else subject + "\n" + text
        issues += _identification_issues(channel, full, creditor_name, creditor_document)
    if channel in ("sms", "whatsapp") and not _OPT_OUT.search(fold(text)):
        issues.append(
            LintIssue(
                "sem_opt_out",
                "Falta a instrução para parar de receber mensagens, por exemplo: "
                "“Para não receber mais mensagens, responda SAIR”.",
                None,
                "error",
            )
        )
    issues += _length_issues(channel, text, subject, sms_segments, sms_unicode, whatsapp_free_text)
    return issues
