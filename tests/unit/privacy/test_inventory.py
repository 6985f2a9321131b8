"""The inventory classifies every table and column every store really has, and nothing else.

The schemas are built for real: the channels' and the handoff's and the store's Alembic
migrations, and Rasa's own tracker store (Hilo's windowed one, as the Rasa server runs it).
A table or column added without a line in privacy/inventory.py fails here, and so does a
line for one that no longer exists. docs/privacy.md shows the same list.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from privacy import inventory
from tests.conftest import ROOT

DOCS = ROOT / "docs" / "privacy.md"
START, END = "<!-- inventory:start -->", "<!-- inventory:end -->"


def schema_of(url: str) -> dict[str, list[str]]:
    engine = sa.create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            return {
                table: [column["name"] for column in inspector.get_columns(table)]
                for table in inspector.get_table_names()
            }
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[str]]]:
    from actions.commerce.database import migrate as commerce_migrate
    from components.tracker_store import WindowedSQLTrackerStore
    from connectors.storage import make_engine as channels_engine
    from handoff.database import migrate as handoff_migrate

    directory = tmp_path_factory.mktemp("schemas")
    urls = {store: f"sqlite:///{directory / f'{store}.db'}" for store in inventory.STORES}
    channels_engine(urls["channels"]).dispose()
    handoff_migrate(urls["handoff"])
    commerce_migrate(urls["commerce"])
    WindowedSQLTrackerStore(dialect="sqlite", db=str(directory / "trackers.db"))
    return {store: schema_of(url) for store, url in urls.items()}


@pytest.mark.parametrize("store", inventory.STORES)
def test_every_table_and_column_is_classified(
    schemas: dict[str, dict[str, list[str]]], store: str
) -> None:
    real = schemas[store]
    listed = inventory.tables(store)
    assert sorted(set(real) - set(listed)) == [], f"{store}: tables the inventory misses"
    assert sorted(set(listed) - set(real)) == [], f"{store}: tables that no longer exist"
    for name, columns in real.items():
        classified = [column.name for column in listed[name].columns]
        assert sorted(set(columns) - set(classified)) == [], f"{name}: unclassified columns"
        assert sorted(set(classified) - set(columns)) == [], f"{name}: columns that are gone"
        assert len(classified) == len(set(classified)), f"{name}: a column listed twice"


PERSONAL = {inventory.ID, inventory.CONTACT, inventory.CONTENT}
CHANGED = {inventory.Erase.BLANK, inventory.Erase.PSEUDONYMIZE}


def test_the_classification_is_consistent() -> None:
    for table in inventory.TABLES:
        erases = {column.erase for column in table.columns}
        if table.about is not inventory.About.CUSTOMER or table.owner == "privacy/audit.py":
            assert erases == {inventory.Erase.KEEP}, table.name
            continue
        if inventory.Erase.DELETE in erases:
            assert erases == {inventory.Erase.DELETE}, f"{table.name}: rows go whole"
        for column in table.columns:
            where = f"{table.name}.{column.name}"
            if column.erase in CHANGED:
                assert column.category in PERSONAL, f"{where}: blanked, so it is personal"
            if column.erase is inventory.Erase.KEEP:
                assert column.category not in PERSONAL, f"{where}: personal, yet kept"


def test_every_owner_is_a_module_of_this_repository() -> None:
    owners = {table.owner for table in inventory.TABLES} | {f.owner for f in inventory.FILES}
    for owner in owners - {"(Alembic)", "Rasa"}:
        assert (ROOT / owner).is_file(), owner


def test_the_docs_show_this_inventory() -> None:
    text = DOCS.read_text()
    assert START in text, f"{DOCS} needs the inventory markers"
    assert END in text, f"{DOCS} needs the inventory markers"
    shown = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert shown == inventory.markdown().strip(), (
        "docs/privacy.md is out of date: paste `python -m privacy.inventory` between its "
        "inventory markers"
    )


def test_the_printed_inventory(capsys: pytest.CaptureFixture[str]) -> None:
    assert inventory.main() == 0
    printed = capsys.readouterr().out
    assert "`handoff_cases`" in printed
    assert "pseudonymize" in printed
    assert Path(inventory.__file__).name == "inventory.py"
