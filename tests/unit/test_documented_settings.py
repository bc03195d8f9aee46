"""The README's configuration table and `bot.settings.Settings` list the same variables.

A documented variable that nothing reads misleads operators; a setting that is
not documented is invisible to them. Both directions are checked.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices, AliasPath

from bot.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"

# Documented on purpose although `Settings` does not read them. Each needs a reason.
NOT_SETTINGS: dict[str, str] = {
    # (empty today) e.g. "TEST_POSTGRES_URL": "read by tests/conftest.py only",
}

_ROW = re.compile(r"^\|\s*`[A-Z]")
_NAME = re.compile(r"`([A-Z][A-Z0-9_]*)`")


def documented_names(text: str) -> set[str]:
    """Upper-case names in the first cell of configuration rows (``| `NAME` | …``)."""
    names: set[str] = set()
    for line in text.splitlines():
        if not _ROW.match(line):
            continue
        first_cell = line.split("|")[1]
        names.update(_NAME.findall(first_cell))
    return names


def setting_names() -> set[str]:
    """The environment names `Settings` reads: the field name upper-cased, or its alias."""
    names: set[str] = set()
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias or field.alias
        if alias is None:
            names.add(field_name.upper())
        elif isinstance(alias, str):
            names.add(alias.upper())
        elif isinstance(alias, AliasChoices):
            names.update(
                choice.upper()
                for choice in alias.choices
                if isinstance(choice, str)  # an AliasPath is not an environment name
            )
        elif isinstance(alias, AliasPath):  # pragma: no cover - not used by Settings
            names.add(str(alias.path[0]).upper())
    return names


def test_the_parser_reads_rows_with_several_names() -> None:
    text = "| `A_B`, `C` | `1`, `2` | x `NOT_THIS` |\n| variable | default |\n`D` outside a row\n"
    assert documented_names(text) == {"A_B", "C"}


def test_the_readme_documents_variables() -> None:
    assert len(documented_names(README.read_text(encoding="utf-8"))) >= 20


def test_every_documented_variable_is_a_setting() -> None:
    documented = documented_names(README.read_text(encoding="utf-8"))
    unread = sorted(documented - setting_names() - set(NOT_SETTINGS))
    assert not unread, (
        f"README.md documents variables that bot/settings.py does not read: {', '.join(unread)}"
    )


def test_every_setting_is_documented() -> None:
    documented = documented_names(README.read_text(encoding="utf-8"))
    missing = sorted(setting_names() - documented)
    assert not missing, (
        f"bot/settings.py reads variables the README configuration table lacks: "
        f"{', '.join(missing)}"
    )


def test_the_allow_list_holds_no_settings_and_only_documented_names() -> None:
    documented = documented_names(README.read_text(encoding="utf-8"))
    assert not set(NOT_SETTINGS) & setting_names(), "a setting needs no allow-list entry"
    assert set(NOT_SETTINGS) <= documented, "allow-list entries must be documented"
