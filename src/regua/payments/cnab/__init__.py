"""CNAB return files ("arquivo retorno de cobrança"), CNAB 240 and CNAB 400.

``parse_return`` reads either layout into a ``ReturnFile`` of ``ReturnRecord``s or refuses the
file with a ``CnabError``; ``cnab240.write_return`` and ``cnab400.write_return`` build files from
``SettlementLine``s (tests, demo data, benchmarks). The modules inside: ``records`` (what a
return file says), ``fields`` (fixed-width readers and writer), ``layouts`` (how a bank's layout
is described), ``banks`` (one module per bank) and ``registry`` (the banks by layout),
``cnab240`` and ``cnab400`` (the parsers and writers), ``detect`` (bytes to lines, layout by
header, files as they arrive), ``presenting`` (what a file says, for ``regua cnab inspect``).
"""

from regua.payments.cnab import cnab240, cnab400
from regua.payments.cnab.detect import parse_return, split_lines
from regua.payments.cnab.records import (
    CnabError,
    Layout,
    RecordKind,
    ReturnFile,
    ReturnRecord,
    SettlementLine,
)

__all__ = [
    "CnabError",
    "Layout",
    "RecordKind",
    "ReturnFile",
    "ReturnRecord",
    "SettlementLine",
    "cnab240",
    "cnab400",
    "parse_return",
    "split_lines",
]
