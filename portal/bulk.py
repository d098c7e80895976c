"""A batch's new rows in one INSERT per table, its changed rows in one UPDATE per table and set of columns,
whatever their number (POST /sync)."""
import functools
from collections import defaultdict

from sqlalchemy import ARRAY, bindparam, column, func, insert, inspect, select, update
from sqlalchemy.orm import MANYTOONE, ColumnProperty, make_transient, make_transient_to_detached
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.orm.exc import StaleDataError

from .extensions import db


def insert_new(*models) -> None:
    """Write the session's new objects of `models`, in this order (each may refer to those before), and
    detach them with their IDs (`_as_written`); the flush writes everything else.

    On PostgreSQL `INSERT ... SELECT FROM unnest(arrays)`, one array parameter per column, as the timeline
    events are written (`sending.state.insert_events`): the flush would send a thousand rows as a VALUES
    list of a thousand placeholders per column, parsed again by psycopg for every batch (its cache keeps
    only short statements), where this text is the same for any batch and stays prepared. SQLite runs
    in-process: there the flush writes them.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    new = list(db.session.new)
    for model in models:
        rows = [row for row in new if type(row) is model]
        if rows:
            _insert(inspect(model), rows)


def _insert(mapper, rows: list) -> None:
    columns = {key: col for key, col in mapper.columns.items() if not col.primary_key}
    values = [_values(mapper, row, columns) for row in rows]
    arrays = {f"new_{col.name}": [row[key] for row in values] for key, col in columns.items()}
    # On the session's connection: the session's own execute would flush these very rows first.
    # The sequence numbers the rows in the order of the SELECT's ORDER BY, so the sorted IDs are the
    # rows' in order (SQLAlchemy's own many-row INSERT matches the IDs it gets back the same way).
    ids = sorted(db.session.connection().scalars(_from_arrays(mapper.local_table), arrays))
    key = mapper.primary_key[0].key
    for row, row_values, id_ in zip(rows, values, ids, strict=True):
        _as_written(row, {**row_values, key: id_})  # every column as written: none left to load


def _as_written(row, values: dict) -> None:
    """The row with `values` as written, detached with its identity: the flush leaves it alone.

    Nothing reads a batch's rows from the session again in its transaction (the answers are built
    from the rows themselves), and a detached row keeps its values through the commit: no reload.
    Keeping it in the session would mean adding it back, a walk over every property of the row (the
    save-update cascade), about a sixth of a batch of new appointments. A row marked so that another
    changed row refers to comes back as persistent when that row is written (the cascade again).
    `set_committed_value` would clear the history but leave the row flagged as modified, and the
    flush's work on a thousand such rows costs about what their UPDATEs did.
    """
    # make_transient takes the row out of the session without `Session.expunge`'s cascade, and drops a
    # persistent row's identity key: make_transient_to_detached takes no other
    make_transient(row)
    inspect(row).dict.update(values)
    make_transient_to_detached(row)


def _values(mapper, row, columns: dict) -> dict:
    """The row's column values as the flush would write them: as set, else the column's default, and the
    foreign keys of the objects it refers to (written by now)."""
    loaded = inspect(row).dict
    values = {key: loaded[key] if key in loaded else _generated(col.default) for key, col in columns.items()}
    for relationship in mapper.relationships:
        target = loaded.get(relationship.key)
        if relationship.direction is MANYTOONE and target is not None:
            for local, remote in relationship.local_remote_pairs:
                values[local.key] = getattr(target, remote.key)
    return values


def _generated(default):
    """A column's default (or onupdate) as the flush computes it; a server-side one alone would not apply
    here, and the tables written here have none."""
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg


@functools.cache
def _from_arrays(table):
    columns = [col for col in table.columns if not col.primary_key]
    batch = func.unnest(*[bindparam(f"new_{col.name}", type_=ARRAY(col.type)) for col in columns]).table_valued(
        *[column(col.name, col.type) for col in columns], with_ordinality="ordinality").render_derived(name="batch")
    rows = select(*[batch.c[col.name] for col in columns]).order_by(batch.c.ordinality)
    return insert(table).from_select(columns, rows).returning(*table.primary_key.columns)


def update_changed(*models) -> None:
    """Write the session's changed objects of `models` and detach them as written (`_as_written`).

    On PostgreSQL one `UPDATE ... FROM unnest(arrays)` per table and set of changed columns (the flush,
    too, sends one executemany per set): a batch's thousand changed rows are one statement, whose text is
    the same for any batch, and a statement trigger (the usage totals') runs once. The rows are the
    batch's, locked when it loaded them; the tables keep no ORM version counter (`revision` is the
    program's, a plain column). SQLite runs in-process: there the flush writes them.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    dirty = list(db.session.dirty)
    for model in models:
        mapper = inspect(model)
        # what the flush adds to every changed row: updated_at = utcnow()
        onupdate = {key: _generated(col.onupdate) for key, col in mapper.columns.items() if col.onupdate}
        groups = defaultdict(list)
        for row in dirty:
            changes = _changes(mapper, row) if type(row) is model else None
            if changes:
                changes = onupdate | changes
                groups[tuple(sorted(changes))].append((row, changes))
        for keys, rows in groups.items():
            _update(mapper, keys, rows)


def _changes(mapper, row) -> dict | None:
    """The row's changed columns and their values as the flush would write them, the foreign keys of
    the objects it now refers to (written by now) included; None when a collection changed (the flush
    writes the row then)."""
    state = inspect(row)
    changes = {}
    for key in state.committed_state:
        prop = mapper.attrs[key]
        if isinstance(prop, ColumnProperty):
            if get_history(row, key).has_changes():
                changes[key] = state.dict[key]
        elif prop.direction is MANYTOONE:
            target = state.dict.get(key)
            for local, remote in prop.local_remote_pairs:
                foreign_key = mapper.get_property_by_column(local).key
                value = None if target is None else getattr(target, remote.key)
                if value != state.dict.get(foreign_key):
                    changes[foreign_key] = value
        else:
            return None
    return changes


def _update(mapper, keys: tuple, rows: list) -> None:
    arrays = {f"changed_{key}": [changes[key] for _, changes in rows] for key in keys}
    arrays["changed_row_id"] = [inspect(row).identity[0] for row, _ in rows]
    written = db.session.connection().execute(_update_from_arrays(mapper.local_table, keys), arrays).rowcount
    if written != len(rows):
        raise StaleDataError(f"UPDATE of {mapper.local_table.name} expected {len(rows)} rows, matched {written}")
    for row, changes in rows:
        _as_written(row, changes)


@functools.lru_cache(maxsize=256)  # one statement per set of columns: bounded, as the sets may vary
def _update_from_arrays(table, keys: tuple):
    (key_column,) = table.primary_key.columns
    columns = {"row_id": key_column} | {key: table.c[key] for key in keys}
    batch = func.unnest(*[bindparam(f"changed_{key}", type_=ARRAY(col.type)) for key, col in columns.items()]
                        ).table_valued(*[column(key, col.type) for key, col in columns.items()]
                                       ).render_derived(name="batch")
    return update(table).where(key_column == batch.c.row_id).values({key: batch.c[key] for key in keys})
