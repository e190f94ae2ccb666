"""Map a file path to a language name by its file name or extension.

The names of the parsed languages ("python", "javascript", "typescript", "tsx", "go", "java", "rust") are
the keys ``pampax.parse`` accepts; every other name only labels a text file so it can be filtered and
displayed. ``None`` means "unknown": the indexer then treats the file as plain ``"text"`` if it decodes.
"""

from __future__ import annotations

import posixpath

# The languages ``pampax.parse`` extracts symbols and edges from (its tree-sitter grammars); here so
# that ranking can ask without loading the grammars.
PARSED_LANGUAGES: frozenset[str] = frozenset({"python", "javascript", "typescript", "tsx", "go", "java", "rust"})


def is_parsed(lang: str) -> bool:
    """Return whether ``pampax.parse`` extracts symbols and edges for ``lang``."""
    return lang in PARSED_LANGUAGES

# Whole file names that carry no (useful) extension; checked before the extension table.
FILENAMES: dict[str, str] = {
    "makefile": "make",
    "gnumakefile": "make",
    "dockerfile": "dockerfile",
    "containerfile": "dockerfile",
    "jenkinsfile": "groovy",
    "vagrantfile": "ruby",
    "gemfile": "ruby",
    "rakefile": "ruby",
    "cmakelists.txt": "cmake",
    "readme": "text",
    "license": "text",
    "copying": "text",
    "authors": "text",
    "notice": "text",
    ".gitignore": "text",
    ".dockerignore": "text",
    ".editorconfig": "text",
    ".bashrc": "shell",
    ".profile": "shell",
    ".zshrc": "shell",
}

EXTENSIONS: dict[str, str] = {
    # parsed languages
    ".py": "python", ".pyi": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".java": "java",
    ".rs": "rust",
    # other source languages (indexed as text)
    ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hh": "cpp", ".hpp": "cpp", ".hxx": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".php": "php",
    ".kt": "kotlin", ".kts": "kotlin",
    ".scala": "scala",
    ".swift": "swift",
    ".lua": "lua",
    ".pl": "perl", ".pm": "perl",
    ".r": "r",
    ".sh": "shell", ".bash": "shell", ".zsh": "shell", ".fish": "shell",
    ".ps1": "powershell",
    ".sql": "sql",
    ".cmake": "cmake",
    ".groovy": "groovy", ".gradle": "groovy",
    ".proto": "protobuf",
    ".graphql": "graphql", ".gql": "graphql",
    # markup, styles and data
    ".md": "markdown", ".markdown": "markdown",
    ".html": "html", ".htm": "html", ".vue": "html", ".svelte": "html",
    ".css": "css",
    ".scss": "scss", ".sass": "scss", ".less": "css",
    ".json": "json", ".jsonc": "json", ".json5": "json",
    ".yaml": "yaml", ".yml": "yaml",
    ".toml": "toml",
    ".xml": "xml", ".xsd": "xml", ".xsl": "xml", ".svg": "xml", ".plist": "xml",
    ".txt": "text", ".ini": "text", ".cfg": "text", ".conf": "text", ".properties": "text", ".rst": "text", ".po": "text", ".pot": "text", ".csv": "text", ".tsv": "text",
    ".tex": "text", ".adoc": "text", ".in": "text", ".lock": "text", ".env": "text",
}


def language_for(path: str) -> str | None:
    """Return the language name of ``path`` (``/`` or ``\\`` separated), or ``None`` when unknown."""
    base = posixpath.basename(path.replace("\\", "/")).lower()
    if base in FILENAMES:
        return FILENAMES[base]
    if base.startswith("dockerfile.") or base.endswith(".dockerfile"):
        return "dockerfile"
    # splitext treats a leading dot as part of the name, so ".env" has no extension: look it up whole.
    ext = posixpath.splitext(base)[1] or base
    return EXTENSIONS.get(ext)
