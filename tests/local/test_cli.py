"""The CLI through Typer's CliRunner: exit codes, stderr lines and JSON bodies of every error kind."""

import json
import shutil
import typing

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


def test_path_is_read_from_the_working_directory_and_from_the_root(shop_repo, monkeypatch):
    assert _run("index", str(shop_repo)).exit_code == 0
    monkeypatch.chdir(shop_repo / "shop")

    def paths(*patterns):
        args = [a for p in patterns for a in ("--path", p)]
        result = _run("search", "user", "--limit", "20", *args)
        assert result.exit_code == 0, result.output
        return {hit["path"] for hit in json.loads(result.stdout)["results"]}

    # WHEN paths are given as rg would read them from shop/, and as the repository names them
    assert paths("users.py") == paths("shop/users.py") == {"shop/users.py"}
    assert paths("../web") == {"web/api.js", "web/cart.ts"} and paths("../tests/*") == paths("tests")
    assert paths(".") == paths("shop") and "shop/users.py" in paths(".")
    # AND a path leading out of the repository matches nothing rather than everything
    assert paths("../..") == set()


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


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("search", "x", "--limit", "many"), "pampax: invalid_argument: Invalid value for '--limit': "),
        (("search", "x", "--limt", "3"), "pampax: invalid_argument: No such option: --limt"),
        (("search",), "pampax: invalid_argument: Missing argument 'QUERY'."),
        (("assemble", "x"), "pampax: invalid_argument: Missing option '--budget'."),
        (("serach", "x"), "pampax: route_not_found: No such command 'serach'."),
        (("cache", "wipe"), "pampax: route_not_found: No such command 'wipe'."),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args, line):
    result = _run(*args)
    # THEN no usage box: the same one line as every other failure, and the usage exit code
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(line), result.stderr
    assert result.stdout == ""


def test_cache_clear_takes_every_scope_the_api_takes(shop_index_path, tmp_path):
    from pampax.models import CacheClearRequest

    index = shutil.copyfile(shop_index_path, tmp_path / "index.db")
    for scope in typing.get_args(CacheClearRequest.model_fields["scope"].annotation):
        result = _run("cache", "clear", "--scope", scope, "--index", str(index))
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["scope"] == scope
    assert _run("cache", "clear", "--all", "--scope", "all", "--index", str(index)).exit_code == 0
    assert _run("cache", "clear", "--all", "--scope", "search", "--index", str(index)).exit_code == 2


def test_config_show_names_sources(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pampax.toml").write_text("[search]\nlimit = 4\n")
    result = _run("config", "show", env={"PAMPAX_ASSEMBLE_SEEDS": "3"})
    settings = json.loads(result.stdout)["settings"]
    assert settings["search.limit"] == {"value": 4, "source": f"file:{tmp_path / 'pampax.toml'}"}
    assert settings["assemble.seeds"] == {"value": 3, "source": "env:PAMPAX_ASSEMBLE_SEEDS"}
    assert settings["index.workers"] == {"value": 0, "source": "default"}


def test_config_show_reports_the_file_found_above_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "pampax.toml").write_text("[search]\nlimit = 4\n")
    (tmp_path / "src" / "deep").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "src" / "deep")
    shown = json.loads(_run("config", "show").stdout)
    assert shown["file"] == str(tmp_path / "pampax.toml")
    assert shown["settings"]["search.limit"]["value"] == 4


def test_health_exit_codes(tmp_path, shop_index_path):
    # GIVEN a healthy index, a missing one and a broken cache file
    ok = _run("health", "--index", str(shop_index_path))
    assert ok.exit_code == 0 and json.loads(ok.stdout)["status"] == "healthy"
    missing = _run("health", "--index", str(tmp_path / "none.db"))
    assert missing.exit_code == exit_code_for("index_missing")
    assert json.loads(missing.stdout)["status"] == "unhealthy"
    (tmp_path / "cache.db").write_bytes(b"garbage" * 1000)
    broken = _run("health", "--index", str(shop_index_path), env={"PAMPAX_CACHE_PATH": str(tmp_path / "cache.db")})
    assert broken.exit_code == exit_code_for("cache_unavailable")
    bad = _run("health", "--index", str(shop_index_path), env={"PAMPAX_SEARCH_LIMIT": "zero"})
    assert bad.exit_code == exit_code_for("config_invalid")


