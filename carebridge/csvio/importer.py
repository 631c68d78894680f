"""The import itself: rows in, checked, looked up, compared and written in batches, in one transaction.

Each file is read a row at a time and handled in batches of BATCH_SIZE rows: the rows are read and
checked, the records they refer to are fetched for the whole batch in one query per kind, the business
rules run, and the rows that can be stored are compared with what is already there (matched on their
coursework ID) and written: new ones with bulk_create (COPY on PostgreSQL, see _Creator.insert), changed
ones with bulk_update, unchanged ones not at all. Rows without an error are written even after
an error elsewhere, so that later rows are checked against the same database a successful import would
see; if any error was found the whole transaction is rolled back at the end, so nothing at all is kept.
A dry run does the same and always rolls back.

Memory: one batch of rows, the IDs seen in the file being read (to find duplicates), and the facilities
and clinicians. References to patients and appointments are looked up per batch, not held.
"""

import logging
from collections.abc import Callable, Iterable, Mapping

from django.db import DatabaseError, connection, models, transaction
from django.db.models import OuterRef, Subquery
from psycopg.types.json import Jsonb

from carebridge.access.models import CareRelationship
from carebridge.access.relationships import relationships_clear
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.services import audit_record
from carebridge.core import clock
from carebridge.core import nhs_number as nhs
from carebridge.core.actor import Actor
from carebridge.csvio import formats, opening_hours, rules
from carebridge.csvio.formats import SPECS, FileSpec, ParsedRow
from carebridge.csvio.refs import LOOKUP_CHUNK, Resolver, chunked, find_existing
from carebridge.csvio.report import WHOLE_ROW, ImportReport
from carebridge.organisations.models import Clinician, Facility
from carebridge.patients.models import Patient
from carebridge.prescribing.models import Prescription, PrescriptionStatus
from carebridge.referrals import relationships as referrals_relationships
from carebridge.referrals.models import Referral
from carebridge.scheduling import relationships as scheduling_relationships
from carebridge.scheduling.models import Appointment
from carebridge.scheduling.services import opening_hours_set

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# New rows go into PostgreSQL with COPY rather than bulk_create's INSERT: on 100,000 patients that is
# about 11,000 rows/s against 6,500 (see docs/importing.md). False uses bulk_create everywhere.
COPY_ON_POSTGRESQL = True
# bulk_update writes one CASE expression per field; smaller statements keep it quick on both databases.
UPDATE_BATCH_SIZE = 250
# Appointments or referrals whose care relationships are rewritten at a time, after the files are in.
CARE_SYNC_BATCH = 5000

Rows = Iterable[tuple[int, Mapping[str, str]]]
# Called after every batch and at the end of each file: (file name, rows read so far, finished).
Progress = Callable[[str, int, bool], None]


class FileSource:
    """One file to import: which spec it follows, the name to report it by, and its rows."""

    def __init__(self, spec: FileSpec, display_name: str, rows: Rows) -> None:
        self.spec = spec
        self.display_name = display_name
        self.rows = rows

    @property
    def unreadable(self) -> bool:
        return bool(getattr(self.rows, "unreadable", False))


