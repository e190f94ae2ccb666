import pytest

from pampax.config import load_config
from pampax.errors import ConfigInvalid


def test_defaults_come_from_the_model(tmp_path):
    resolved = load_config(env={}, cwd=tmp_path)
    assert resolved.config.search.limit == 10
    assert resolved.sources["search.limit"] == "default"
    assert resolved.file is None


def test_precedence_is_file_then_env_then_flag(tmp_path):
    # GIVEN a pampax.toml in the working directory, an env override and a flag
    (tmp_path / "pampax.toml").write_text("[search]\nlimit = 5\nmax_terms = 12\n[index]\nworkers = 1\n")
    env = {"PAMPAX_SEARCH_LIMIT": "7", "PAMPAX_INDEX_WORKERS": "2"}
    # WHEN loaded with a flag for one key
    resolved = load_config(env=env, cwd=tmp_path, flags={"index.workers": 3})
    # THEN each value comes from the strongest source that sets it
    assert resolved.config.search.max_terms == 12
    assert resolved.sources["search.max_terms"].startswith("file:")
    assert resolved.config.search.limit == 7
    assert resolved.sources["search.limit"] == "env:PAMPAX_SEARCH_LIMIT"
    assert resolved.config.index.workers == 3
    assert resolved.sources["index.workers"] == "flag"


def test_the_nearest_file_above_the_working_directory_is_read(tmp_path):
    # GIVEN a config at the repository root and a nearer one in a package
    (tmp_path / "pampax.toml").write_text("[search]\nlimit = 4\n")
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "pampax.toml").write_text("[search]\nlimit = 7\n")
    # WHEN loaded from below each, THEN the nearest one wins, as the nearest index does
    assert load_config(env={}, cwd=tmp_path / "pkg" / "sub").file == str(tmp_path / "pkg" / "pampax.toml")
    from_root = load_config(env={}, cwd=tmp_path)
    assert (from_root.file, from_root.config.search.limit) == (str(tmp_path / "pampax.toml"), 4)


def test_explicit_path_beats_env_path(tmp_path):
    (tmp_path / "a.toml").write_text("[search]\nlimit = 3\n")
    (tmp_path / "b.toml").write_text("[search]\nlimit = 4\n")
    resolved = load_config(tmp_path / "a.toml", env={"PAMPAX_CONFIG": str(tmp_path / "b.toml")}, cwd=tmp_path)
    assert resolved.config.search.limit == 3


@pytest.mark.parametrize(
    ("toml", "env", "needle"),
    [
        ("[search]\nlimit = 0\n", {}, "search.limit"),
        ("[search]\nbogus = 1\n", {}, "search.bogus: unknown setting"),
        ("", {"PAMPAX_SEARCH_LIMIT": "many"}, "env:PAMPAX_SEARCH_LIMIT"),
        ("[search\n", {}, "cannot read"),
        ("search = 3\n", {}, "expected a [search] table"),
    ],
)
def test_bad_config_names_key_and_source(tmp_path, toml, env, needle):
    (tmp_path / "pampax.toml").write_text(toml)
    with pytest.raises(ConfigInvalid) as info:
        load_config(env=env, cwd=tmp_path)
    assert needle in info.value.message


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigInvalid, match="does not exist"):
        load_config(tmp_path / "nope.toml", env={}, cwd=tmp_path)


def test_readme_documents_every_setting_with_its_default():
    # GIVEN the README's configuration table
    import re
    from pathlib import Path

    from pampax.config import Config

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+\.\w+)` \| ([^|]*?) \|", readme, flags=re.M))
    # THEN every setting of the model is there, with the model's default
    defaults = {f"{section}.{key}": value for section, values in Config().model_dump(mode="json").items()
                for key, value in values.items()}
    assert set(rows) == set(defaults)
    for key, value in defaults.items():
        written = rows[key].strip('"')
        assert written == (str(value).lower() if isinstance(value, bool) else str(value)), key