def test_cache_warm_clear_and_metrics_summary(shop_repo, tmp_path):
    # GIVEN an indexed repo and a query file
    assert _run("index", str(shop_repo)).exit_code == 0
    index = str(shop_repo / ".pampax" / "index.db")
    (tmp_path / "queries.txt").write_text("get_user_by_id\nQuerySet\n")
    # WHEN the cache is warmed twice with the same queries, then searched once, then cleared
    first = json.loads(_run("cache", "warm", str(tmp_path / "queries.txt"), "--index", index).stdout)
    second = json.loads(_run("cache", "warm", str(tmp_path / "queries.txt"), "--index", index).stdout)
    assert (first["queries"], first["written"], first["hits"]) == (2, 4, 0)
    assert (second["written"], second["hits"]) == (0, 4)
    assert json.loads(_run("cache", "warm", str(shop_repo)).stdout)["queries"] > 0
    assert _run("search", "QuerySet", "--index", index).exit_code == 0
    cleared = json.loads(_run("cache", "clear", "--scope", "search", "--index", index).stdout)
    assert cleared["scope"] == "search" and cleared["removed"] >= 2
    # THEN the metrics file beside the index summarizes the search; the one-shot search answered
    # without the cache (neither a hit nor a miss), so the ratio is the warm runs' own
    summary = json.loads(_run("metrics", "summary", "--index", index, "--format", "json").stdout)
    assert [f["metric"] for f in summary["figures"]] == ["index_refresh_ms", "search_latency_ms", "sqlite_read_ms"]
    assert summary["cache_hit_ratio"] is None
    text = _run("metrics", "summary", "--index", index)
    assert "search_latency_ms" in text.stdout and "cache hit ratio: n/a" in text.stdout


def test_metrics_summary_finds_the_metrics_as_commands_find_the_index(shop_repo, tmp_path, monkeypatch):
    # GIVEN an indexed repo searched once from a subdirectory
    assert _run("index", str(shop_repo)).exit_code == 0
    monkeypatch.chdir(shop_repo / "shop")
    assert _run("search", "get_user_by_id").exit_code == 0
    # WHEN the summary is asked from there with no FILE and no --index, THEN it reads the index's metrics
    summary = json.loads(_run("metrics", "summary", "--format", "json").stdout)
    assert "search_latency_ms" in [f["metric"] for f in summary["figures"]]
    # AND from outside any repository it is one line naming what to give
    monkeypatch.chdir(tmp_path)
    missing = _run("metrics", "summary")
    assert missing.exit_code == exit_code_for("path_not_found") and "give FILE or --index" in missing.stderr


def test_metrics_summary_reads_the_rotated_part_too(shop_index_path, tmp_path):
    index = shutil.copyfile(shop_index_path, tmp_path / "index.db")
    env = {"PAMPAX_OBSERVABILITY_METRICS_MAX_BYTES": "4096"}
    # GIVEN enough searches that the metrics file rotated
    for n in range(30):
        assert _run("search", f"user {n}", "--index", str(index), env=env).exit_code == 0
    assert (tmp_path / "metrics.jsonl.1").is_file()
    # THEN the summary counts every search, from both parts
    summary = json.loads(_run("metrics", "summary", "--index", str(index), "--format", "json", env=env).stdout)
    searches = next(f for f in summary["figures"] if f["metric"] == "search_latency_ms")
    kept = sum(1 for part in ("metrics.jsonl", "metrics.jsonl.1")
               for line in (tmp_path / part).read_text().splitlines() if "search_latency_ms" in line)
    assert searches["count"] == kept > 0


def test_cli_logs_go_to_stderr_in_the_schema(shop_index_path):
    result = _run("--log-level", "INFO", "--log-format", "json", "search", "QuerySet", "--index", str(shop_index_path))
    assert result.exit_code == 0
    json.loads(result.stdout)  # stdout stays pure JSON
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert lines and all(set(line) == {"time", "level", "component", "op", "corr_id", "duration_ms", "status", "msg",
                                       "err_code", "err_kind"} for line in lines)


def test_unexpected_failure_is_one_line_and_exit_1(shop_index_path, monkeypatch):
    # GIVEN a defect deep in the core
    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr("pampax.service.search", broken)
    result = _run("search", "QuerySet", "--index", str(shop_index_path), env={"PAMPAX_CACHE_ENABLED": "false"})
    # THEN no traceback: the internal exit code, the schema log line an operator greps for, and the one-liner
    assert result.exit_code == 1
    log, message = result.stderr.splitlines()
    assert json.loads(log)["err_kind"] == "internal"
    assert message == "pampax: internal: KeyError: 'boom'"