class _Import:
    def __init__(self, report: ImportReport, progress: Progress | None) -> None:
        self.report = report
        self.progress = progress
        self.resolver = Resolver()
        # IDs of rows in this import that could not be stored, per file: references to them are not
        # reported again (the row itself already was).
        self.unstored: dict[str, set[str]] = {spec.name: set() for spec in SPECS}
        # Files of this import that could not be read to the end: references into them are not checked.
        self.unreadable: set[str] = set()
        self.in_import: set[str] = set()
        # Set for each file as it starts (see run_file).
        self.table_was_empty = False
        self._creators: dict[type[models.Model], _Creator] = {}
        # Facilities created, or whose opening-hours text changed: their structured hours follow the text.
        self.opening_hours_changed: set[str] = set()
        # Source IDs of appointments and referrals written, whose care relationships follow at the end.
        self.care_changed: dict[type[models.Model], set[str]] = {Appointment: set(), Referral: set()}
        self.care_tables_were_empty: set[type[models.Model]] = set()

    # -- one file ------------------------------------------------------------------------------------
    def run_file(self, source: FileSource) -> None:
        spec, name = source.spec, source.display_name
        counts = self.report.counts(name)
        seen_ids: dict[str, int] = {}
        batch: list[ParsedRow] = []
        current_line = 0

        def error(column: str, message: str) -> None:
            self.report.error(name, current_line, column, message)

        def warn(column: str, message: str) -> None:
            self.report.warning(name, current_line, column, message)

        ctx = rules.new_context(self.report, name)
        parser = formats.RowParser(spec, error=error, warn=warn)
        # The first load into an empty table (a new practice's whole list) need not look for records
        # to update, nor for NHS numbers already taken: there are none, and duplicates within the
        # file are caught as the rows are read.
        self.table_was_empty = not spec.model.objects.exists()
        if self.table_was_empty and spec.model in self.care_changed:
            self.care_tables_were_empty.add(spec.model)
        # Keys as they come (rows handed in directly may say "Patient_ID "), and what each one means.
        keys: frozenset[str] | None = None
        renames: dict[str, str] | None = None
        for line, raw in source.rows:
            current_line = line
            counts.rows += 1
            if keys is None:
                keys = frozenset(raw)
                renames = {key: formats.canonical_column(key) for key in keys}
                header_problems = formats.check_header(spec, sorted(renames.values()))
                for column, message in header_problems:
                    self.report.error(name, 1, column, message)
                if header_problems:
                    self.unreadable.add(spec.name)
                    return
                if all(key == canonical for key, canonical in renames.items()):
                    renames = None  # already the coursework's names: use each row as it is
            elif raw.keys() != keys:
                error(WHOLE_ROW, "This row does not have the same columns as the rows before it.")
                continue
            row = parser.parse(line, raw if renames is None else {renames[key]: value for key, value in raw.items()})
            if row.source_id:
                first = seen_ids.get(row.source_id)
                if first is not None:
                    error(
                        spec.id_column.name,
                        f"The ID {row.source_id} is used again: it is already the ID of the "
                        f"{spec.noun} on line {first}. Each {spec.noun} needs its own ID.",
                    )
                    row.ok = False
                else:
                    seen_ids[row.source_id] = line
            batch.append(row)
            if len(batch) >= BATCH_SIZE:
                self._flush(spec, name, batch, ctx)
                batch = []
                if self.progress is not None:
                    self.progress(name, counts.rows, False)
        self._flush(spec, name, batch, ctx)
        if source.unreadable:
            self.unreadable.add(spec.name)
        skipped = getattr(source.rows, "skipped_ids", None)
        if skipped:
            self.unstored[spec.name].update(skipped)
        self.resolver.forget(spec.name)
        if self.progress is not None:
            self.progress(name, counts.rows, True)

    # -- one batch -----------------------------------------------------------------------------------
    def _flush(self, spec: FileSpec, name: str, batch: list[ParsedRow], ctx: rules.RuleContext) -> None:
        if not batch:
            return
        self._resolve(spec, name, batch)
        check = rules.CHECKS[spec.name]
        for row in batch:
            ctx.line = row.line
            check(row, ctx)
        if spec is formats.PATIENTS and not self.table_was_empty:
            self._check_nhs_numbers_free(name, batch)
        storable = [row for row in batch if row.ok and row.writable]
        for row in batch:
            if row.source_id and not (row.ok and row.writable):
                self.unstored[spec.name].add(row.source_id)
        if storable:
            self._write(spec, name, storable)

    def _resolve(self, spec: FileSpec, name: str, batch: list[ParsedRow]) -> None:
        wanted: dict[str, set[str]] = {}
        for row in batch:
            for column in spec.refs:
                value = row.values.get(column.name)
                if isinstance(value, str):
                    wanted.setdefault(column.ref.file, set()).add(value)
        found = {file: self.resolver.lookup(file, keys) for file, keys in wanted.items()}
        for row in batch:
            for column in spec.refs:
                value = row.values.get(column.name)
                attname = column.ref.attname
                if value is None:
                    row.fields[attname] = None
                    continue
                if not isinstance(value, str):  # NOT_GIVEN, or the cell was wrong (already reported)
                    continue
                target = column.ref.file
                info = found.get(target, {}).get(value)
                if info is not None and value not in self.unstored[target]:
                    row.fields[attname] = info.pk
                    row.refs[column.name] = info
                elif value in self.unstored[target] or target in self.unreadable:
                    row.writable = False
                else:
                    row.ok = False
                    self.report.error(name, row.line, column.name, self._missing_message(target, column.label, value))

    def _missing_message(self, target: str, label: str, key: str) -> str:
        noun = formats.SPECS_BY_NAME[target].noun
        if target in self.in_import:
            return f"There is no {noun} {key}: it is not in {target} and not already in Carebridge."
        return (
            f"There is no {noun} {key} in Carebridge, and {target} is not part of this import. Import the "
            f"{noun} first, or check the {label}."
        )

    def _check_nhs_numbers_free(self, name: str, batch: list[ParsedRow]) -> None:
        """An NHS number may belong to one patient only; the database would refuse a second one."""
        by_number = {
            row.fields["nhs_number"]: row for row in batch if row.ok and isinstance(row.fields.get("nhs_number"), str)
        }
        if not by_number:
            return
        holders = [
            holder
            for chunk in chunked(list(by_number), LOOKUP_CHUNK)
            for holder in Patient.objects.filter(nhs_number__in=chunk)
            .order_by()
            .values_list("nhs_number", "source_id", "public_id")
        ]
        for number, source_id, public_id in holders:
            row = by_number[number]
            holder = source_id or public_id.hex
            if holder != row.source_id:
                row.ok = False
                self.report.error(
                    name,
                    row.line,
                    "nhs_number",
                    f"NHS number {nhs.formatted(number)} already belongs to patient {holder} in "
                    f"Carebridge. Each patient has their own NHS number.",
                )

    # -- writing -------------------------------------------------------------------------------------
    def _creator(self, model: type[models.Model]) -> "_Creator":
        creator = self._creators.get(model)
        if creator is None:
            creator = self._creators[model] = _Creator(model)
        return creator

    def _write(self, spec: FileSpec, name: str, rows: list[ParsedRow]) -> None:
        counts = self.report.counts(name)
        model = spec.model
        existing = {} if self.table_was_empty else find_existing(model, (row.source_id for row in rows))
        now = clock.now()
        creates: list[dict[str, object]] = []
        updates: list[models.Model] = []
        changed_fields: set[str] = set()
        unchanged = 0
        defaults = spec.create_defaults()
        for row in rows:
            current = existing.get(row.source_id)
            if current is None:
                values = {**defaults, **row.fields}
                values.update(_completion(values, model))
                creates.append(values)
                continue
            changed = {
                field: value for field, value in row.fields.items() if field != "source_id" and current[field] != value
            }
            changed.update(_completion(current | changed, model))
            if not changed:
                unchanged += 1
                continue
            changed.update(dict.fromkeys(spec.touch_on_change, now))
            # Every field the batch updates is set on every record of the batch (bulk_update writes
            # them all), so the record starts from what is in the database now.
            record = model(**current)
            for field, value in changed.items():
                setattr(record, field, value)
            changed_fields.update(changed)
            updates.append(record)
        try:
            # A savepoint per batch: should the database still refuse something the checks let through,
            # the batch is reported (not a traceback) and the rest of the import is still checked.
            with transaction.atomic():
                self._creator(model).insert(creates)
                if updates:
                    model.objects.bulk_update(updates, sorted(changed_fields), batch_size=UPDATE_BATCH_SIZE)
        except DatabaseError as exc:
            logger.warning("CSV import: database refused a batch of %s: %s", spec.name, exc)
            first, last = rows[0].line, rows[-1].line
            self.report.error(
                name,
                first,
                WHOLE_ROW,
                f"The database refused the rows on lines {first} to {last} ({exc}). Nothing was "
                f"imported; please report this to the Carebridge team with the file.",
            )
            self.unstored[spec.name].update(row.source_id for row in rows)
            return
        counts.created += len(creates)
        counts.updated += len(updates)
        counts.unchanged += unchanged
        if model in (Appointment, Referral):
            self.care_changed[model].update(values["source_id"] for values in creates)
            self.care_changed[model].update(record.source_id for record in updates)
        if model is Facility:
            self.opening_hours_changed.update(values["source_id"] for values in creates)
            self.opening_hours_changed.update(
                record.source_id for record in updates if "opening_hours" in changed_fields
            )

    def sync_care_relationships(self) -> None:
        """The appointments and referrals this import made or changed open records as those made in
        Carebridge do: their care relationships are written in the import's transaction, with COPY on
        PostgreSQL as the records were. Into a table that was empty, there are none to replace."""
        plan = (
            (
                Appointment,
                scheduling_relationships.RELATIONSHIP_FIELDS,
                scheduling_relationships.appointment_relationship_rows,
            ),
            (Referral, referrals_relationships.RELATIONSHIP_FIELDS, referrals_relationships.referral_relationship_rows),
        )
        for model, fields, rows_for in plan:
            source_ids = sorted(self.care_changed[model])
            for start in range(0, len(source_ids), CARE_SYNC_BATCH):
                records = list(
                    model.objects.filter(source_id__in=source_ids[start : start + CARE_SYNC_BATCH]).only(*fields)
                )
                if model not in self.care_tables_were_empty:
                    relationships_clear(source_ids=[record.public_id for record in records])
                self._creator(CareRelationship).insert([row.values() for row in rows_for(records)])

    def name_referral_services(self) -> None:
        """referrals.csv names no hospital service: a referral's is its receiving clinician's speciality,
        so the hospital's worklist can sort it into a service. One UPDATE over the referrals written."""
        source_ids = sorted(self.care_changed[Referral])
        speciality = Clinician.objects.filter(pk=OuterRef("receiving_clinician_id")).values("speciality")[:1]
        for start in range(0, len(source_ids), CARE_SYNC_BATCH):
            Referral.objects.filter(
                source_id__in=source_ids[start : start + CARE_SYNC_BATCH], receiving_clinician__isnull=False
            ).update(speciality=Subquery(speciality))

    def sync_opening_times(self, actor: Actor) -> None:
        """Give new facilities, and those whose hours text changed, the weekly hours their text says.

        Text Carebridge cannot read leaves the structured hours as they were (the rules already warned),
        so a manager's own settings are never replaced by nothing.
        """
        for facility in Facility.objects.filter(source_id__in=self.opening_hours_changed):
            hours = opening_hours.weekly_times(facility.opening_hours) if facility.opening_hours else None
            if hours is not None:
                opening_hours_set(actor=actor, facility=facility, hours=hours)


