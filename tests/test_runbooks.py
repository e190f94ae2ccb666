"""The runbooks against the code: the rollback steps run for real, and every ``pampax`` command they show exists.

Runbooks rot silently: a renamed flag or command only shows up during an incident. So the rollback
runbook's marked blocks run in bash against a moto server, and every bash block and inline
``pampax ...`` span of every runbook is checked against the Typer app's commands and options.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import boto3
import pytest
import typer.main
from moto.server import ThreadedMotoServer

from pampax.build import build_index
from pampax.errors import ERROR_TABLE
from pampax_local.cli import app

REPO = Path(__file__).resolve().parents[1]
RUNBOOKS = REPO / "runbooks"
SHOP = REPO / "tests" / "fixtures" / "shop"
REGION = "us-east-1"
# Shell operators end a command; a newline does too (it is not whitespace to the lexer below).
OPERATORS = ";&|()<>\n"


def marked_blocks(page: Path, name: str) -> list[str]:
    """Return the bash blocks of ``page`` preceded by ``<!-- runbook: name -->``, in order."""
    return re.findall(rf"<!-- runbook: {re.escape(name)} -->\n```bash\n(.*?)```", page.read_text(), re.S)


def bash_blocks(page: Path) -> list[str]:
    """Return every bash block of ``page``, marked or not, without the indentation of a list item."""
    return [textwrap.dedent(block) for block in re.findall(r"```bash\n(.*?)```", page.read_text(), re.S)]


def inline_commands(page: Path) -> list[str]:
    """Return the inline code spans of ``page`` that are ``pampax`` commands (``pampax rollback --to X``)."""
    return [span.replace("\n", " ") for span in re.findall(r"(?<!`)`(pampax [^`]+)`(?!`)", page.read_text())]


def pampax_invocations(script: str) -> list[list[str]]:
    """Return the arguments of every ``pampax ...`` command in a bash script.

    Only words in command position count (``--stack-name pampax`` is an argument). Heredoc bodies
    and comments are data, not commands, so they are dropped before lexing; quoted strings stay
    whole (a multi-line ``python -c '...'`` is one word).
    """
    script = re.sub(r"<<-?'?(\w+)'?\n.*?\n\1\n", "\n", script, flags=re.S)
    script = re.sub(r"(?m)(^|\s)#.*$", r"\1", script).replace("\\\n", " ")
    lexer = shlex.shlex(script, posix=True, punctuation_chars=OPERATORS)
    lexer.whitespace, lexer.commenters = " \t\r", ""
    calls, current, at_start = [], None, True
    for token in lexer:
        if set(token) <= set(OPERATORS):
            current, at_start = None, True
        elif current is not None:
            current.append(token)
        elif at_start and (token == "pampax" or token.endswith("/pampax")):
            current = []
            calls.append(current)
        else:  # `X=1 pampax ...` and `time pampax ...` still start a command; other words are arguments
            at_start = bool(re.match(r"\w+=", token)) or token in {"time", "env", "exec"}
    return calls


@functools.cache
def cli_command():
    """Return the click command tree Typer builds from the app (building it takes ~20 ms)."""
    return typer.main.get_command(app)


def check_invocation(args: list[str]) -> None:
    """Fail unless ``args`` names registered (sub)commands and only options they declare."""
    command, shown = cli_command(), "pampax"
    rest = list(args)
    while True:
        options = {o: p for p in command.params if p.param_type_name == "option" for o in p.opts + p.secondary_opts}
        while rest and rest[0].startswith("-"):
            flag = rest.pop(0)
            name = flag.split("=", 1)[0]
            assert name in options or name == "--help", f"`{shown}` has no option {name}"
            if name in options and not options[name].is_flag and "=" not in flag and rest:
                rest.pop(0)  # its value (prose may name an option without one: `--to`)
        if not hasattr(command, "commands") or (not rest and "--help" in args):  # a leaf, or `pampax --help`
            break
        assert rest, f"`{shown}` needs a subcommand"
        assert rest[0] in command.commands, f"`{shown}` has no command {rest[0]!r}"
        shown += f" {rest[0]}"
        command = command.commands[rest.pop(0)]
    for word in rest:  # options after the arguments
        if word.startswith("--"):
            assert word.split("=", 1)[0] in {*options, "--help"}, f"`{shown}` has no option {word}"


@pytest.fixture(scope="module")
def moto_endpoint():
    """A moto server on a free port: the runbook's commands run in other processes and reach it over HTTP."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_the_rollback_runbook_puts_the_previous_generation_back(tmp_path, moto_endpoint):
    # GIVEN an empty bucket on a moto server, a copy of the shop fixture, and the generation its
    # pristine tree indexes to (generation ids are content digests, so this is "A" of the runbook)
    bucket = f"runbook-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION,
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket=bucket)
    shutil.copytree(SHOP, tmp_path / "shop")
    pristine = build_index(Path(shutil.copytree(SHOP, tmp_path / "pristine" / "shop")), tmp_path / "pristine.db")
    # AND the README's shell helpers followed by the rollback runbook's steps, as one script
    steps = marked_blocks(RUNBOOKS / "rollback.md", "rollback")
    assert len(steps) >= 4 and any("pampax rollback --to" in step for step in steps)
    script = tmp_path / "rollback.sh"
    script.write_text("\n".join(marked_blocks(RUNBOOKS / "README.md", "setup") + steps))
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path), "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION, "PAMPAX_AWS_ENDPOINT_URL": moto_endpoint, "PAMPAX_AWS_BUCKET": bucket,
        "PAMPAX_RUNTIME_WORK_DIR": str(tmp_path / "work"),
    }
    # WHEN an operator runs them in order, stopping at the first failure
    run = subprocess.run(["bash", "-euo", "pipefail", str(script)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    # THEN every step succeeded and the pointer is back on A, flipped from the B published after it
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr[-3000:]}"
    pointer = json.loads(s3.get_object(Bucket=bucket, Key="current.json")["Body"].read())
    assert pointer["generation"] == pristine.generation
    assert pointer["previous"] not in (None, pristine.generation)
    assert f"a fresh handler serves {pristine.generation}" in run.stdout


def test_every_pampax_command_in_the_runbooks_exists():
    # GIVEN every bash block and inline `pampax ...` span of every runbook
    calls = {page.name: [args for block in bash_blocks(page) + inline_commands(page) for args in pampax_invocations(block)]
             for page in sorted(RUNBOOKS.glob("*.md"))}
    # THEN each `pampax ...` names a registered command with options it declares
    assert sum(map(len, calls.values())) >= 20 and {args[0] for page in calls.values() for args in page} >= {
        "index", "publish", "rollback", "health", "cache", "metrics", "local"}
    for page, invocations in calls.items():
        for args in invocations:
            try:
                check_invocation(args)
            except AssertionError as exc:
                raise AssertionError(f"{page}: pampax {' '.join(args)}: {exc}") from None


def test_the_drift_check_catches_a_wrong_command_or_option():
    # GIVEN invocations a runbook could drift into
    # THEN unknown commands, subcommands and options fail; a good one passes
    for bad in ("pampax roll-back --to x", "pampax cache purge", "pampax rollback --generation x",
                "pampax --log-format json search q --top 3"):
        with pytest.raises(AssertionError):
            check_invocation(pampax_invocations(bad)[0])
    check_invocation(pampax_invocations("X=$(pampax --log-level INFO cache clear --scope search | jfield removed)")[0])
    assert pampax_invocations("sam list stack-outputs --stack-name pampax  # pampax rollback --bogus") == []


def test_every_error_kind_has_an_incident_section_and_every_runbook_is_indexed():
    incidents = (RUNBOOKS / "incidents.md").read_text()
    for kind in ERROR_TABLE:
        assert re.search(rf"^## {kind}$", incidents, re.M), f"incidents.md has no section for {kind}"
    index = (RUNBOOKS / "README.md").read_text()
    for page in RUNBOOKS.glob("*.md"):
        assert page.name == "README.md" or f"]({page.name})" in index, f"{page.name} is not in runbooks/README.md"
