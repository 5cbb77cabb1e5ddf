"""What a newcomer types first: the commands the README and docs show, and the
specification's commands before any data exists."""

import re
import shlex
from pathlib import Path

import pytest
from cli_helpers import run

from lilyvae.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
QUICK_START = "## Your own data"
#: The specification's two reproduction commands, with `lilyvae train` in place of
#: `python scripts/train_vae.py`, and the hybrid models of its figure script.
SPECIFICATION_COMMANDS = [
    "lilyvae train --model unsupervised --data data/vae_training_data_v2_20cm.csv "
    "--output models/unsup.pt --epochs 100 --batch-size 256 --lr 1e-3 --beta 1.0 --seed 42",
    "lilyvae train --model semisupervised --data data/vae_training_data_v2_20cm.csv "
    "--output models/semisup.pt --epochs 100 --batch-size 256 --lr 1e-3 --beta 1.0 "
    "--alpha 0.1 --seed 42",
    "lilyvae train --model unsupervised --recipe hybrid --output models/unsup_hybrid.pt",
]


def section(text: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same level."""
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end >= 0 else len(text)]


def fenced_commands(text: str) -> list[str]:
    """The ``lilyvae`` commands of the ```bash blocks, continuation lines joined and
    comments dropped. Lines with ``...`` elide flags on purpose and are left out."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("lilyvae ") and "..." not in line:
                commands.append(" ".join(line.split()))
    return commands


def inline_commands(text: str) -> list[str]:
    """``lilyvae ...`` commands written in code spans (which may wrap lines). A span
    without a flag names a command (`lilyvae properties`) rather than showing one."""
    spans = [" ".join(span.split()) for span in re.findall(r"`(lilyvae [^`]+)`", text)]
    return [span for span in spans if " --" in span]


def parse(command: str):
    """Parse a shown command with the real parser; a usage error fails the test
    with the command and argparse's message."""
    argv = shlex.split(command)
    assert argv[0] == "lilyvae", command
    try:
        return build_parser().parse_args(argv[1:])
    except SystemExit:
        pytest.fail(f"the docs show a command the CLI refuses: {command}")


def test_quick_start_is_five_commands_from_raw_files_to_report():
    quick = section(README.read_text(), QUICK_START)
    commands = fenced_commands(quick)
    assert 1 <= len(commands) <= 5, commands
    names = [parse(c).command for c in commands]
    assert names == ["build-dataset", "train", "embed", "evaluate", "report"]
    train = parse(commands[1])
    assert train.holdout_boreholes is not None  # an honest evaluation needs held-out boreholes


def test_every_command_the_quick_start_shows_parses(capsys):
    quick = section(README.read_text(), QUICK_START)
    commands = fenced_commands(quick) + inline_commands(quick)
    assert any(c.startswith("lilyvae synth ") for c in commands)
    assert any(c.startswith("lilyvae figures ") for c in commands)
    for command in commands:
        parse(command)


def test_every_full_command_in_the_readme_and_docs_parses():
    texts = [README.read_text()] + [p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))]
    commands = [c for text in texts for c in fenced_commands(text)]
    assert len(commands) >= 10
    for command in commands:
        parse(command)


@pytest.mark.parametrize("command", SPECIFICATION_COMMANDS, ids=["unsup", "semisup", "hybrid"])
def test_the_specifications_commands_without_data_say_how_to_get_some(
    tmp_path, monkeypatch, capsys, command
):
    monkeypatch.chdir(tmp_path)  # a fresh folder: no data/ yet
    code, _, err = run(shlex.split(command)[1:], capsys)
    assert code == 1
    assert len(err) == 1 and "Traceback" not in err[0], err
    message = err[0]
    assert message.startswith(
        "lilyvae train: error: data/vae_training_data_v2_20cm.csv: no such file"
    )
    for way in ("lilyvae build-dataset --lily-dir", "lilyvae synth --output", "lilyvae demo"):
        assert way in message
    assert list(tmp_path.iterdir()) == []  # nothing written