class _Creator:
    """Makes new model instances from field values, filling the model's defaults for the rest.

    Positional arguments in field order are what Django itself uses to build instances from database
    rows; it is several times quicker than keyword arguments, which matters at 100,000 rows.
    """

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = []
        for field in model._meta.concrete_fields:
            if field.has_default() and callable(field.default):
                default: Callable[[], object] = field.default
            else:
                default = (lambda value: lambda: value)(field.get_default())
            self.fields.append((field.attname, default))

    def new(self, values: dict[str, object]) -> models.Model:
        return self.model(*[values[attname] if attname in values else default() for attname, default in self.fields])

    def insert(self, rows: list[dict[str, object]]) -> None:
        """Insert new records: on PostgreSQL with COPY, which takes about a quarter of the time
        bulk_create's INSERT does for the same rows (measured: 22 ms against 80 ms per 1,000 patients);
        elsewhere with bulk_create. Both run inside the import's transaction, and the database checks
        the same constraints either way."""
        if not rows:
            return
        if connection.vendor != "postgresql" or not COPY_ON_POSTGRESQL:
            self.model.objects.bulk_create([self.new(values) for values in rows])
            return
        opts = self.model._meta
        # (attname, default, is JSON) for every column but the id, which the database assigns.
        plan = [
            (attname, default, isinstance(field, models.JSONField))
            for field, (attname, default) in zip(opts.concrete_fields, self.fields, strict=True)
            if field is not opts.pk
        ]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(opts.get_field(attname).column) for attname, _, _ in plan)
        statement = f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for values in rows:
                row = []
                for attname, default, is_json in plan:
                    value = values[attname] if attname in values else default()
                    row.append(Jsonb(value) if is_json else value)
                copy.write_row(row)


