"""`alliantiebot --help` reads like a well-made command: every command and subcommand
says what it does, shows examples, and the top level says where the settings are."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from bot import cli


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str | None]]:
    """Every (command path, its parser, its one-line help in the parent's list)."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        summaries = {choice.dest: choice.help for choice in action._choices_actions}
        for name, child in action.choices.items():
            yield (*path, name), child, summaries.get(name)
            yield from commands(child, (*path, name))


ALL = [(), *(path for path, _, _ in commands(cli._parser()))]


def help_of(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_:
        cli.main([*path, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: alliantiebot")
    return out


def test_there_are_commands_with_subcommands() -> None:
    assert {"chat", "run", "ask", "content", "db", "keys"} <= {p[0] for p in ALL if p}
    assert ("db", "upgrade") in ALL and ("db", "current") in ALL
    assert ("keys", "rotate") in ALL and ("content", "gaps") in ALL


@pytest.mark.parametrize("path", ALL, ids=lambda p: " ".join(p) or "alliantiebot")
def test_every_help_exits_0_without_rest_markup(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    out = help_of(path, capsys)
    assert "`" not in out, f"raw reST/markdown backticks in:\n{out}"


def test_every_command_has_a_summary_and_a_description() -> None:
    for path, parser, summary in commands(cli._parser()):
        name = " ".join(path)
        assert summary and summary.strip(), f"`{name}` has no one-line help in its parent's list"
        assert parser.description and len(parser.description.split()) >= 8, (
            f"`{name} --help` has no description of what it does"
        )


def test_every_command_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for path in ALL:
        out = help_of(path, capsys)
        name = " ".join(path)
        assert "example" in out.lower(), f"`{name} --help` shows no example"
        examples = out[out.lower().index("example") :]
        assert f"alliantiebot {name}".strip() in examples, f"`{name} --help`: no example of it"


def test_every_choice_and_option_is_explained() -> None:
    parsers = [cli._parser(), *(parser for _, parser, _ in commands(cli._parser()))]
    for parser in parsers:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help, f"{parser.prog}: {action.dest} has no help"
            for choice in action.choices or ():
                assert str(choice) in action.help, (
                    f"{parser.prog}: {action.dest}'s help does not say what {choice!r} means"
                )


def test_the_top_level_help_lists_the_commands_and_names_the_settings_docs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = help_of((), capsys)
    for name in ("chat", "run", "ask", "content", "db", "keys"):
        assert f"\n    {name} " in out, f"{name} is not listed with its summary"
    assert "Configuration" in out and "README" in out
    assert "docs/operations.md" in out and ".env.example" in out
    assert "exit" in out.lower() and "2" in out  # the exit code of a configuration error
