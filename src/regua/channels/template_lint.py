"""Template lint: render a message template with sample data and check what the debtor reads.

``lint_template`` renders every channel of a template with ``sample_context`` on the day it is
given and runs the tone rules of ``regua.domain.tone`` over each part; ``lint_rendered`` lints one
message already rendered. Findings are ``TemplateLintIssue`` values located by template, channel
and file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from typing import Any

from regua.channels.rendering import (
    RenderedMessage,
    TemplateError,
    TemplateRenderer,
    default_renderer,
)
from regua.channels.sms_length import sms_length
from regua.channels.template_samples import sample_context
from regua.domain.tone import LintIssue, lint_text
from regua.errors import ReguaError


class _TextExtractor(HTMLParser):
    """HTML -> the text a reader sees, for linting the HTML part (stdlib parser, no new dep)."""

    _BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "table", "td"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "head", "title"):
            self._skip += 1
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head", "title"):
            self._skip = max(0, self._skip - 1)
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True)
class TemplateLintIssue:
    """A lint finding located in the library: which template, channel and file."""

    template: str
    channel: str
    file: str
    issue: LintIssue

    @property
    def severity(self) -> str:
        return self.issue.severity

    def as_dict(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "channel": self.channel,
            "file": self.file,
            "code": self.issue.code,
            "severity": self.issue.severity,
            "line": self.issue.line,
            "part": self.issue.part,
            "message": self.issue.message_pt,
        }


def lint_rendered(rendered: RenderedMessage, context: Mapping[str, Any]) -> list[TemplateLintIssue]:
    """Lint every part of a rendered message against the creditor in `context`."""
    creditor = context.get("creditor") or {}
    name, document = creditor.get("name"), creditor.get("document")

    def lint(channel: str, text: str, **options: Any) -> list[LintIssue]:
        return lint_text(channel, text, creditor_name=name, creditor_document=document, **options)

    base = f"messages/{rendered.template}/"
    found: list[TemplateLintIssue] = []

    def add(file: str, issues: list[LintIssue]) -> None:
        found.extend(
            TemplateLintIssue(rendered.template, rendered.channel, file, i) for i in issues
        )

    if rendered.channel == "email":
        add(
            base + "email.txt.j2",
            lint("email", rendered.text, subject=rendered.subject),
        )
        add(base + "email.html.j2", lint("email", html_to_text(rendered.html or "")))
    elif rendered.channel == "sms":
        length = sms_length(rendered.text)
        add(
            base + "sms.j2",
            lint(
                "sms",
                rendered.text,
                sms_segments=length.segments,
                sms_unicode=length.encoding == "ucs2",
            ),
        )
    elif rendered.channel == "whatsapp":
        add(
            base + "whatsapp.yaml",
            lint("whatsapp", rendered.whatsapp_template_text or ""),
        )
        add(
            base + "whatsapp.j2",
            lint("whatsapp", rendered.text, whatsapp_free_text=True),
        )
    else:
        add(base + "letter.txt.j2", lint("letter", rendered.text))
    return found


def _failure_issue(template: str, channel: str, file: str, exc: ReguaError) -> TemplateLintIssue:
    return TemplateLintIssue(
        template, channel, file, LintIssue("erro_de_modelo", exc.message, None, "error")
    )


def lint_template(
    name: str, *, today: date, renderer: TemplateRenderer | None = None
) -> list[TemplateLintIssue]:
    """Render every channel of a template with `sample_context` on `today` and lint the output.

    The template is rendered for one invoice and for three (an action may cover several), at the
    offset in its meta.yaml; a template that fails to render is reported, not raised. `today` is
    the caller's (a template may say "vence amanhã" or name the month).
    """
    renderer = renderer or default_renderer()
    try:
        offset = int(renderer.meta(name).get("offset", 3))
    except ReguaError as exc:
        return [_failure_issue(name, "-", f"messages/{name}/meta.yaml", exc)]
    channels = renderer.channels_of(name)
    if not channels:
        missing = TemplateError(f"O modelo {name} não tem nenhum arquivo de canal.")
        return [_failure_issue(name, "-", f"messages/{name}/", missing)]
    seen: set[tuple[str, str, str, str, int | None]] = set()
    issues: list[TemplateLintIssue] = []
    for channel in channels:
        for count in (1, 3):
            context = sample_context(today, offset=offset, invoices=count)
            try:
                rendered = renderer.render(name, channel, context)
            except ReguaError as exc:
                found = [_failure_issue(name, channel, f"messages/{name}/", exc)]
            else:
                found = lint_rendered(rendered, context)
            for item in found:
                key = (
                    item.channel,
                    item.file,
                    item.issue.code,
                    item.issue.message_pt,
                    item.issue.line,
                )
                if key not in seen:
                    seen.add(key)
                    issues.append(item)
    return issues