def test_version_prints_the_package_version():
    from pampax import __version__

    result = _run("--version")
    assert (result.exit_code, result.stdout) == (0, f"pampax {__version__}\n")


def test_search_dash_reads_a_long_query_from_stdin(shop_index_path):
    # GIVEN a bug report full of shell metacharacters, piped in
    report = ('Traceback (most recent call last):\n  File "shop/users.py", line 16, in get_user_by_id\n'
              'shop.users.UserNotFound: No user matches the given id: 99 $(rm -rf ~) `id` ; | && "quoted"\n')
    result = runner.invoke(app, ["search", "-", "--index", str(shop_index_path)], input=report, env={})
    # THEN the query is the text read, and the traceback's function ranks first
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["query"] == report and body["results"][0]["symbol"] == "get_user_by_id"
    # AND --no-explain answers the same hits without their score breakdown
    bare = json.loads(runner.invoke(app, ["search", "-", "--index", str(shop_index_path), "--no-explain"],
                                    input=report, env={}).stdout)
    assert [h["explain"] for h in bare["results"]] == [None] * len(body["results"])
    assert [h["path"] for h in bare["results"]] == [h["path"] for h in body["results"]]


def test_mcp_help_shows_a_client_config_that_parses():
    result = _run("mcp", "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    start = next(n for n, line in enumerate(lines) if line.strip() == "{")
    end = max(n for n, line in enumerate(lines) if line.strip() == "}")
    config = json.loads("\n".join(line.strip(" │") for line in lines[start:end + 1]))
    assert config["mcpServers"]["pampax"] == {"command": "pampax", "args": ["mcp", "/path/to/repo"]}


@pytest.fixture(scope="session")
def core_index_path(tmp_path_factory):
    """An index of pampax's own core package: enough code that an 8k bundle still runs out of budget."""
    from pathlib import Path

    from pampax.build import build_index

    core = Path(__file__).parents[2] / "layers" / "pampax" / "pampax"
    return Path(build_index(core, tmp_path_factory.mktemp("core") / "index.db").index)


@pytest.mark.parametrize("budget", [50, 2000, 8000])
def test_markdown_bundle_prints_within_its_budget(core_index_path, budget):
    from pampax.tokens import count_tokens

    # GIVEN a question whose candidates outweigh every budget asked
    args = ("assemble", "how does the read-through cache build its key", "--budget", str(budget),
            "--index", str(core_index_path))
    bundle = json.loads(_run(*args).stdout)
    assert bundle["stop_reason"] == "budget_exhausted"
    # WHEN the bundle is printed as Markdown
    printed = _run(*args, "--format", "md").stdout
    # THEN everything printed is what tokens.used counts, within the budget
    assert count_tokens(printed) == bundle["tokens"]["used"] <= budget
    assert len(bundle["items"]) == printed.count("\n### ") + printed.startswith("### ")
    # AND the evidence table comes only on request, after what is counted
    with_evidence = _run(*args, "--format", "md", "--evidence").stdout
    assert with_evidence.startswith(printed) and "## Evidence" in with_evidence and "## Evidence" not in printed


def _command_paths(group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if hasattr(command, "commands"):
            yield from _command_paths(command, (*prefix, name))


def test_every_help_is_plain_text_without_type_tags_on_flags_or_rst():
    import typer.main

    root = typer.main.get_command(app)
    paths = [(), *_command_paths(root)]
    assert ("cache", "clear") in paths and ("local", "invoke") in paths
    for path in paths:
        result = _run(*path, "--help", env={"COLUMNS": "100"})
        assert result.exit_code == 0, (path, result.output)
        # a flag takes no value, so it shows none; help text is read as text, not as reStructuredText
        assert "<bool>" not in result.stdout and "``" not in result.stdout, (path, result.stdout)
        assert "╭" not in result.stdout


def test_shell_completion_completes_commands_and_choices(monkeypatch):
    # Typer otherwise asks shellingham for the parent shell, which a test run from cron or nohup lacks.
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")

    def complete(words: str) -> list[str]:
        env = {"_PAMPAX_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split(" ")) - 1)}
        return runner.invoke(app, [], env=env, prog_name="pampax").stdout.split()

    assert complete("pampax se") == ["search"]
    assert complete("pampax cache clear --scope ") == ["search", "bundle", "all"]
    script = runner.invoke(app, ["--show-completion", "bash"], env={}, prog_name="pampax").stdout
    assert "_PAMPAX_COMPLETE=complete_bash" in script
