"""Refilling a DataTable without moving the operator's cursor to another object.

A reload (after a save, or when the engine reports new data) used to clear the table and leave the
cursor on row 1 or on whatever row now sat at the old index; a following ``x`` or ``d`` then acted on
the wrong page or delivery. Rows carry their object's id as key; the cursor follows the key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist


def cursor_key(table: DataTable) -> str | None:
    """Key of the row under the cursor, if any."""
    if not table.row_count:
        return None
    try:
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except CellDoesNotExist:  # cursor outside the rows
        return None


def refill(table: DataTable, rows: Iterable[tuple[str | None, Sequence[object]]], select: str | None = None) -> None:
    """Replace the rows; the cursor goes to ``select``, else stays on the same key, else the same index."""
    want = select if select is not None else cursor_key(table)
    index = table.cursor_row
    table.clear()
    keys: list[str | None] = []
    for key, cells in rows:
        table.add_row(*cells, key=key)
        keys.append(key)
    if keys:
        target = keys.index(want) if want is not None and want in keys else min(max(index, 0), len(keys) - 1)
        table.move_cursor(row=target, animate=False)
