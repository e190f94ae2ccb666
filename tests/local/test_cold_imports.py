"""What a one-shot command imports: a cold ``pampax search`` must not load AWS SDKs, grammars or the harness.

Import time is most of a cold CLI call (boto3 alone was ~0.3 s of 0.8 s), so this checks the modules a
real process loads rather than timing it.
"""

import json
import subprocess
import sys

import pytest

from pampax.build import build_index

# Run the CLI in a fresh interpreter, then list the loaded modules on stderr.
_PROBE = """
import json, sys
from pampax_local.cli import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write(json.dumps(sorted(sys.modules)))
"""

# Loaded only where they pay: AWS clients for a configured store, grammars for ``index``, the harness
# and the handlers' resolver for ``local``, the cache machinery for cached (long-lived) services.
_HEAVY = ("boto3", "botocore.session", "botocore.client", "s3transfer", "tree_sitter", "pampax_local.harness",
          "aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.idempotency", "sqlite_utils", "rich")


def _loaded(args: list[str], cwd) -> set[str]:
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)})
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stderr.splitlines()[-1]))


@pytest.mark.parametrize("command", [["search", "get_user_by_id"], ["assemble", "get_user_by_id", "--budget", "500"],
                                     ["search", "--group", "file", "get_user_by_id"], ["health"]])
def test_a_local_one_shot_command_loads_no_heavy_module(shop_repo, command):
    # GIVEN a repo indexed locally, with the default config (cache enabled)
    index = build_index(shop_repo).index
    # WHEN a one-shot command runs on it in a fresh interpreter
    loaded = _loaded([command[0], "--index", str(index), *command[1:]], shop_repo)
    # THEN none of the heavy modules was imported, and the command did its work
    assert "pampax.search" in loaded
    assert sorted(m for m in loaded if m.startswith(_HEAVY)) == []


def test_the_probe_sees_heavy_imports(shop_repo):
    # GIVEN the same probe WHEN ``index`` runs (it parses, so it must load the grammars) THEN it reports them
    assert "tree_sitter" in _loaded(["index", str(shop_repo)], shop_repo)
