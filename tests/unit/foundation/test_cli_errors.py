"""The command line as a new user meets it: a mistake prints one line and exits 2, never a traceback; the
embedded data directory does not depend on where the command runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services import cli
from shared.config import Settings, default_data_dir
from shared.errors import NotFound

NEWSWATCH = [sys.executable, "-m", "services.cli"]
REPO = Path(__file__).resolve().parents[3]


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSWATCH_", "XDG_"))}
    env.update(HOME=str(home), PYTHONPATH=str(REPO))
    return env


def _run(args: list[str], *, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NEWSWATCH, *args], cwd=cwd, env=_clean_env(home), capture_output=True, text=True, timeout=300
    )


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            FileNotFoundError(2, "No such file or directory", "/nonexistent"),
            "/nonexistent: No such file or directory",
        ),
        (IsADirectoryError(21, "Is a directory", "/tmp"), "/tmp: Is a directory"),
        (PermissionError(13, "Permission denied", "/root/x"), "/root/x: Permission denied"),
        (NotFound("no watch with id 7"), "no watch with id 7"),
    ],
)
def test_a_user_error_is_one_line_and_exit_2(
    error: Exception, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def run() -> int:
        raise error

    assert cli.guarded("analyze", run) == 2
    assert _one_line(capsys.readouterr().err) == f"newswatch analyze: {expected}"


def test_a_bug_keeps_its_traceback() -> None:
    def run() -> int:
        raise ZeroDivisionError("a bug")

    with pytest.raises(ZeroDivisionError):
        cli.guarded("analyze", run)


def test_a_closed_output_pipe_ends_quietly(capsys: pytest.CaptureFixture[str]) -> None:
    def run() -> int:
        raise BrokenPipeError(32, "Broken pipe")

    assert cli.guarded("backtest", run) == cli.EXIT_BROKEN_PIPE
    assert capsys.readouterr().err == ""


def test_bad_numbers_are_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["run", "--port", "99999"], ["api", "--port", "0"], ["reindex", "--batch", "0"],
                 ["worker", "-c", "-1"], ["keys", "revoke", "-3"]):  # fmt: skip
        with pytest.raises(SystemExit) as exit_:
            cli.build_parser().parse_args(argv)
        assert exit_.value.code == 2
        assert "Traceback" not in capsys.readouterr().err


def test_the_data_dir_default_is_independent_of_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("NEWSWATCH_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert default_data_dir() == tmp_path / ".local" / "share" / "newswatch"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # the XDG spec: a relative path is invalid
    assert default_data_dir() == tmp_path / ".local" / "share" / "newswatch"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    assert Settings().data_dir == tmp_path / "xdg" / "newswatch"
    monkeypatch.setenv("NEWSWATCH_DATA_DIR", str(tmp_path / "mine"))
    assert Settings().data_dir == tmp_path / "mine"


def test_commands_outside_the_checkout(tmp_path: Path) -> None:
    """analyze of a missing file, a backtest before any database, one after `migrate` run elsewhere, a bad
    setting, and a reader that closes the pipe early: no traceback anywhere."""
    home, elsewhere, other = tmp_path / "home", tmp_path / "elsewhere", tmp_path / "other"
    for d in (home, elsewhere, other):
        d.mkdir()
    missing = _run(["analyze", "/nonexistent"], cwd=elsewhere, home=home)
    assert missing.returncode == 2
    assert _one_line(missing.stderr) == "newswatch analyze: /nonexistent: No such file or directory"

    before = _run(["backtest", "--query", "SCO"], cwd=elsewhere, home=home)
    assert before.returncode == 2
    assert _one_line(before.stderr).startswith("newswatch backtest: cannot use the database")

    assert _run(["migrate"], cwd=other, home=home).returncode == 0
    assert (home / ".local" / "share" / "newswatch" / "newswatch.db").is_file()
    after = _run(["backtest", "--query", "SCO", "--json"], cwd=elsewhere, home=home)
    assert after.returncode == 0, after.stderr
    assert '"query": "SCO"' in after.stdout

    env = _clean_env(home) | {"NEWSWATCH_FETCH_TIMEOUT_SECONDS": "abc"}
    bad = subprocess.run([*NEWSWATCH, "migrate"], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert bad.returncode == 2
    assert _one_line(bad.stderr).startswith("newswatch migrate: bad setting: NEWSWATCH_FETCH_TIMEOUT_SECONDS")

    proc = subprocess.Popen(
        [*NEWSWATCH, "backtest", "--query", "SCO", "--json"],
        cwd=elsewhere,
        env=_clean_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the command writes (as `| head` once it has its lines)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == cli.EXIT_BROKEN_PIPE
    assert "Traceback" not in err and "Exception ignored" not in err
