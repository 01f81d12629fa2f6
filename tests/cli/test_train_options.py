"""Every option of every command that takes a value refuses a bad one before any work, with one line.

The options are read from the parsers themselves, so a new option without a check fails here.
"""

import argparse

import pytest

from alexnet.cli import option_types
from alexnet.cli.main import main
from alexnet.cli.parser import build_parser

from ..messages import assert_one_line


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def _valued_actions():
    for command, sub in _subcommands().items():
        for action in sub._actions:
            if action.nargs != 0 and action.dest != "help":  # flags take no value
                yield command, action


OPTIONS = [(command, (action.option_strings or [action.dest])[0]) for command, action in _valued_actions()]


def _action(command: str, name: str) -> argparse.Action:
    return next(a for c, a in _valued_actions() if c == command and name in (a.option_strings or [a.dest]))


def _bad_values(action: argparse.Action, tmp_path) -> list[str]:
    if action.choices is not None:
        return ["no-such-thing"]
    if isinstance(action.type, option_types.PathArg):
        return action.type.bad_values(tmp_path)
    if isinstance(action.type, option_types.Number | option_types.Device):
        return action.type.bad_values()
    pytest.fail(f"{action.option_strings or action.dest} takes a value but has no check: give it a type from "
                "alexnet.cli.train_options (Number, PathArg, DEVICE) or choices")  # fmt: skip


def test_the_enumeration_sees_every_command_and_option():
    commands = {c for c, _ in OPTIONS}
    assert commands == {"train", "evaluate", "summary", "bench", "doctor", "experiment"}
    assert len(OPTIONS) >= 30


@pytest.mark.parametrize("command, name", OPTIONS)
def test_a_bad_value_is_one_line_naming_the_option_and_what_it_accepts(command, name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing the command could write lands in the repository
    action = _action(command, name)
    before = {"evaluate": [str(tmp_path)], "experiment": ["relu"]}.get(command, [])
    for value in _bad_values(action, tmp_path):
        if action.option_strings:
            argv = [command, *before, name, value]
        else:
            argv = [command, value]
        with pytest.raises(SystemExit) as stop:
            main(argv)
        err = capsys.readouterr().err
        assert stop.value.code == 2, (argv, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, (argv, err)
        assert f"argument {name}: " in err, (argv, err)
        accepts = str(action.type) if action.choices is None else "invalid choice"
        assert accepts in err and value in err, (argv, err)


@pytest.mark.parametrize(
    "checker, good",
    [
        (option_types.WHOLE, ["1", "128"]),
        (option_types.POSITIVE, ["0.001", "2"]),
        (option_types.SEED, ["0", str(2**63 - 1)]),
        (option_types.Number(whole=False, low=0, high=1, below=True), ["0", "0.5"]),
        (option_types.DEVICE, ["auto", "cpu", "cuda", "cuda:1", "mps"]),
    ],
)
def test_the_edges_of_each_range_are_accepted(checker, good):
    for text in good:
        checker(text)


def test_each_checked_option_says_what_it_accepts_in_its_help():
    for command, sub in _subcommands().items():
        formatter = sub._get_formatter()
        for action in sub._actions:
            if isinstance(action.type, option_types.Number | option_types.PathArg | option_types.Device):
                assert f"accepts {action.type}" in " ".join(formatter._expand_help(action).split()), (command, action)


def test_a_mistyped_option_still_shows_the_usage(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["evaluate", "--bogus"])
    assert stop.value.code == 2 and capsys.readouterr().err.startswith("usage: python -m alexnet evaluate")


# ----------------------------------------------------------------------------- values the paper's run cannot take

CLI_OPTIONS = {
    "--seed 2**64": (["--seed", str(2**64)], r"argument --seed: expected a whole number from 0 to 2\*\*63 - 1"),
    "--lr nan": (["--lr", "nan"], r"argument --lr: expected a number above 0, got 'nan'"),
    "--width inf": (["--width", "inf"], r"argument --width: expected a number above 0, got 'inf'"),
    "--dropout nan": (
        ["--dropout", "nan"],
        r"argument --dropout: expected a number from 0 to 1 \(excluded\), got 'nan'",
    ),
}


@pytest.mark.parametrize("case", CLI_OPTIONS)
def test_bad_cli_options(case, tmp_path, capsys):
    """Values the command line cannot run stop it while it is read: exit status 2 and one line, no traceback."""
    argv, pattern = CLI_OPTIONS[case]
    with pytest.raises(SystemExit) as stop:
        main(["train", "--out", str(tmp_path / "run"), "--device", "cpu", "--no-progress", *argv])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and err.startswith("python -m alexnet train: error:")
    assert_one_line(err, pattern)
    assert not (tmp_path / "run").exists()  # before any work