def _completion(values: dict[str, object], model: type[models.Model]) -> dict[str, object]:
    """What the database requires but the coursework has no column for, given a record's values."""
    if (
        model is Prescription
        and values.get("status") == PrescriptionStatus.CANCELLED
        and not values.get("cancellation_reason")
    ):
        return {"cancellation_reason": formats.IMPORTED_CANCELLATION_REASON}
    return {}


def import_sources(
    *,
    sources: list[FileSource],
    actor: Actor,
    report: ImportReport,
    progress: Progress | None = None,
    description: str = "",
) -> ImportReport:
    """Import `sources` (in any order) in one transaction; commit only when there is no error."""
    order = {spec.name: index for index, spec in enumerate(SPECS)}
    sources = sorted(sources, key=lambda source: order[source.spec.name])
    run = _Import(report, progress)
    run.in_import = {source.spec.name for source in sources}
    with transaction.atomic():
        for source in sources:
            report.counts(source.display_name)
            run.run_file(source)
        if not report.has_errors:
            run.sync_opening_times(actor)
            run.sync_care_relationships()
            run.name_referral_services()
        if report.has_errors or report.dry_run:
            transaction.set_rollback(True)
        else:
            audit_record(
                actor=actor,
                action=AuditAction.IMPORT,
                object_type=AuditObject.DATASET,
                object_id=description[:64],
                detail=report.as_detail(),
            )
            report.stored = True
    return report
