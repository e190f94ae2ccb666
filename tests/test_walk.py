import os

from pampax.walk import iter_files


def _write(root, rel, text="x = 1\n"):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_walk_honours_gitignore_and_builtin_ignores(tmp_path):
    # GIVEN a repo with a .gitignore, a nested .gitignore and directories nobody wants indexed
    _write(tmp_path, ".gitignore", "secret/\n*.log\n")
    _write(tmp_path, "pkg/.gitignore", "generated.py\n")
    for rel in ["app.py", "debug.log", "secret/keys.py", "pkg/mod.py", "pkg/generated.py",
                "node_modules/lib/index.js", ".git/config", ".venv/lib/site.py", "build/out.py",
                "pkg/__pycache__/mod.pyc", "thing.egg-info/PKG-INFO"]:
        _write(tmp_path, rel)
    # WHEN walked
    files = list(iter_files(tmp_path))
    # THEN only the wanted files come back, sorted
    assert files == [".gitignore", "app.py", "pkg/.gitignore", "pkg/mod.py"]


def test_walk_never_leaves_the_root_through_symlinks(tmp_path):
    # GIVEN a repo with symlinks to a file outside, a directory outside, and a file inside
    outside = tmp_path / "outside"
    _write(outside, "stolen.py")
    repo = tmp_path / "repo"
    _write(repo, "real.py")
    os.symlink(outside / "stolen.py", repo / "escape.py")
    os.symlink(outside, repo / "escape_dir")
    os.symlink(repo / "real.py", repo / "alias.py")
    os.symlink(repo, repo / "loop")
    # WHEN walked
    files = list(iter_files(repo))
    # THEN the inside link is kept; nothing outside (or looping) is reached
    assert files == ["alias.py", "real.py"]
