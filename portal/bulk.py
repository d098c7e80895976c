"""A batch's new rows in one INSERT per table, whatever their number (POST /sync)."""
import functools

from sqlalchemy import ARRAY, bindparam, column, func, insert, inspect, select
from sqlalchemy.orm import MANYTOONE, make_transient_to_detached

from .extensions import db


def insert_new(*models) -> None:
    """Write the session's new objects of `models`, in this order (each may refer to those before), and
    make them persistent with their IDs, as a flush would; the flush writes everything else.

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
        db.session.expunge(row)
        # every column as written (none left to load), then as if loaded just now: nothing to flush
        inspect(row).dict.update(row_values, **{key: id_})
        make_transient_to_detached(row)
        db.session.add(row)


def _values(mapper, row, columns: dict) -> dict:
    """The row's column values as the flush would write them: as set, else the column's default, and the
    foreign keys of the objects it refers to (written by now)."""
    loaded = inspect(row).dict
    values = {key: loaded[key] if key in loaded else _default(col) for key, col in columns.items()}
    for relationship in mapper.relationships:
        target = loaded.get(relationship.key)
        if relationship.direction is MANYTOONE and target is not None:
            for local, remote in relationship.local_remote_pairs:
                values[local.key] = getattr(target, remote.key)
    return values


def _default(col):
    """The column's default as the flush computes it; a server-side one alone would not apply here, and
    the tables written here have none."""
    if col.default is None:
        return None
    return col.default.arg(None) if col.default.is_callable else col.default.arg


@functools.cache
def _from_arrays(table):
    columns = [col for col in table.columns if not col.primary_key]
    batch = func.unnest(*[bindparam(f"new_{col.name}", type_=ARRAY(col.type)) for col in columns]).table_valued(
        *[column(col.name, col.type) for col in columns], with_ordinality="ordinality").render_derived(name="batch")
    rows = select(*[batch.c[col.name] for col in columns]).order_by(batch.c.ordinality)
    return insert(table).from_select(columns, rows).returning(*table.primary_key.columns)
