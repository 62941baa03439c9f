"""Message rendering: a sandboxed Jinja2 environment with pt-BR filters, and the renderer.

Templates live in the packaged ``regua/templates`` folder; a user folder with the same layout
overrides any file, and texts supplied as strings (edited in the web UI) override both:

    messages/<name>/meta.yaml          title, step offset used for previews
    messages/<name>/email.subject.j2   e-mail subject (one line)
    messages/<name>/email.html.j2      e-mail HTML part (autoescaped)
    messages/<name>/email.txt.j2       e-mail plain-text part
    messages/<name>/sms.j2             SMS (converted to GSM-7, see `render`)
    messages/<name>/whatsapp.yaml      approved template: name, language, body, ordered params;
                                       optional early_payment: {name, body, params}, the one
                                       sent when the message offers the early-payment discount
    messages/<name>/whatsapp.j2        free text for the open 24 h conversation window
    messages/<name>/letter.txt.j2      printed letter body (see `regua.channels.letter`)
    messages/_partials/*               shared blocks for {% include %} / {% import %}
    scripts/<name>.yaml                call scripts (`regua.channels.call_scripts`)

Templates are user-editable, so they run in Jinja2's ImmutableSandboxedEnvironment: no access
to ``_``-prefixed attributes, no mutation of the context, and any attempt raises
`TemplateSecurityError`. Undefined names fail loudly (StrictUndefined) instead of sending a
message with a hole in it.

The render CONTEXT (built by the dispatch service from the store;
`regua.channels.template_samples.sample_context` builds a realistic one for tests, lint and
previews; `regua.channels.template_lint` lints what a template renders):

    today: date                      the creditor's local date of the send
    customer: {id, name, first_name, document (formatted), kind: "cpf" | "cnpj",
               address (postal block with CEP, lines; None without one)}
    creditor: {name, document (formatted CNPJ/CPF), phone, email, address, website}
    invoices: list of {number, description (what was sold), issue_date, due_date,
               days_late (int, < 0 before the due date), amount_cents, balance_cents,
               principal_cents, late_fee_cents, interest_cents, total_cents}
    totals: {balance_cents, late_fee_cents, interest_cents, total_cents, count}
    payment: {pix_code, pix_qr_svg, boleto_line, portal_url}      each str | None
             early: {discount_cents, amount_cents, pay_by, pix_code} | None: the early-payment
             discount a preventive reminder about one invoice offers, while it holds
    step: {id, offset}                  optional key: notice_days (aviso_negativacao, default 10)
    contact: {phone, whatsapp, email, hours}   a way to talk to a person at the creditor
    opt_out: {keyword: "SAIR"}
    operator: {name}                 optional; call scripts only
    offers: {installments_max, installment_min_cents, new_due_days}   optional; call scripts

Filters: ``brl`` (centavos -> "R$ 1.234,56"), ``data`` ("23/11/2026"), ``data_extenso``
("23 de novembro de 2026"), ``relativo`` ("hoje", "amanhã", "ontem", "em 3 dias", "há 3 dias",
relative to ``today``), ``documento`` (formatted CPF/CNPJ), ``telefone`` ("(11) 98765-4321"),
``nome`` (name in title case, "Maria da Silva"), ``dias`` ("1 dia", "3 dias"), ``mais_dias``
(date + n days).
"""

from __future__ import annotations

import operator
import re
import string
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.nodes
import yaml
from babel.dates import format_date, format_timedelta
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace
from markupsafe import Markup

from regua.channels.base import Attachment, ChannelName, OutgoingMessage
from regua.channels.sms_length import sms_length, to_gsm7
from regua.domain.channels import MESSAGE_CHANNELS
from regua.domain.documents import DocumentError, format_phone, normalize_phone, parse_tax_id
from regua.domain.money import format_brl
from regua.error_codes import ErrorCode
from regua.errors import ReguaError

