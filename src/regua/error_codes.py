"""Every error code regua emits, in one place.

A code is what a program matches on (the `code` of a `ReguaError`, of the API's error body and
of a refused spreadsheet row in `--json`); the pt-BR message is what a person reads. Codes are
stable: a value here is never renamed or reused for another meaning, only added. `ErrorCode` is
a `StrEnum`, so a member prints, compares and serialises as its plain value (`"required"`).

Codes a provider returns (an SMS or WhatsApp API's `provider_code`) are the provider's and are
not listed here.
"""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class ErrorCode(StrEnum):
    # --- the error family (errors.py): each class's default ------------------------------------
    # a ReguaError raised without a more specific class or code
    REGUA_ERROR = "regua_error"
    # bad input pinned to a file/row/field; a refused --strict import
    INVALID_INPUT = "invalid_input"
    # something asked for by name or id does not exist
    NOT_FOUND = "not_found"
    # well formed but breaks a rule (a customer with no segment)
    RULE_VIOLATION = "rule_violation"
    # a webhook called while its secret is empty
    WEBHOOK_NOT_CONFIGURED = "webhook_not_configured"
    # a caller that could not prove who it is
    UNAUTHORIZED = "unauthorized"

    # --- looking things up -----------------------------------------------------------------------
    # a customer external id unknown to the creditor (preview)
    NO_CUSTOMER = "no_customer"
    # a step id (or template) that the régua does not have
    NO_STEP = "no_step"
    # a customer previewed who owes nothing
    NO_OPEN_INVOICES = "no_open_invoices"
    # no régua applies to a segment: no default régua is defined
    NO_POLICY = "no_policy"
    # a packaged régua asked for by a name that is not shipped
    UNKNOWN_POLICY = "unknown_policy"

    # --- régua files and segment rules (policies/loader.py, domain/segments.py) --------------
    # a régua YAML file that cannot be used
    INVALID_POLICY = "invalid_policy"
    # a segment condition on a feature regua does not compute
    UNKNOWN_FEATURE = "unknown_feature"
    # a segment condition that does not parse or is out of range
    INVALID_CONDITION = "invalid_condition"
    # no segment rule matches a customer: the last rule is not a catch-all
    NO_SEGMENT = "no_segment"
    # a state (UF) the calendar does not know
    UNKNOWN_UF = "unknown_uf"

    # --- message templates (channels/rendering.py) -----------------------------------------------
    # a template that cannot be loaded or rendered
    TEMPLATE_ERROR = "template_error"
    # a template reaching Python internals through the sandbox
    TEMPLATE_SECURITY = "template_security"
    # a Jinja syntax error (file and line in the fields)
    TEMPLATE_SYNTAX = "template_syntax"
    # a template file, or a template's channel version, missing
    TEMPLATE_NOT_FOUND = "template_not_found"
    # a template using a value the message does not have
    TEMPLATE_UNDEFINED = "template_undefined"
    # a template's meta.yaml that is not a YAML mapping
    TEMPLATE_META = "template_meta"
    # a WhatsApp template spec with bad YAML or missing keys
    TEMPLATE_YAML = "template_yaml"
    # a message template asked for a channel that has none (calls)
    TEMPLATE_CHANNEL = "template_channel"
    # a WhatsApp parameter rendered empty
    TEMPLATE_WHATSAPP_PARAM = "template_whatsapp_param"
    # a template file name that is not one of the known files
    TEMPLATE_FILE = "template_file"

    # --- channels (channels/base.py) --------------------------------------------------------------
    # a message could not be handed to the provider
    CHANNEL_ERROR = "channel_error"
    # the provider failed for now: retry with the same key
    CHANNEL_TRANSIENT = "channel_transient"
    # the provider refused the message: retrying will not help
    CHANNEL_PERMANENT = "channel_permanent"

    # --- payment codecs (payments/) ---------------------------------------------------------------
    # a CNAB 240/400 return file that cannot be read (file and line)
    INVALID_CNAB = "invalid_cnab"
    # a linha digitável or barcode that does not parse or check
    INVALID_BOLETO = "invalid_boleto"
    # a PIX BR Code that does not parse, or values it cannot encode
    INVALID_PIX = "invalid_pix"

    # --- webhooks (payments/webhooks.py, services/inbound.py, web/api/v1/) ------------------------
    # no signature header on a webhook call
    WEBHOOK_SIGNATURE_MISSING = "webhook_signature_missing"
    # a signature that does not match the body
    WEBHOOK_SIGNATURE_INVALID = "webhook_signature_invalid"
    # Meta's subscription check with the wrong token
    WEBHOOK_VERIFY_TOKEN = "webhook_verify_token"
    # a webhook body that is not JSON or not the expected payload
    INVALID_WEBHOOK = "invalid_webhook"
    # a request body over the configured limit (REGUA_MAX_BODY_BYTES)
    REQUEST_TOO_LARGE = "request_too_large"
    # an error regua did not expect; the log names where, never the data
    INTERNAL_ERROR = "internal_error"

    # --- the creditor's profile (services/setup.py, services/creditors.py) ------------------------
    # one or more fields of the creditor's profile refused (each named in the message)
    INVALID_CREDITOR = "invalid_creditor"
    # `regua init` on a new database without the creditor's name and CNPJ
    CREDITOR_REQUIRED = "creditor_required"
    # `regua init` naming another creditor than the one the database has
    CREDITOR_EXISTS = "creditor_exists"

    # --- spreadsheet rows refused by an import (services/import_rows.py, importing.py) ------------
    # a cell refused with no more specific code (the consumer flag)
    INVALID = "invalid"
    # a required cell left empty (name, invoice id)
    REQUIRED = "required"
    # a CPF/CNPJ that does not check
    INVALID_DOCUMENT = "invalid_document"
    # a row's UF that is not a Brazilian state
    INVALID_UF = "invalid_uf"
    # an e-mail address that does not parse
    INVALID_EMAIL = "invalid_email"
    # a phone number that does not parse
    INVALID_PHONE = "invalid_phone"
    # a date that does not parse, an issue date after the due date, a payment dated in the future
    INVALID_DATE = "invalid_date"
    # an amount that does not parse, or a balance over the amount
    INVALID_AMOUNT = "invalid_amount"
    # an invoice status regua does not know
    INVALID_STATUS = "invalid_status"
    # a boleto whose amount or due date differs from the invoice's
    BOLETO_MISMATCH = "boleto_mismatch"
    # an external id repeated within the same file
    DUPLICATE = "duplicate"
    # an invoice naming a customer regua does not have
    UNKNOWN_CUSTOMER = "unknown_customer"
    # a payment naming an invoice regua does not have
    UNKNOWN_INVOICE = "unknown_invoice"
    # a CEP that is not 8 digits (the address is kept without it)
    INVALID_POSTAL_CODE = "invalid_postal_code"
    # one invoice number billed twice to a customer under two invoice ids
    DUPLICATE_NUMBER = "duplicate_number"
    # one CPF/CNPJ under two customer ids
    DUPLICATE_DOCUMENT = "duplicate_document"
    # a file with a header and no rows
    NO_ROWS = "no_rows"

    # --- negotiation: offers, agreements, promises ---------------------------------------------
    # the customer's régua has no negotiation terms, or none covers this debt
    NO_TERMS = "no_terms"
    # an offer number that is not among the customer's offers
    UNKNOWN_OFFER = "unknown_offer"
    # an offer accepted after its validity
    OFFER_EXPIRED = "offer_expired"
    # a plan beyond the terms without the approval it needs
    OUTSIDE_TERMS = "outside_terms"
    # an installment or a promise dated in the past
    DATE_IN_PAST = "date_in_past"
    # a promise or a new due date further away than the régua's terms allow
    DATE_TOO_FAR = "date_too_far"
    # an invoice already held by an active agreement
    ALREADY_IN_AGREEMENT = "already_in_agreement"
    # an invoice the customer disputes: no agreement until the dispute is settled
    DISPUTED_INVOICE = "disputed_invoice"
    # an agreement number the creditor does not have, or one no longer active
    UNKNOWN_AGREEMENT = "unknown_agreement"

    # --- the staff's answers to the portal (services/disputes.py, services/call_list.py) -------
    # a dispute number the creditor does not have
    UNKNOWN_DISPUTE = "unknown_dispute"
    # a dispute already settled (procede or improcede)
    DISPUTE_SETTLED = "dispute_settled"
    # a requested call number the creditor does not have
    UNKNOWN_CALL = "unknown_call"
    # a requested call already marked as made
    CALL_DONE = "call_done"

    # --- the database an entry point is given (cli/context.py) ---------------------------------
    # a --db / REGUA_DATABASE_URL that does not parse, or names a database regua has no driver for
    INVALID_DATABASE_URL = "invalid_database_url"
    # a SQLite file that does not exist, for a command that needs an existing database
    DATABASE_NOT_FOUND = "database_not_found"
    # `regua demo` in a folder holding a database or files it did not make
    NOT_A_DEMO_FOLDER = "not_a_demo_folder"
    # the database refused or failed a statement (no tables, unreachable, locked...), in `--json`
    DATABASE_ERROR = "database_error"
    # a database whose schema is behind (or ahead of) this version's migrations: `regua db upgrade`
    SCHEMA_OUTDATED = "schema_outdated"
    # the database cannot be reached (the API answers 503, a worker refuses to start)
    DATABASE_UNAVAILABLE = "database_unavailable"
    # `regua run` for a day another process (the scheduler, another run) is running right now
    DAY_RUNNING = "day_running"

    # --- what the command line reports in `--json` for errors that are not a ReguaError --------
    # a REGUA_* variable that does not parse
    INVALID_CONFIG = "invalid_config"
    # a file that cannot be read or written (missing, a folder, no permission, not text)
    FILE_ERROR = "file_error"
    # a defect: an error regua did not expect (exit code 1)
    UNEXPECTED_ERROR = "unexpected_error"
    # the command line itself: an unknown option or command, a missing argument, a bad value
    USAGE_ERROR = "usage_error"
