"""Tables of the store (SQLAlchemy Core): systems, journal, documents, outbox, counters, scenarios."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    true,
)

metadata = MetaData()

# BigInteger autoincrement keys render as INTEGER on SQLite (rowid) and BIGSERIAL on PostgreSQL.
_PK = BigInteger().with_variant(Integer(), "sqlite")

systems = Table(
    "systems",
    metadata,
    Column("mnemonic", String(128), primary_key=True),
    Column("client_entity_id", String(64), nullable=False, unique=True),
    Column("callback_url", Text, nullable=False, default=""),
    Column("document_url", Text, nullable=False, default=""),
    Column("organizations", JSON, nullable=False, default=list),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("send_to_fremd", Boolean, nullable=False, default=False),
    Column("require_system", Boolean, nullable=False, default=False),
    Column("callback_soap_version", String(4), nullable=False, default="1.1"),
    Column("source", String(16), nullable=False, default="admin"),
    Column("updated_at", DateTime(), nullable=False),
)

requests = Table(
    "requests",
    metadata,
    Column("id", _PK, primary_key=True, autoincrement=True),
    Column("message_id", String(128), nullable=False, default=""),
    Column("operation", String(64), nullable=False),
    Column("received_at", DateTime(), nullable=False),
    Column("system", String(128), nullable=False, default=""),
    Column("client_entity_id", String(64), nullable=False, default=""),
    Column("local_uid", String(128), nullable=False, default=""),
    Column("kind", String(16), nullable=False, default=""),
    Column("sync_status", String(16), nullable=False, default=""),
    Column("errors", JSON, nullable=False, default=list),
    Column("http_status", Integer, nullable=False, default=200),
    Column("soap_version", String(4), nullable=False, default=""),
    Column("scenario", JSON, nullable=True),
    Column("duration_ms", Float, nullable=False, default=0.0),
    Column("detail", JSON, nullable=True),
    Index("ix_requests_message_id", "message_id"),
)
#: indexes older versions made that no query uses (``Database`` drops them): each cost every
#: registration a write of one more page (``requests.local_uid`` is looked up case-insensitively)
RETIRED_INDEXES = ("ix_requests_local_uid", "ix_documents_status")

documents = Table(
    "documents",
    metadata,
    Column("id", _PK, primary_key=True, autoincrement=True),
    Column("local_uid", String(128), nullable=False),
    #: lower-case localUid: duplicates and lookups are case-insensitive and use the index
    Column("local_uid_key", String(128), nullable=False, default=""),
    Column("message_id", String(128), nullable=False, default=""),
    Column("system", String(128), nullable=False, default=""),
    Column("organization", String(128), nullable=False, default=""),
    Column("kind", String(16), nullable=False, default=""),
    Column("status", String(16), nullable=False),  # pending | registered | rejected
    Column("emdr_id", String(64), nullable=True),
    Column("received_at", DateTime(), nullable=False),
    Column("registration_date_time", String(40), nullable=True),
    Column("store_till_date", String(40), nullable=True),
    Column("creation_date_time", String(40), nullable=False, default=""),
    Column("patient_snils", String(16), nullable=False, default=""),
    Column("document_number", String(256), nullable=False, default=""),
    Column("errors", JSON, nullable=False, default=list),
    Column("layers", JSON, nullable=False, default=list),
    Column("seeded", Boolean, nullable=False, default=False),
    # processing job (the asynchronous leg): queued -> claimed -> done
    Column("job_state", String(16), nullable=False, default="done"),
    Column("job_due_at", DateTime(), nullable=True),
    Column("job_lease_until", DateTime(), nullable=True),
    Column("job_owner", String(64), nullable=True),
    Column("behaviour", JSON, nullable=True),
    Column("updated_at", DateTime(), nullable=False),
    Index("ix_documents_local_uid", "local_uid_key"),
    Index("ix_documents_job", "job_state", "job_due_at"),
)

#: an emdrId names one document; a document without one (pending, rejected) has no entry in the index:
#: the insert of every accepted registration does not touch it (a NULL entry was one more page write)
Index("ux_documents_emdr_id", documents.c.emdr_id, unique=True,
      sqlite_where=documents.c.emdr_id.isnot(None), postgresql_where=documents.c.emdr_id.isnot(None))

#: the large parts of a document (request metadata with signatures, the CDA bytes) live apart from
#: the row that processing updates several times: SQLite rewrites a whole row on every UPDATE
payloads = Table(
    "payloads",
    metadata,
    Column("document_id", _PK, primary_key=True, autoincrement=False),
    Column("request", JSON, nullable=True),
    Column("content", LargeBinary, nullable=True),
)

#: links between registered documents (``associations/association`` of a registered request): a new
#: version's link to the version it replaces (``is_version``) or any other link, recorded as sent
links = Table(
    "links",
    metadata,
    Column("id", _PK, primary_key=True, autoincrement=True),
    Column("document_id", BigInteger, nullable=False),  # the registered document carrying the link
    Column("local_uid", String(128), nullable=False, default=""),
    Column("set_id", String(512), nullable=False, default=""),  # its setId, root|extension
    Column("version_number", Integer, nullable=True),  # its versionNumber
    Column("target", String(128), nullable=False, default=""),  # as sent: emdrId or localUid
    Column("type", String(64), nullable=False, default=""),
    Column("type_name", String(256), nullable=False, default=""),
    Column("target_document_id", BigInteger, nullable=True),
    Column("target_local_uid", String(128), nullable=False, default=""),
    Column("target_emdr_id", String(64), nullable=False, default=""),
    Column("target_version_number", Integer, nullable=True),
    Column("is_version", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(), nullable=False),
    Index("ix_links_document", "document_id"),
    Index("ix_links_target", "target_document_id"),
)
#: a document is replaced by one version at most: the chain is a list (the last guard behind the row
#: lock the processor takes on the replaced document while it checks and records a new version)
Index("ux_links_replaced_once", links.c.target_document_id, unique=True,
      sqlite_where=links.c.is_version == true(), postgresql_where=links.c.is_version == true())

outbox = Table(
    "outbox",
    metadata,
    Column("id", _PK, primary_key=True, autoincrement=True),
    Column("relates_to", String(128), nullable=False, default=""),
    Column("local_uid", String(128), nullable=False, default=""),
    Column("document_id", BigInteger, nullable=True),
    Column("system", String(128), nullable=False, default=""),
    Column("url", Text, nullable=False),
    Column("soap_version", String(4), nullable=False, default="1.1"),
    Column("action", String(64), nullable=False, default="sendRegisterDocumentResult"),
    Column("body", LargeBinary, nullable=False),
    Column("status", String(16), nullable=False),  # pending | sending | delivered | dead
    Column("attempts", JSON, nullable=False, default=list),
    Column("attempt_count", Integer, nullable=False, default=0),
    Column("backoff", JSON, nullable=False, default=list),
    Column("due_at", DateTime(), nullable=False),
    Column("lease_until", DateTime(), nullable=True),
    Column("owner", String(64), nullable=True),
    Column("created_at", DateTime(), nullable=False),
    Column("delivered_at", DateTime(), nullable=True),
    Column("note", Text, nullable=False, default=""),
    Index("ix_outbox_due", "status", "due_at"),
    Index("ix_outbox_relates_to", "relates_to"),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

scenarios = Table(
    "scenarios",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("source", Text, nullable=False),
    Column("origin", String(16), nullable=False, default="upload"),
    Column("updated_at", DateTime(), nullable=False),
)

#: active scenario sets: scope "" = global, else a system mnemonic
active_scenarios = Table(
    "active_scenarios",
    metadata,
    Column("scope", String(128), primary_key=True),
    Column("names", JSON, nullable=False, default=list),
    Column("activated_at", DateTime(), nullable=False),
)

#: counters of scenario rules (nth) and per-document story state
scenario_state = Table(
    "scenario_state",
    metadata,
    Column("key", String(512), primary_key=True),
    Column("value", BigInteger, nullable=False, default=0),
    Column("data", JSON, nullable=True),
)

#: liveness of the background processes (processor + callback sender) that ``serve`` runs apart
#: from the HTTP workers; /ready of an HTTP worker looks here
heartbeats = Table(
    "heartbeats",
    metadata,
    Column("owner", String(128), primary_key=True),
    Column("role", String(32), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("at", DateTime(), nullable=False),
)

#: conformance runs (CONTRACT §10): the plan as it was at the start, the steps with what was observed;
#: ``active_system`` is the system while the run is active (unique: one active run per system), else NULL
conformance_runs = Table(
    "conformance_runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("system", String(128), nullable=False),
    Column("active_system", String(128), nullable=True, unique=True),
    Column("plan", String(128), nullable=False),
    Column("plan_def", JSON, nullable=False),
    Column("params", JSON, nullable=False),
    Column("state", String(16), nullable=False),  # running | finished | cancelled
    Column("passed", Boolean, nullable=True),
    Column("steps", JSON, nullable=False),
    Column("created_at", DateTime(), nullable=False),
    Column("finished_at", DateTime(), nullable=True),
    Index("ix_conformance_runs_system", "system"),
)