CHANNEL_FILES: dict[str, tuple[str, ...]] = {
    "email": ("email.subject.j2", "email.html.j2", "email.txt.j2"),
    "sms": ("sms.j2",),
    "whatsapp": ("whatsapp.yaml", "whatsapp.j2"),
    "letter": ("letter.txt.j2",),
}
DEFAULT_WHATSAPP_LANGUAGE = "pt_BR"
# Limits a hostile template could otherwise use to exhaust memory ("x" * 10**9, 9**9**9).
MAX_REPEAT = 10_000
MAX_POWER_EXPONENT = 100
# The same for every other way to build a big text or run long: widths (center, ljust, format
# "{:>N}", "%Ns", indent), replace, concatenation, loops. A message is a few KB (an e-mail with
# its QR code some 40 KB): a megabyte of text or ten thousand loop turns is an attack or a bug.
MAX_TEXT = 1_000_000
MAX_WIDTH = 1_000
MAX_LOOP_ITEMS = 10_000
MAX_COMPILED_TEXTS = 1_000  # template texts (WhatsApp parameters, script lines) kept compiled


class TemplateError(ReguaError):
    """A template that cannot be loaded or rendered (syntax, missing value, missing file)."""

    code = ErrorCode.TEMPLATE_ERROR
    http_status = 422


class TemplateSecurityError(TemplateError):
    """A template tried to reach Python internals through the sandbox."""

    code = ErrorCode.TEMPLATE_SECURITY


@dataclass(frozen=True)
class RenderedMessage:
    """One template rendered for one channel. `text` is the e-mail plain part, the SMS, the
    WhatsApp free text or the letter body; `whatsapp_template_text` is the approved template's
    body with its parameters filled in (what the debtor reads when the template is sent)."""

    template: str
    channel: str
    text: str
    subject: str | None = None
    html: str | None = None
    whatsapp_template: str | None = None
    whatsapp_language: str | None = None
    whatsapp_params: tuple[str, ...] = ()
    whatsapp_template_text: str | None = None
    sms_segments: int | None = None

    def to_outgoing(
        self,
        *,
        to: str,
        idempotency_key: str,
        to_name: str = "",
        sender_name: str = "",
        reply_to: str | None = None,
        unsubscribe_url: str | None = None,
        attachments: tuple[Attachment, ...] = (),
        metadata: Mapping[str, str] | None = None,
    ) -> OutgoingMessage:
        """The message a channel adapter sends, addressed to one recipient."""
        channel: ChannelName = self.channel  # type: ignore[assignment]
        return OutgoingMessage(
            channel=channel,
            to=to,
            to_name=to_name,
            text=self.text,
            subject=self.subject,
            html=self.html,
            whatsapp_template=self.whatsapp_template,
            whatsapp_params=self.whatsapp_params,
            attachments=attachments,
            idempotency_key=idempotency_key,
            sender_name=sender_name,
            reply_to=reply_to,
            unsubscribe_url=unsubscribe_url,
            metadata={
                **({"whatsapp_language": self.whatsapp_language} if self.whatsapp_language else {}),
                **(metadata or {}),
            },
        )


# --- filters -------------------------------------------------------------------------------


@jinja2.pass_eval_context
def _brl(eval_ctx: jinja2.nodes.EvalContext, cents: Any) -> str:
    # Money is integer centavos everywhere; a float here means a bug upstream, so refuse it.
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"brl espera centavos inteiros, recebeu {type(cents).__name__}")
    text = format_brl(cents)
    if eval_ctx.autoescape:
        # HTML: "R$" and the number never break apart, however narrow the screen. Plain text
        # and SMS keep the ordinary space (a no-break space is outside GSM-7).
        return Markup(text.replace(" ", "&nbsp;"))
    return text


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    raise TypeError(f"esperava uma data, recebeu {type(value).__name__}")


def _data(value: Any) -> str:
    return _as_date(value).strftime("%d/%m/%Y")


def _data_extenso(value: Any) -> str:
    return str(format_date(_as_date(value), format="long", locale="pt_BR"))


@jinja2.pass_context
def _relativo(ctx: jinja2.runtime.Context, value: Any) -> str:
    today = ctx.get("today")
    if not isinstance(today, date):
        raise TypeError("o filtro relativo precisa de 'today' no contexto")
    days = (_as_date(value) - today).days
    named = {0: "hoje", 1: "amanhã", -1: "ontem"}
    if days in named:
        return named[days]
    # threshold keeps Babel in days ("em 45 dias") instead of rounding to "em 2 meses".
    return str(
        format_timedelta(
            timedelta(days=days),
            granularity="day",
            threshold=10_000,
            add_direction=True,
            locale="pt_BR",
        )
    )


