"""The newest migration as read at start without alembic (bot.storage.db.declared_head,
issue 18) is alembic's own head; where the files do not say it plainly, it answers
None and alembic decides."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.storage import db


def alembic_head(location: Path) -> str | None:
    from alembic.script import ScriptDirectory

    config = db.alembic_config("sqlite://")
    config.set_main_option("script_location", str(location))
    return ScriptDirectory.from_config(config).get_current_head()


def test_the_declared_head_is_alembics_head() -> None:
    db.declared_head.cache_clear()
    assert db.declared_head() is not None
    assert db.declared_head() == alembic_head(db.MIGRATIONS) == db.head_revision()


REVISION = '''"""{doc}"""
from typing import Union

from alembic import op

revision{annotation} = {revision}
down_revision{annotation} = {down}
branch_labels = None


def upgrade() -> None:
    op.execute("SELECT 1")  # revision = "not-this-one"
'''


@pytest.fixture
def migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "versions").mkdir()
    monkeypatch.setattr(db, "MIGRATIONS", tmp_path)
    db.declared_head.cache_clear()
    yield tmp_path
    db.declared_head.cache_clear()


def write(folder: Path, name: str, revision: str, down: str, annotation: str = "") -> None:
    text = REVISION.format(doc=name, annotation=annotation, revision=revision, down=down)
    (folder / "versions" / name).write_text(text, encoding="utf-8")


def test_a_chain_in_any_file_order_and_alembics_annotated_form(migrations: Path) -> None:
    write(migrations, "b_second.py", '"b7"', '"a1"', annotation=": str")
    write(migrations, "a_first.py", "'a1'", "None", annotation=": Union[str, None]")
    write(migrations, "c_third.py", '"c3"  # the newest', '"b7"')
    (migrations / "versions" / "__init__.py").write_text('revision = "x"\n', encoding="utf-8")
    (migrations / "versions" / "notes.txt").write_text('revision = "y"\n', encoding="utf-8")
    assert db.declared_head() == alembic_head(migrations) == "c3"


@pytest.mark.parametrize(
    ("second", "down"),
    [
        ('"b2"', '("a1", "x9")'),  # a merge
        ('"b2"', '"z0"'),  # a down revision no file has
        ("REVISION_ID", '"a1"'),  # not a plain string
    ],
)
def test_files_that_do_not_say_it_plainly_leave_it_to_alembic(
    migrations: Path, second: str, down: str
) -> None:
    write(migrations, "a_first.py", '"a1"', "None")
    write(migrations, "b_second.py", second, down)
    assert db.declared_head() is None


def test_two_heads_leave_it_to_alembic(migrations: Path) -> None:
    write(migrations, "a_first.py", '"a1"', "None")
    write(migrations, "b_left.py", '"b1"', '"a1"')
    write(migrations, "b_right.py", '"b2"', '"a1"')
    assert db.declared_head() is None


def test_a_revision_file_without_its_lines_leaves_it_to_alembic(migrations: Path) -> None:
    write(migrations, "a_first.py", '"a1"', "None")
    write(migrations, "b_second.py", '"b2"', '"a1"')
    (migrations / "versions" / "c_odd.py").write_text(
        'from somewhere import REVISION as revision\ndown_revision = "b2"\n', encoding="utf-8"
    )
    assert db.declared_head() is None
