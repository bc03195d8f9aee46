"""Every user-facing sentence lives in content/, in both languages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.core.texts import Texts, placeholders
from bot.paths import content_dir

ROOT = Path(__file__).resolve().parents[2]
TEXTS = Texts.load(content_dir())


def test_dutch_and_english_have_the_same_sentences_and_placeholders() -> None:
    assert TEXTS.keys("nl") == TEXTS.keys("en")
    for key in TEXTS.keys("nl"):
        assert placeholders(TEXTS.raw("nl", key)) == placeholders(TEXTS.raw("en", key)), key


def _keys_used_in_code() -> set[str]:
    """Literal keys passed to t(), reply(), choice(), texts.get() and Command(help_key)."""
    used: set[str] = set()
    for path in [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("handlers").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            args = [
                a.value
                for a in node.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            if (name in ("t", "reply", "choice", "label") and args) or (
                name == "get" and len(args) == 1 and "." in args[0]
            ):
                used.add(args[0])
            elif name in ("Command", "Capability") and len(args) >= 2:
                used.add(args[-1] if name == "Command" else args[1])
    return {key for key in used if re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", key)}


def test_every_key_used_in_code_exists() -> None:
    used = _keys_used_in_code()
    assert len(used) > 15  # the scan finds the keys, so this test can fail
    missing = sorted(key for key in used if not TEXTS.has(key))
    assert missing == []


def test_missing_english_sentence_falls_back_to_dutch() -> None:
    texts = Texts({"nl": {"a.b": "Hallo {name}"}, "en": {}})
    assert texts.get("en", "a.b", name="Anna") == "Hallo Anna"
    with pytest.raises(KeyError):
        texts.get("nl", "no.such")


def test_no_dutch_prose_in_handlers() -> None:
    """Handlers hold no sentences: their string literals are keys, actions or words to match."""
    for path in ROOT.joinpath("handlers").rglob("*.py"):
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        logged = {
            id(arg)
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("debug", "info", "warning", "error", "exception")
            for arg in node.args
        }
        logged |= {  # exception messages are for developers, not people
            id(arg)
            for node in ast.walk(tree)
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
            for arg in node.exc.args
        }
        for node in ast.walk(tree):
            if (
                id(node) not in logged
                and isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and " " in node.value.strip()
            ):
                pytest.fail(f"{path.name}: sentence in code: {node.value!r}")


def test_a_feature_may_keep_its_sentences_in_a_file_of_its_own(tmp_path: Path) -> None:
    messages = tmp_path / "messages"
    (messages / "nl").mkdir(parents=True)
    (messages / "nl.yaml").write_text("start:\n  hi: Hoi\n", encoding="utf-8")
    (messages / "nl" / "people.yaml").write_text("people:\n  hi: Dag\n", encoding="utf-8")
    texts = Texts.load(tmp_path)
    assert (texts.get("nl", "start.hi"), texts.get("nl", "people.hi")) == ("Hoi", "Dag")
    (messages / "nl" / "twice.yaml").write_text("start:\n  hi: Hallo\n", encoding="utf-8")
    with pytest.raises(ValueError, match="given twice"):
        Texts.load(tmp_path)