def _documento(value: Any) -> str:
    try:
        return parse_tax_id(str(value)).formatted
    except DocumentError:
        return str(value)


def _telefone(value: Any) -> str:
    try:
        return format_phone(normalize_phone(str(value)))
    except DocumentError:
        return str(value)


_NAME_PARTICLES = frozenset({"da", "de", "do", "das", "dos", "e", "di", "du", "van", "von"})


# Company-type suffixes read as acronyms: "PADARIA SOL EPP" -> "Padaria Sol EPP".
_NAME_ACRONYMS = frozenset({"EPP", "ME", "MEI", "EIRELI", "S.A.", "S/A", "SA", "SS", "S.S."})


def _nome(value: Any) -> str:
    """Title-case a name imported in capitals or in lower case ("MARIA DA SILVA" -> "Maria
    da Silva"); a name typed in mixed case ("Ótica Horizonte EPP") is kept as typed."""
    text = str(value)
    if text != text.upper() and text != text.lower():
        return " ".join(text.split())
    out = []
    for i, w in enumerate(text.split()):
        if w.upper() in _NAME_ACRONYMS:
            out.append(w.upper())
        elif i > 0 and w.lower() in _NAME_PARTICLES:
            out.append(w.lower())
        else:
            out.append(w[:1].upper() + w[1:].lower())
    return " ".join(out)


def _dias(value: Any) -> str:
    count = abs(int(value))
    return f"{count} dia" if count == 1 else f"{count} dias"


def _mais_dias(value: Any, days: int) -> date:
    return _as_date(value) + timedelta(days=int(days))


FILTERS: dict[str, Callable[..., Any]] = {
    "brl": _brl,
    "data": _data,
    "data_extenso": _data_extenso,
    "relativo": _relativo,
    "documento": _documento,
    "telefone": _telefone,
    "nome": _nome,
    "dias": _dias,
    "mais_dias": _mais_dias,
}


# --- environment ---------------------------------------------------------------------------


def _autoescape(name: str | None) -> bool:
    # Only HTML output is escaped; SMS, WhatsApp and letters are plain text.
    return name is not None and (name.endswith(".html.j2") or name.endswith(".html"))


_WIDE_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
_PERCENT_WIDTH = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
# Loop turns left in the render under way (each render starts with MAX_LOOP_ITEMS).
_LOOP_BUDGET: ContextVar[list[int] | None] = ContextVar("regua_template_loop_budget", default=None)


class _TooBig(jinja2.exceptions.SecurityError):
    """A limit of MAX_TEXT, MAX_WIDTH or MAX_LOOP_ITEMS reached."""


def _refuse(what: str) -> _TooBig:
    return _TooBig(f"{what} grande demais para uma mensagem")


def _check_width(value: Any, what: str) -> None:
    if isinstance(value, int) and value > MAX_WIDTH:
        raise _refuse(what)


def _check_text_size(value: Any) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > MAX_TEXT:
        raise _refuse("texto")
    return value


def _check_format_spec(text: str) -> None:
    """Widths and precisions in a str.format text ("{:>99999}", nested fields too)."""
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        return  # format() itself will refuse it
    for _literal, _name, spec, _conversion in fields:
        if spec:
            for number in re.findall(r"\d+", spec):
                _check_width(int(number), "largura de formato")
            _check_format_spec(spec)


def _check_percent_spec(text: str) -> None:
    """Widths and precisions in a printf-style text ("%99999s"); "*" takes them from data."""
    for width, precision in _PERCENT_WIDTH.findall(text):
        for number in (width, precision):
            if number == "*":
                raise _refuse("largura de formato")
            if number:
                _check_width(int(number), "largura de formato")


def _replace_size(text: str, old: str, new: str, count: int = -1) -> int:
    occurrences = text.count(old) if old else len(text) + 1
    if count is not None and count >= 0:
        occurrences = min(occurrences, count)
    return len(text) + occurrences * (len(new) - len(old))


