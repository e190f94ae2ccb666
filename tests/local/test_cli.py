"""The CLI through Typer's CliRunner: exit codes, stderr lines and JSON bodies of every error kind."""

import json

import pytest
from typer.testing import CliRunner

from pampax.errors import exit_code_for
from pampax_local.cli import app

runner = CliRunner()


def _run(*args, env=None):
    return runner.invoke(app, list(args), env=env or {})


def test_index_then_search_then_assemble(shop_repo, monkeypatch):
    # GIVEN an indexed repo
    result = _run("index", str(shop_repo))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["files"] == 10
    # WHEN searching from inside the repo without --index
    monkeypatch.chdir(shop_repo / "shop")
    result = _run("search", "get_user_by_id", "--limit", "3")
    # THEN the nearest .pampax/index.db is used and the JSON has the contract's fields
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) >= {"query", "generation", "results"}
    assert set(body["results"][0]) >= {"path", "start_line", "end_line", "symbol", "kind", "lang", "score", "snippet"}
    assert body["results"][0]["path"] == "shop/users.py"
    text = _run("search", "get_user_by_id", "--format", "text")
    assert text.stdout.splitlines()[0].startswith("shop/users.py:")
    md = _run("assemble", "get_user_by_id", "--budget", "2000", "--format", "md")
    assert md.exit_code == 0 and md.stdout.startswith("# Context bundle: get_user_by_id")
    bundle = json.loads(_run("assemble", "get_user_by_id", "--budget", "2000").stdout)
    assert bundle["tokens"]["used"] <= 2000 and bundle["stop_reason"]


def test_output_is_byte_identical_across_runs(shop_index_path):
    args = ("assemble", "order total", "--budget", "3000", "--index", str(shop_index_path))
    assert _run(*args).stdout == _run(*args).stdout


@pytest.mark.parametrize(
    ("args", "kind"),
    [
        (("index", "{tmp}/missing"), "path_not_found"),
        (("index", "{tmp}/file.txt"), "not_a_directory"),
        (("search", "x", "--index", "{tmp}/none.db"), "index_missing"),
        (("search", "x", "--index", "{tmp}/file.txt"), "index_corrupt"),
        (("search", "   ", "--index", "{index}"), "invalid_argument"),
        (("search", "x", "--limit", "0", "--index", "{index}"), "invalid_argument"),
        (("assemble", "x", "--budget", "0", "--index", "{index}"), "invalid_argument"),
        (("assemble", "x", "--budget", "-5", "--index", "{index}"), "invalid_argument"),
        (("--config", "{tmp}/bad.toml", "search", "x", "--index", "{index}"), "config_invalid"),
    ],
)
def test_every_failure_is_one_line_and_a_stable_code(tmp_path, shop_index_path, args, kind):
    # GIVEN a regular file, a bad config and a good index
    (tmp_path / "file.txt").write_text("not an index" * 200)
    (tmp_path / "bad.toml").write_text("[search]\nlimit = -1\n")
    args = [a.format(tmp=tmp_path, index=shop_index_path) for a in args]
    # WHEN the command fails
    result = _run(*args)
    # THEN it exits with the kind's code and says one line on stderr
    assert result.exit_code == exit_code_for(kind), result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"pampax: {kind}: ")


def test_json_errors_carry_the_error_body(tmp_path):
    result = _run("search", "x", "--index", str(tmp_path / "none.db"), "--format", "json")
    assert json.loads(result.stdout) == {
        "error": {"code": 4, "kind": "index_missing", "message": f"no index at {tmp_path / 'none.db'}: run `pampax index` first"}
    }


def test_bad_flag_value_is_a_usage_error(shop_index_path):
    result = _run("search", "x", "--limit", "many", "--index", str(shop_index_path))
    assert result.exit_code == 2


def test_config_show_names_sources(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pampax.toml").write_text("[search]\nlimit = 4\n")
    result = _run("config", "show", env={"PAMPAX_ASSEMBLE_SEEDS": "3"})
    settings = json.loads(result.stdout)["settings"]
    assert settings["search.limit"] == {"value": 4, "source": f"file:{tmp_path / 'pampax.toml'}"}
    assert settings["assemble.seeds"] == {"value": 3, "source": "env:PAMPAX_ASSEMBLE_SEEDS"}
    assert settings["index.workers"] == {"value": 0, "source": "default"}
