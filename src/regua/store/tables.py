"""SQLAlchemy Core tables: the persistence shape of regua, nothing more.

Table names use the glossary (`invoices`, `actions`, `promises`...). Money columns are integer
centavos (`*_cents`), dates are `Date`, instants are timezone-aware UTC. CPF/CNPJ are strings:
the CNPJ becomes alphanumeric in July 2026.

Bulk work (import, planning, reconciliation, reports) runs set-based over these tables with Core
statements; rules stay in `regua.domain` and receive plain rows.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from regua.domain.channels import CHANNELS

# Deterministic constraint names so Alembic migrations work the same on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere for million-row tables.
Id = BigInteger().with_variant(Integer(), "sqlite")

NO_MORE_STEPS = date(9999, 12, 31)

INVOICE_STATUSES = ("open", "paid", "cancelled", "disputed", "in_agreement", "written_off")

creditors = Table(
    "creditors",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("document", String(14), nullable=False),  # CNPJ or CPF, compact
    Column("email", String(320)),
    Column("phone", String(20)),
    Column("whatsapp", String(20)),
    Column("address", String(400)),
    Column("city", String(100)),
    Column("uf", String(2)),
    Column("website", String(200)),
    Column("timezone", String(64), nullable=False, server_default="America/Sao_Paulo"),
    Column("pix_key", String(77)),
    # Fee settings: basis points (1/100 of a percent). 200 = 2 %, 100 = 1 % a month.
    Column("late_fee_bp", Integer, nullable=False, server_default="200"),
    Column("interest_monthly_bp", Integer, nullable=False, server_default="100"),
    Column("interest_source", String(16), nullable=False, server_default="contract"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The rest of the creditor's profile (domain.creditor_profile); never an example value.
    Column("trade_name", String(200)),
    Column("pix_key_kind", String(10)),  # cnpj | cpf | email | telefone | aleatoria
    Column("sender_email", String(320)),  # From of its e-mails
    Column("reply_to", String(320)),
    Column("postal_code", String(8)),  # CEP, digits
    Column("service_hours", String(120)),
    Column("boleto_bank", String(3)),
    Column("boleto_agency", String(6)),
    Column("boleto_account", String(13)),
    Column("boleto_wallet", String(3)),
    Column("boleto_agreement", String(20)),
    Column("updated_at", DateTime(timezone=True)),
    UniqueConstraint("document"),
)

customers = Table(
    "customers",
    metadata,
    Column("id", Id, primary_key=True),
    Column("creditor_id", Id, ForeignKey("creditors.id"), nullable=False),
    Column("external_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("document", String(14), nullable=False),
    Column("document_kind", String(4), nullable=False),  # cpf | cnpj
    # CDC protection (2 % multa cap) applies to consumers; a company can be one too.
    Column("is_consumer", Boolean, nullable=False),
    Column("uf", String(2)),
    Column("city", String(100)),
    Column("address", String(400)),  # street, number and complement
    Column("district", String(100)),  # bairro
    Column("postal_code", String(8)),  # CEP, digits
    # Asked by the portal's identity check when known (the CPF/CNPJ digits otherwise).
    Column("birth_date", Date),
    Column("tags", String(400), nullable=False, server_default=""),  # ",a,b," for LIKE lookups
    Column("segment", String(40)),
    Column("segment_since", Date),
    Column("paused_until", Date),  # pause set by a person; NULL end = until resumed
    Column("paused", Boolean, nullable=False, server_default="0"),
    Column("pause_reason", String(400)),
    Column("anonymised_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("creditor_id", "external_id"),
    Index("ix_customers_document", "creditor_id", "document"),
    # The customers never classified: each daily segment refresh starts with them.
    Index(
        "ix_customers_unclassified",
        "creditor_id",
        postgresql_where=text("segment IS NULL"),
        sqlite_where=text("segment IS NULL"),
    ),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    # One row per channel: a mobile number yields sms, whatsapp and phone rows, so an opt-out
    # ("SAIR" on WhatsApp) stops that channel only.
    Column("channel", String(10), nullable=False),
    Column("value", String(320), nullable=False),  # E.164, normalised e-mail, or postal address
    Column("opted_out_at", DateTime(timezone=True)),
    Column("opt_out_reason", String(200)),
    Column("invalid_at", DateTime(timezone=True)),  # provider said the address does not exist
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("customer_id", "channel", "value"),
    CheckConstraint(f"channel IN {CHANNELS!r}", name="channel"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", Id, primary_key=True),
    Column("creditor_id", Id, ForeignKey("creditors.id"), nullable=False),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("external_id", String(64), nullable=False),
    Column("number", String(64), nullable=False),
    Column("description", String(400), nullable=False, server_default=""),
    Column("issue_date", Date),
    Column("due_date", Date, nullable=False),
    # The due date moved to the next bank business day (CC art. 132 §1): paying up to this day
    # is on time. Stored so set-based queries can tell on-time from late without a calendar.
    Column("effective_due_date", Date, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("balance_cents", BigInteger, nullable=False),
    Column("status", String(16), nullable=False, server_default="open"),
    Column("settled_on", Date),
    Column("boleto_line", String(48)),
    Column("nosso_numero", String(20)),
    Column("pix_txid", String(35)),
    Column("agreement_id", Id),
    # The early-payment discount a preventive reminder offered (paid by `early_discount_until`,
    # at least the balance less it settles the invoice), and the discount granted when it did.
    Column("early_discount_cents", BigInteger),
    Column("early_discount_until", Date),
    Column("discount_cents", BigInteger),
    # What late payments settled of the fees (`domain.fees.FeeState`): the multa and the juros
    # up to `fees_paid_through` are paid, or carried unpaid in `fees_unpaid_cents`.
    Column("fees_paid_through", Date),
    Column("fees_unpaid_cents", BigInteger, nullable=False, server_default="0"),
    Column("paused_until", Date),
    Column("paused", Boolean, nullable=False, server_default="0"),
    Column("pause_reason", String(400)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Every writer of an invoice sets it (import, payments, reversals): the planner and the
    # segment refresh read the invoices written since their last run by its index.
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("creditor_id", "external_id"),
    CheckConstraint(f"status IN {INVOICE_STATUSES!r}", name="status"),
    CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
    Index("ix_invoices_open_due", "status", "due_date"),
    Index("ix_invoices_updated_at", "updated_at"),
    Index("ix_invoices_customer", "customer_id"),
    Index("ix_invoices_nosso_numero", "nosso_numero"),
    Index("ix_invoices_pix_txid", "pix_txid"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", Id, primary_key=True),
    # The invoice paid keeps its foreign key; the creditor and the customer, copies of the
    # invoice's, have none: their checks cost more than the copy of a return file's payments
    # (see `actions` and migration 0006).
    Column("creditor_id", Id, nullable=False),
    # A unique key per source makes every import idempotent: ERP id, CNAB line key, PIX e2e id.
    # A part of a Pix spread over several invoices given back: <e2e>:parte:<n>:devolucao:<id>.
    Column("external_id", String(120), nullable=False),
    Column("source", String(10), nullable=False),  # import | cnab | pix | manual
    Column("invoice_id", Id, ForeignKey("invoices.id")),  # NULL = unmatched money
    Column("customer_id", Id),
    Column("amount_cents", BigInteger, nullable=False),
    Column("applied_cents", BigInteger, nullable=False, server_default="0"),
    Column("credit_cents", BigInteger, nullable=False, server_default="0"),  # overpayment
    # The part of applied_cents that paid multa and juros (CC art. 354: fees first); the rest
    # paid principal. Kept so a reversal (CNAB 44, Bradesco 40) reopens exactly that principal.
    Column("fees_cents", BigInteger, nullable=False, server_default="0"),
    Column("paid_on", Date, nullable=False),
    Column("method", String(20)),
    Column("reference", String(80)),  # txid, nosso número, invoice external id as given
    Column("status", String(12), nullable=False),  # applied | unmatched | reversed
    Column("note", String(400)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # From a bank return file: the tarifa the bank kept and the amount it credited to the
    # account (amount_cents is what the payer paid); NULL for sources that do not say.
    Column("bank_fee_cents", BigInteger),
    Column("credited_cents", BigInteger),
    UniqueConstraint("creditor_id", "source", "external_id"),
    Index("ix_payments_invoice", "invoice_id"),
    Index("ix_payments_paid_on", "paid_on"),
)

interactions = Table(
    "interactions",
    metadata,
    Column("id", Id, primary_key=True),
    # No foreign keys (see `actions`): a return file writes a timeline entry per payment, and
    # their checks cost more than the entries' insert.
    Column("customer_id", Id, nullable=False),
    Column("invoice_id", Id),
    Column("action_id", Id),
    Column("at", DateTime(timezone=True), nullable=False),
    # planned, sent, delivered, read, replied, answered, promised, refused, failed, opted_out,
    # paid, paused, resumed, note ...
    Column("kind", String(20), nullable=False),
    Column("channel", String(10)),
    Column("detail", Text, nullable=False, server_default=""),
    Column("data", JSON),
    # What a provider told us (delivery receipt, reply), as "<channel>:<kind>:<provider id>":
    # unique, so a webhook delivered twice lands on the timeline once. NULL for our own entries.
    Column("event_key", String(240)),
    Index("ix_interactions_customer_at", "customer_id", "at"),
    UniqueConstraint("event_key"),
)

policies = Table(
    "policies",
    metadata,
    Column("id", Id, primary_key=True),
    Column("creditor_id", Id, ForeignKey("creditors.id"), nullable=False),
    Column("name", String(80), nullable=False),
    Column("version", String(16), nullable=False),  # content digest
    Column("source", Text, nullable=False),  # the YAML as loaded: history keeps every version
    Column("active", Boolean, nullable=False),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("creditor_id", "name", "version"),
)

# When each creditor's customers were last classified, and under which rules: the next
# refresh under the same rules reclassifies only the customers something could have moved
# since (`services.segmenting`), not the whole portfolio.
# Each run of the daily plan: what it planned for, when it started (the invoices written since
# are looked at by the next run) and under which régua versions (other versions: every open
# invoice is looked at again).
plan_runs = Table(
    "plan_runs",
    metadata,
    Column("id", Id, primary_key=True),
    Column("creditor_id", Id, ForeignKey("creditors.id"), nullable=False),
    Column("planned_for", Date, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("policies_digest", String(64), nullable=False),
    Column("examined", Integer, nullable=False),
    Column("inserted", Integer, nullable=False),
    # The first day of the régua in force: steps that fell before it are not caught up; NULL:
    # catch up (migration 0012).
    Column("starts_on", Date),
    Index("ix_plan_runs_creditor_started", "creditor_id", "started_at"),
)

# The day's run of each creditor, claimed once by whoever starts it (the scheduler of
# `regua serve`, `regua run`): the primary key is the lock (`store.day_runs`). finished_at NULL:
# running, or its process died (taken over after a lease).
day_runs = Table(
    "day_runs",
    metadata,
    Column("creditor_id", Id, ForeignKey("creditors.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("runner", String(120), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
)

segment_refreshes = Table(
    "segment_refreshes",
    metadata,
    Column("creditor_id", Id, ForeignKey("creditors.id"), primary_key=True),
    Column("refreshed_on", Date, nullable=False),
    Column("refreshed_at", DateTime(timezone=True), nullable=False),
    Column("rules_digest", String(64), nullable=False),
)

segment_history = Table(
    "segment_history",
    metadata,
    Column("id", Id, primary_key=True),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("segment", String(40), nullable=False),
    Column("previous", String(40)),
    Column("since", Date, nullable=False),
    UniqueConstraint("customer_id", "since"),
)

promises = Table(
    "promises",
    metadata,
    Column("id", Id, primary_key=True),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("invoice_id", Id, ForeignKey("invoices.id")),  # NULL = all open invoices
    Column("amount_cents", BigInteger, nullable=False),
    Column("promised_for", Date, nullable=False),
    Column("status", String(12), nullable=False, server_default="open"),  # open|kept|broken
    Column("channel", String(10)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Who recorded it (an operator, "portal"), what arrived by its day, and when it was decided.
    Column("recorded_by", String(80)),
    Column("paid_cents", BigInteger),
    Column("decided_on", Date),
    Index("ix_promises_customer", "customer_id", "promised_for"),
)

AGREEMENT_STATUSES = ("active", "completed", "broken", "cancelled")

# An acordo: an accepted offer that holds the original invoices ("in_agreement") and issues one
# invoice per installment (`invoices.agreement_id`). The offer's figures are kept as accepted:
# what the customer was told (CDC art. 52) does not change when the terms do.
agreements = Table(
    "agreements",
    metadata,
    Column("id", Id, primary_key=True),
    Column("creditor_id", Id, ForeignKey("creditors.id"), nullable=False),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("status", String(10), nullable=False),
    Column("made_on", Date, nullable=False),
    Column("kind", String(12), nullable=False),  # cash | installments | extension
    Column("offer_number", Integer, nullable=False),
    Column("accepted_by", String(80), nullable=False),
    Column("channel", String(20), nullable=False),  # operador, portal, telefone, whatsapp ...
    Column("approved_by_role", String(10), nullable=False),  # operator | gestor
    Column("within_terms", Boolean, nullable=False),
    Column("principal_cents", BigInteger, nullable=False),
    Column("late_fee_cents", BigInteger, nullable=False),
    Column("interest_cents", BigInteger, nullable=False),
    Column("debt_cents", BigInteger, nullable=False),
    Column("discount_cents", BigInteger, nullable=False),
    Column("down_payment_cents", BigInteger, nullable=False),
    Column("total_cents", BigInteger, nullable=False),
    Column("installment_count", Integer, nullable=False),
    Column("interest_kind", String(8), nullable=False),
    Column("interest_monthly_bp", Integer, nullable=False),
    Column("monthly_rate", String(12), nullable=False),  # CET, percent, as shown
    Column("annual_rate", String(12), nullable=False),
    Column("break_days_late", Integer, nullable=False),
    Column("closed_on", Date),
    Column("close_reason", String(400)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint(f"status IN {AGREEMENT_STATUSES!r}", name="status"),
    Index("ix_agreements_creditor_status", "creditor_id", "status"),
    Index("ix_agreements_customer", "customer_id"),
)

# The original invoices an agreement holds, with the balance each had when it was accepted.
agreement_invoices = Table(
    "agreement_invoices",
    metadata,
    Column("agreement_id", Id, primary_key=True),
    Column("invoice_id", Id, primary_key=True),
    Column("held_cents", BigInteger, nullable=False),
    Index("ix_agreement_invoices_invoice", "invoice_id"),
)

actions = Table(
    "actions",
    metadata,
    Column("id", Id, primary_key=True),
    # No foreign keys, like the timeline and the planner's tables below: PostgreSQL checks one
    # by locking the row it points at, which cost as much as the inserts of a day's plan
    # (0.2 s of 0.44 s for 17,000 actions). regua never deletes a creditor, a customer or an
    # invoice (erasure anonymises), and writes these tables only with ids it has just read.
    Column("creditor_id", Id, nullable=False),
    Column("customer_id", Id, nullable=False),
    # collection | thank_you: a customer gets at most one of each per day.
    Column("purpose", String(12), nullable=False, server_default="collection"),
    Column("planned_for", Date, nullable=False),
    Column("policy_name", String(80), nullable=False),
    Column("policy_version", String(16), nullable=False),
    Column("step_id", String(40), nullable=False),
    Column("step_offset", Integer, nullable=False),
    Column("segment", String(40)),
    Column("channel", String(10)),
    Column("contact_value", String(320)),
    Column("template", String(80)),
    Column("status", String(10), nullable=False),
    Column("reason", String(400)),
    # The proof that the contact was lawful: window checked, weekly count, law basis.
    Column("evidence", JSON),
    Column("cost_cents", Integer, nullable=False, server_default="0"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("claimed_by", String(80)),
    Column("claimed_at", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
    Column("provider_message_id", String(200)),
    Column("idempotency_key", String(80)),
    # Delivery receipts from the provider (WhatsApp, SMS): when the message reached the phone
    # and when it was read.
    Column("delivered_at", DateTime(timezone=True)),
    Column("read_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Idempotency of the planner is this key, not a check in Python.
    UniqueConstraint("customer_id", "planned_for", "purpose", name="uq_actions_customer_day"),
    Index("ix_actions_status_day", "status", "planned_for"),
    # Delivery receipts name our message by the provider's id. Only sent messages have one:
    # the day's plan writes its actions without an entry here.
    Index(
        "ix_actions_provider_message_id",
        "provider_message_id",
        postgresql_where=text("provider_message_id IS NOT NULL"),
        sqlite_where=text("provider_message_id IS NOT NULL"),
    ),
)

# The planner writes a row here for every invoice of every action, and remembers a step per
# invoice in `invoice_steps`: no foreign keys on these two. PostgreSQL checks a key by locking
# the row it points at, which rewrites that invoice's page: the check cost eight times the
# insert itself (22,000 links of a day: 0.59 s against 0.06 s). regua never deletes an action,
# an invoice or a customer, and writes both tables only with ids it has just read or inserted.
# A Pix code shown for several invoices (a message about them, the portal's "pagar tudo"): its
# txid names each of them, also those that already had a txid of their own in `invoices`.
pix_txid_invoices = Table(
    "pix_txid_invoices",
    metadata,
    Column("txid", String(35), primary_key=True),
    Column("invoice_id", Id, primary_key=True),
)

action_invoices = Table(
    "action_invoices",
    metadata,
    Column("action_id", Id, primary_key=True),
    Column("invoice_id", Id, primary_key=True),
    Column("step_id", String(40), nullable=False),
    Index("ix_action_invoices_invoice", "invoice_id"),
)

# What the planner remembers of each invoice it has looked at: the first day a later step could
# fall (read by an index range scan, so a day's run reads only the invoices whose day has come;
# NO_MORE_STEPS when none is left, NULL once the invoice was found closed) and the most advanced
# step already planned (the catch-up memory: a skipped day sends only the latest step and never
# repeats one; empty until a step was planned). An invoice written since the planner's last run
# (new, changed, reopened) is looked at whatever its day here.
invoice_steps = Table(
    "invoice_steps",
    metadata,
    Column("invoice_id", Id, primary_key=True),
    Column("next_step_on", Date),
    Column("last_offset", Integer),
    Column("last_step_id", String(40)),
    Column("last_planned_for", Date),
    Index("ix_invoice_steps_next_step", "next_step_on"),
)

# Secrets of the installation kept in its database, so the embedded default needs no variable:
# "link_signing" signs the customers' portal and unsubscribe links (REGUA_LINK_SECRET, when
# set, takes its place).
installation_secrets = Table(
    "installation_secrets",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Identity checks of the debtor portal (`store.portal_attempts`): every answer, right or wrong,
# so tries are limited per link, per customer and per client address, and a dispute about who
# opened a page can be answered. No foreign key: a check is written before anything else.
portal_attempts = Table(
    "portal_attempts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("customer_id", Id, nullable=False),
    # SHA-256 (hex, 32 first characters) of the link's token: the token itself opens the page.
    Column("link_key", String(32), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Index("ix_portal_attempts_link_key_at", "link_key", "at"),
    Index("ix_portal_attempts_customer_id_at", "customer_id", "at"),
    Index("ix_portal_attempts_address_at", "address", "at"),
)

# What a debtor tells on the portal (`services.portal_requests`), besides promises and
# agreements: an invoice disputed (with the receipt's file, stored outside the web root), a
# call asked for a day and hours, the one-question feedback after paying. No foreign keys, like
# the timeline: written only with ids just read.
disputes = Table(
    "disputes",
    metadata,
    Column("id", Id, primary_key=True),
    Column("customer_id", Id, nullable=False),
    Column("invoice_id", Id, nullable=False),
    Column("reason", String(16), nullable=False),  # not_recognized | already_paid
    Column("comment", String(500)),
    # The receipt's random file name in REGUA_RECEIPTS_DIR, its type and size.
    Column("receipt_file", String(80)),
    Column("receipt_type", String(40)),
    Column("receipt_bytes", Integer),
    # open | accepted | rejected: staff settle it (`regua contestacao resolver`, migration 0028)
    Column("status", String(10), nullable=False, server_default="open"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", String(80)),
    Column("resolution_note", String(500)),
    Index("ix_disputes_invoice_id", "invoice_id"),
    Index("ix_disputes_customer_id", "customer_id"),
)

callback_requests = Table(
    "callback_requests",
    metadata,
    Column("id", Id, primary_key=True),
    Column("creditor_id", Id, nullable=False),
    Column("customer_id", Id, nullable=False),
    Column("requested_for", Date, nullable=False),
    Column("starts", String(5), nullable=False),  # "09:00", the customer's local time
    Column("ends", String(5), nullable=False),
    # open | done: an operator made it (`regua ligacao feita`, migration 0028)
    Column("status", String(10), nullable=False, server_default="open"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("done_at", DateTime(timezone=True)),
    Column("done_by", String(80)),
    Column("result", String(500)),
    Index("ix_callback_requests_requested_for", "requested_for", "status"),
)

portal_feedback = Table(
    "portal_feedback",
    metadata,
    Column("id", Id, primary_key=True),
    Column("customer_id", Id, nullable=False),
    Column("score", Integer, nullable=False),  # 1 to 5
    Column("comment", String(500)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_portal_feedback_customer_id", "customer_id"),
)