def _bounded_range(*args: int) -> range:
    """`range` for templates: every range of one render together yields MAX_LOOP_ITEMS at
    most (ten thousand turns; nested ranges multiply, so the total is what is bounded)."""
    numbers = range(*args)
    budget = _LOOP_BUDGET.get()
    if budget is not None:
        budget[0] -= len(numbers)
        if budget[0] < 0:
            raise _refuse("laço")
    elif len(numbers) > MAX_LOOP_ITEMS:
        raise _refuse("laço")
    return numbers


class _BoundedNamespace(Namespace):
    """`namespace()` whose attributes cannot grow past MAX_TEXT (a loop doubling a text)."""

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, _check_text_size(value))


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A built-in filter with its width arguments checked first and its result after."""

    def bounded(*args: Any, **kwargs: Any) -> Any:
        values = [a for a in args if not isinstance(a, jinja2.runtime.Context | jinja2.Environment)]
        if name in ("center", "indent", "wordwrap", "truncate"):
            for value in (*values[1:], *kwargs.values()):
                _check_width(value, "largura")
        elif name == "format" and values and isinstance(values[0], str):
            _check_percent_spec(values[0])
        elif name == "replace" and len(values) >= 3:
            text, old, new = (str(v) for v in values[:3])
            count = values[3] if len(values) > 3 and isinstance(values[3], int) else -1
            if _replace_size(text, old, new, count) > MAX_TEXT:
                raise _refuse("texto")
        return _check_text_size(function(*args, **kwargs))

    bounded.__dict__.update(function.__dict__)  # keeps pass_context / pass_environment marks
    return bounded


class _SandboxEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+"})

    def call(
        __self,  # the sandbox's own signature: keyword arguments pass through as they are
        __context: jinja2.runtime.Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            method = getattr(__obj, "__name__", "")
            if method in _WIDE_METHODS:
                for value in (*args, *kwargs.values()):
                    _check_width(value, "largura")
            elif method == "replace" and len(args) >= 2:
                old, new = str(args[0]), str(args[1])
                count = args[2] if len(args) > 2 and isinstance(args[2], int) else -1
                if _replace_size(owner, old, new, count) > MAX_TEXT:
                    raise _refuse("texto")
        return _check_text_size(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        # The sandbox only refuses private attributes that exist; refusing every `_` name
        # (also dict keys reached as attributes) makes probing a security error, not a typo.
        if isinstance(attribute, str) and attribute.startswith("_"):
            raise jinja2.exceptions.SecurityError(f"acesso a '{attribute}' não é permitido")
        # A message context is dicts: `customer.name` is a key. Jinja tries the attribute
        # first and raises AttributeError on the way to the key, about 80 times a message;
        # a key of the data is as safe to read as Jinja's own fallback to it.
        if isinstance(obj, dict):
            try:
                return obj[attribute]
            except KeyError:
                pass
        if isinstance(obj, str) and attribute in ("format", "format_map"):
            _check_format_spec(obj)
        return super().getattr(obj, attribute)

    def call_binop(
        self, context: jinja2.runtime.Context, operator_: str, left: Any, right: Any
    ) -> Any:
        if operator_ == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(times, int)
                    and len(seq) * times > MAX_REPEAT
                ):
                    raise jinja2.exceptions.SecurityError("repetição grande demais")
            return operator.mul(left, right)
        if operator_ == "**":
            if isinstance(right, int) and abs(right) > MAX_POWER_EXPONENT:
                raise jinja2.exceptions.SecurityError("potência grande demais")
            return operator.pow(left, right)
        if operator_ == "+":
            if (
                isinstance(left, str | list | tuple)
                and isinstance(right, str | list | tuple)
                and len(left) + len(right) > MAX_TEXT
            ):
                raise _refuse("texto")
            return operator.add(left, right)
        return super().call_binop(context, operator_, left, right)


def _new_environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    env = _SandboxEnvironment(
        loader=loader,
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    for name in ("center", "indent", "wordwrap", "truncate", "format", "replace", "join"):
        env.filters[name] = _bounded_filter(name, env.filters[name])
    env.filters.update(FILTERS)
    env.globals["range"] = _bounded_range
    env.globals["namespace"] = _BoundedNamespace
    # Nothing in a message needs these; fewer objects within reach of a template.
    for name in ("lipsum", "cycler", "joiner"):
        env.globals.pop(name, None)
    return env


def _translate(exc: Exception, where: str) -> TemplateError:
    """Turn a Jinja/filter exception into a TemplateError a collections user can act on."""
    if isinstance(exc, _TooBig):
        return TemplateSecurityError(
            f"O modelo {where} passou de um limite: {exc}. Um modelo monta textos de alguns "
            f"KB (até {MAX_TEXT:,} caracteres, larguras até {MAX_WIDTH}, laços de até "
            f"{MAX_LOOP_ITEMS:,} voltas).".replace(",", "."),
            template=where,
        )
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return TemplateSecurityError(
            f"O modelo {where} tentou acessar partes internas do sistema ({exc}). "
            "Modelos só podem usar os dados da mensagem e os filtros do regua.",
            template=where,
        )
    if isinstance(exc, jinja2.exceptions.TemplateSyntaxError):
        file = exc.name or where
        return TemplateError(
            f"Erro de sintaxe em {file}, linha {exc.lineno}: {exc.message}",
            code=ErrorCode.TEMPLATE_SYNTAX,
            template=where,
            line=exc.lineno,
        )
    if isinstance(exc, jinja2.exceptions.TemplateNotFound):
        return TemplateError(
            f"Modelo não encontrado: {exc.name}", code=ErrorCode.TEMPLATE_NOT_FOUND, template=where
        )
    if isinstance(exc, jinja2.exceptions.UndefinedError):
        return TemplateError(
            f"O modelo {where} usa um dado que não existe: {exc.message}",
            code=ErrorCode.TEMPLATE_UNDEFINED,
            template=where,
        )
    return TemplateError(f"Falha ao montar o modelo {where}: {exc}", template=where)


def _bounded_render(render: Callable[[], str], where: str) -> str:
    """Run one render with a fresh loop budget; every failure becomes a TemplateError (the
    action is then failed with its reason, never a crash of the dispatch)."""
    budget = _LOOP_BUDGET.set([MAX_LOOP_ITEMS])
    try:
        text = render()
    except TemplateError:
        raise
    except _RENDER_FAILURES as exc:
        raise _translate(exc, where) from exc
    except Exception as exc:  # a filter or a value's method failing in a way nobody foresaw
        raise TemplateError(
            f"Falha ao montar o modelo {where}: {type(exc).__name__}", template=where
        ) from exc
    finally:
        _LOOP_BUDGET.reset(budget)
    if len(text) > MAX_TEXT:
        raise _translate(_refuse("mensagem"), where)
    return text


_RENDER_FAILURES = (
    jinja2.exceptions.TemplateError,
    TypeError,
    ValueError,
    LookupError,  # KeyError, and the IndexError of "{1}".format_map({})
    AttributeError,
    ArithmeticError,  # ZeroDivisionError, OverflowError
    RecursionError,  # a macro calling itself
    MemoryError,
)


_BLANK_RUNS = re.compile(r"\n{3,}")


def _tidy_text(text: str) -> str:
    """Conditional blocks leave blank lines and trailing spaces; keep at most one blank line."""
    lines = [line.rstrip() for line in text.splitlines()]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def _one_line(text: str) -> str:
    return " ".join(text.split())


_META_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


@dataclass(frozen=True)
class WhatsAppTemplateSpec:
    """The approved WhatsApp template a message maps to (whatsapp.yaml)."""

    name: str
    language: str
    body: str  # Meta's body text with {{1}}, {{2}} ... placeholders
    params: tuple[str, ...]  # Jinja expressions/templates, in placeholder order
    category: str = "UTILITY"
    # Sent instead when the message offers the early-payment discount: an approved template's
    # text is fixed, so the discount, its amount, last day and PIX code need one of their own.
    early_payment: WhatsAppTemplateSpec | None = None


class TemplateRenderer:
    """Loads and renders message templates; user folder and user texts override the defaults.

    Instances are immutable after construction and safe to share between threads. What a render
    reads is compiled or parsed once and kept: Jinja's template cache for the files, and here
    the whatsapp.yaml specs (re-read when the file changes, as Jinja does for the templates of
    a user folder) and the compiled parameter expressions.
    """

    def __init__(
        self, user_dir: Path | str | None = None, texts: Mapping[str, str] | None = None
    ) -> None:
        self.user_dir = Path(user_dir) if user_dir is not None else None
        self._texts = dict(texts or {})
        loaders: list[jinja2.BaseLoader] = []
        if self._texts:
            loaders.append(jinja2.DictLoader(self._texts))
        if self.user_dir is not None:
            loaders.append(jinja2.FileSystemLoader(str(self.user_dir)))
        loaders.append(jinja2.PackageLoader("regua", "templates"))
        self.env = _new_environment(jinja2.ChoiceLoader(loaders))
        # Only a user folder changes while a process runs (the package's files change with a
        # new version, which needs a restart): checking every file's mtime on every render
        # was a tenth of a message's rendering time.
        self.env.auto_reload = self.user_dir is not None
        # path -> (spec, the loader's "still up to date?" check); text -> compiled template
        self._specs: dict[str, tuple[WhatsAppTemplateSpec, Callable[[], bool] | None]] = {}
        self._compiled: dict[tuple[str, str], jinja2.Template] = {}

    def with_texts(self, texts: Mapping[str, str]) -> TemplateRenderer:
        """A renderer where `texts` ({"messages/x/sms.j2": "..."}) override every other file."""
        return TemplateRenderer(self.user_dir, {**self._texts, **texts})

    # -- discovery --------------------------------------------------------------------------

    def _exists(self, path: str) -> bool:
        try:
            if path.endswith(".j2"):
                # From Jinja's cache when compiled before (a stat, not a read).
                self.env.get_template(path)
            else:
                self.env.loader.get_source(self.env, path)  # type: ignore[union-attr]
        except jinja2.exceptions.TemplateNotFound:
            return False
        except jinja2.exceptions.TemplateSyntaxError:
            return True  # there, but broken: rendering it reports where
        return True

    def source(self, path: str) -> str:
        try:
            text, _filename, _uptodate = self.env.loader.get_source(self.env, path)  # type: ignore[union-attr]
        except jinja2.exceptions.TemplateNotFound as exc:
            raise _translate(exc, path) from None
        return text

    def compile_messages(self) -> int:
        """Compile every message template file now, as its first render would; returns how
        many. A broken file is left for its render to report."""
        compiled = 0
        for path in self.env.list_templates(extensions=["j2"]):
            if not path.startswith("messages/"):
                continue
            try:
                self.env.get_template(path)
            except jinja2.exceptions.TemplateError:
                continue
            compiled += 1
        return compiled

    def template_names(self) -> list[str]:
        """Every message template name (packaged, user folder and user texts)."""
        names = set()
        for path in self.env.list_templates():
            parts = path.split("/")
            if len(parts) == 3 and parts[0] == "messages" and not parts[1].startswith("_"):
                names.add(parts[1])
        return sorted(names)

    def script_names(self) -> list[str]:
        names = set()
        for path in self.env.list_templates():
            parts = path.split("/")
            if len(parts) == 2 and parts[0] == "scripts" and parts[1].endswith(".yaml"):
                names.add(parts[1].removesuffix(".yaml"))
        return sorted(names)

    def channels_of(self, template_name: str) -> list[str]:
        """Channels the template has files for, in MESSAGE_CHANNELS order."""
        return [
            channel
            for channel in MESSAGE_CHANNELS
            if self._exists(f"messages/{template_name}/{CHANNEL_FILES[channel][0]}")
        ]

    def meta(self, template_name: str) -> dict[str, Any]:
        path = f"messages/{template_name}/meta.yaml"
        if not self._exists(path):
            return {}
        loaded = yaml.safe_load(self.source(path)) or {}
        if not isinstance(loaded, dict):
            raise TemplateError(f"{path}: esperava um mapa YAML", code=ErrorCode.TEMPLATE_META)
        return loaded

    # -- rendering --------------------------------------------------------------------------

    def render_file(self, path: str, context: Mapping[str, Any]) -> str:
        """Render one template file of the library by its path."""
        return _bounded_render(lambda: self.env.get_template(path).render(context), path)

    def render_string(self, text: str, context: Mapping[str, Any], *, where: str) -> str:
        """Render a template given as text (autoescaped only when `where` ends in .html.j2)."""
        key = (text, where)
        template = self._compiled.get(key)
        if template is None:
            template = compile_template_text(text, filename=where, env=self.env)
            if len(self._compiled) >= MAX_COMPILED_TEXTS:
                self._compiled.clear()
            self._compiled[key] = template
        return _bounded_render(lambda: template.render(context), where)

    def whatsapp_spec(self, template_name: str) -> WhatsAppTemplateSpec:
        """The approved template of whatsapp.yaml, parsed once (again when the file changes)."""
        path = f"messages/{template_name}/whatsapp.yaml"
        cached = self._specs.get(path)
        if cached is not None and (cached[1] is None or cached[1]()):
            return cached[0]
        try:
            text, _filename, uptodate = self.env.loader.get_source(self.env, path)  # type: ignore[union-attr]
        except jinja2.exceptions.TemplateNotFound as exc:
            raise _translate(exc, path) from None
        spec = self._parse_whatsapp_spec(path, text)
        self._specs[path] = (spec, uptodate)
        return spec

    def _parse_whatsapp_spec(self, path: str, text: str) -> WhatsAppTemplateSpec:
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise TemplateError(
                f"{path}: YAML inválido: {exc}", code=ErrorCode.TEMPLATE_YAML
            ) from exc
        spec = self._whatsapp_spec_of(path, raw)
        early = raw.get("early_payment")
        if early is None:
            return spec
        if not isinstance(early, dict):
            raise TemplateError(
                f"{path}: 'early_payment' deve ter 'name', 'body' e 'params'",
                code=ErrorCode.TEMPLATE_YAML,
            )
        early = {"language": spec.language, "category": spec.category, **early}
        return replace(spec, early_payment=self._whatsapp_spec_of(f"{path} early_payment", early))

    def _whatsapp_spec_of(self, path: str, raw: Any) -> WhatsAppTemplateSpec:
        if not isinstance(raw, dict) or not raw.get("name") or "body" not in raw:
            raise TemplateError(
                f"{path}: precisa de 'name', 'body' e 'params'", code=ErrorCode.TEMPLATE_YAML
            )
        params = raw.get("params") or []
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            raise TemplateError(
                f"{path}: 'params' deve ser uma lista de textos", code=ErrorCode.TEMPLATE_YAML
            )
        placeholders = {int(n) for n in _META_PLACEHOLDER.findall(str(raw["body"]))}
        if placeholders != set(range(1, len(params) + 1)):
            raise TemplateError(
                f"{path}: o corpo usa {{{{1}}}}..{{{{{len(placeholders)}}}}} mas há "
                f"{len(params)} parâmetros",
                code=ErrorCode.TEMPLATE_YAML,
            )
        return WhatsAppTemplateSpec(
            name=str(raw["name"]),
            language=str(raw.get("language", DEFAULT_WHATSAPP_LANGUAGE)),
            body=str(raw["body"]).strip(),
            params=tuple(params),
            category=str(raw.get("category", "UTILITY")),
        )

    def render(
        self, template_name: str, channel: str, context: Mapping[str, Any]
    ) -> RenderedMessage:
        """Render `template_name` for `channel` ("email", "sms", "whatsapp", "letter")."""
        if channel not in CHANNEL_FILES:
            raise TemplateError(
                f"Canal sem modelo de mensagem: {channel}. Ligações usam roteiros "
                "(load_call_script).",
                code=ErrorCode.TEMPLATE_CHANNEL,
            )
        base = f"messages/{template_name}/"
        if not self._exists(base + CHANNEL_FILES[channel][0]):
            raise TemplateError(
                f"O modelo {template_name} não tem versão para o canal {channel}.",
                code=ErrorCode.TEMPLATE_NOT_FOUND,
                template=template_name,
                channel=channel,
            )
        if channel == "email":
            return RenderedMessage(
                template=template_name,
                channel=channel,
                subject=_one_line(self.render_file(base + "email.subject.j2", context)),
                html=self.render_file(base + "email.html.j2", context).strip(),
                text=_tidy_text(self.render_file(base + "email.txt.j2", context)),
            )
        if channel == "sms":
            # SMS is written in GSM-7: one accent outside it (ã, ç, õ...) switches the whole
            # message to UCS-2, cutting a segment from 160 to 70 characters, which more than
            # doubles the cost and splits short messages. Names and descriptions from the store
            # carry accents, so the rendered text is converted, not only the template.
            text = to_gsm7(_tidy_text(self.render_file(base + "sms.j2", context)))
            return RenderedMessage(
                template=template_name,
                channel=channel,
                text=text,
                sms_segments=sms_length(text).segments,
            )
        if channel == "whatsapp":
            spec = self.whatsapp_spec(template_name)
            where_params = f"{base}whatsapp.yaml params"
            early = (context.get("payment") or {}).get("early")
            if spec.early_payment is not None and early and early.get("pix_code"):
                spec, where_params = spec.early_payment, f"{base}whatsapp.yaml early_payment.params"
            params = []
            for number, expression in enumerate(spec.params, start=1):
                where = f"{where_params}[{number}]"
                # Meta rejects parameters with line breaks, tabs or empty text.
                value = _one_line(self.render_string(expression, context, where=where))
                if not value:
                    raise TemplateError(
                        f"{where}: o parâmetro {{{{{number}}}}} ficou vazio; "
                        "o WhatsApp recusa parâmetros vazios",
                        code=ErrorCode.TEMPLATE_WHATSAPP_PARAM,
                    )
                params.append(value)
            filled = _META_PLACEHOLDER.sub(lambda m: params[int(m.group(1)) - 1], spec.body)
            free_text = (
                _tidy_text(self.render_file(base + "whatsapp.j2", context))
                if self._exists(base + "whatsapp.j2")
                else filled
            )
            return RenderedMessage(
                template=template_name,
                channel=channel,
                text=free_text,
                whatsapp_template=spec.name,
                whatsapp_language=spec.language,
                whatsapp_params=tuple(params),
                whatsapp_template_text=filled,
            )
        return RenderedMessage(
            template=template_name,
            channel=channel,
            text=_tidy_text(self.render_file(base + "letter.txt.j2", context)),
        )


def compile_template_text(
    text: str, *, filename: str = "modelo.txt.j2", env: jinja2.Environment | None = None
) -> jinja2.Template:
    """Compile a template given as a string in the sandbox; syntax errors name the line.

    `filename` decides autoescaping (``*.html.j2`` is escaped) and appears in messages.
    """
    environment = env if env is not None else default_renderer().env
    try:
        code = environment.compile(text, name=filename, filename=filename)
    except jinja2.exceptions.TemplateSyntaxError as exc:
        raise _translate(exc, filename) from exc
    return environment.template_class.from_code(
        environment, code, environment.make_globals(None), None
    )


def load_user_template_text(
    template_name: str, files: Mapping[str, str], *, base: TemplateRenderer | None = None
) -> TemplateRenderer:
    """A renderer where user-supplied texts replace files of one template.

    `files` maps a channel file name ("sms.j2", "email.html.j2", "whatsapp.yaml", ...) to its
    text. Every text is compiled at once, so a syntax error is reported before anything is
    saved or sent; the returned renderer is then used like any other.
    """
    allowed = {name for names in CHANNEL_FILES.values() for name in names} | {"meta.yaml"}
    texts: dict[str, str] = {}
    for file_name, text in files.items():
        if file_name not in allowed:
            raise TemplateError(
                f"Arquivo de modelo desconhecido: {file_name}. Use um destes: "
                + ", ".join(sorted(allowed)),
                code=ErrorCode.TEMPLATE_FILE,
            )
        path = f"messages/{template_name}/{file_name}"
        if file_name.endswith(".j2"):
            compile_template_text(text, filename=path)
        texts[path] = text
    return (base or default_renderer()).with_texts(texts)


@lru_cache(maxsize=1)
def default_renderer() -> TemplateRenderer:
    """The packaged library alone (built on first use, not at import time)."""
    return TemplateRenderer()


def render(
    template_name: str, channel: str, context: Mapping[str, Any], *, user_dir: Path | None = None
) -> RenderedMessage:
    """Render with the packaged library, or with `user_dir` overriding it."""
    renderer = default_renderer() if user_dir is None else TemplateRenderer(user_dir)
    return renderer.render(template_name, channel, context)
