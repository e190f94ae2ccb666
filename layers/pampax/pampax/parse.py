"""Tree-sitter extraction: the symbols and the call/reference/import edges of one source file.

``parse(source, lang)`` parses the bytes with the language's tree-sitter grammar, runs one query per
language whose capture names say what each node is (a symbol kind, a callee, a reference, an import
statement), and turns the captures into plain records. Nesting (parents, qualified names, edge
scopes) comes from byte spans with a stack sweep rather than from walking the tree, which keeps the
Python work proportional to the number of captures. Malformed source never raises: tree-sitter is
error tolerant and every lookup below tolerates missing children.
"""

from __future__ import annotations

import inspect
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from tree_sitter import Language, Node, Parser, Query, QueryCursor

from .languages import PARSED_LANGUAGES


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str
    qualname: str
    kind: str
    start_line: int
    end_line: int
    signature: str
    docstring: str | None
    parent: str | None


@dataclass(frozen=True, slots=True)
class Edge:
    kind: str
    name: str
    line: int
    detail: str
    scope: str | None


@dataclass(frozen=True, slots=True)
class ParsedFile:
    symbols: tuple[Symbol, ...]
    edges: tuple[Edge, ...]


@dataclass(slots=True)
class _Def:
    """A symbol before nesting is resolved: span in bytes, kind still "function" for methods."""

    start_byte: int
    end_byte: int
    start_line: int
    end_line: int
    name: str
    kind: str
    signature: str
    docstring: str | None
    label: str | None = None  # last qualname part when it is not the name: Go "Recv.method", Rust "impl T"
    qualname: str = ""
    child_prefix: str | None = None  # what members are qualified with, if not the qualname (Rust impl)
    parent: str | None = None


SIGNATURE_MAX = 300
DETAIL_MAX = 200
MIN_REFERENCE_LEN = 3
# Bytes decoded per signature: enough for SIGNATURE_MAX characters after collapsing indentation.
_SIGNATURE_BYTES = 4 * SIGNATURE_MAX

EDGE_KINDS = ("call", "reference", "import")
SYMBOL_KINDS = ("class", "function", "method", "interface", "struct", "enum", "trait", "impl", "type", "constant", "module")
# A "function" directly inside one of these is a method (Python def in a class, Rust fn in an impl).
_MEMBER_OWNERS = frozenset({"class", "interface", "struct", "enum", "trait", "impl"})
# Edges are attributed to the innermost enclosing symbol of these kinds; constants and modules are
# namespaces or values, not code that calls or references something.
_SCOPE_KINDS = frozenset({"class", "function", "method", "interface", "struct", "enum", "trait", "impl", "type"})

_COMMENT_TYPES = {
    "javascript": frozenset({"comment"}),
    "typescript": frozenset({"comment"}),
    "tsx": frozenset({"comment"}),
    "go": frozenset({"comment"}),
    "java": frozenset({"line_comment", "block_comment"}),
    "rust": frozenset({"line_comment", "block_comment"}),
}
# Statements that wrap a declaration; its leading comment sits before the wrapper.
_DOC_WRAPPERS = frozenset(
    {"export_statement", "ambient_declaration", "lexical_declaration", "variable_declaration", "type_declaration", "const_declaration"}
)
# Rust attributes sit between a doc comment and its item.
_DOC_SKIPPED = frozenset({"attribute_item"})
_GO_TYPE_KINDS = {"struct_type": "struct", "interface_type": "interface"}
# Name field of definition nodes whose name is not in the "name" field.
_NAME_FIELDS = {"pair": "key", "field_definition": "property", "variable_declarator": "name"}
# Go declares these in the universe block; as references they only add noise.
_GO_BUILTIN_TYPES = frozenset(
    "any bool byte comparable complex64 complex128 error float32 float64 int int8 int16 int32 int64 "
    "rune string uint uint8 uint16 uint32 uint64 uintptr".split()
)
_NOISE_REFERENCES = {"go": _GO_BUILTIN_TYPES, "java": frozenset({"var"}), "rust": frozenset({"Self"})}
# First bytes of identifiers that may be capitalised references: A-Z and "_" (for "_Private").
_REF_INITIALS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_PY_CONSTANT = re.compile(r"_*[A-Z][A-Z0-9_]*")
_WHITESPACE = re.compile(r"\s")
_BLOCK_COMMENT_LINE = re.compile(r"^\s*\* ?")
_LINE_COMMENT = re.compile(r"^\s*//[/!]? ?")
_JS_MODULE_EXTENSION = re.compile(r"\.(?:[cm]?[jt]sx?|json)$")

# Capture names: a symbol kind (or a language-specific def capture: pyconst, gotype, gomethod), "call"
# (callee is a bare name; Python decorators count as calls), "callm" (callee is the last name of a
# member/path expression, whose text is the detail), "ref" (a reference), "refcap" (a reference only if
# the name is capitalised, for languages where types are ordinary identifiers), "import" (a whole import
# statement), "require" (the string argument of a CommonJS require call).
_JS_COMMON = """
(function_declaration) @function
(generator_function_declaration) @function
(method_definition) @method
(variable_declarator name: (identifier) value: [(arrow_function) (function_expression) (generator_function)]) @function
(pair key: (property_identifier) value: [(arrow_function) (function_expression) (generator_function)]) @function
(call_expression function: (identifier) @call)
(call_expression function: (member_expression property: [(property_identifier) (private_property_identifier)] @callm))
(new_expression constructor: (identifier) @call)
(new_expression constructor: (member_expression property: (property_identifier) @callm))
(import_statement) @import
(export_statement source: (string)) @import
(call_expression function: (identifier) @_require arguments: (arguments . (string) @require) (#eq? @_require "require"))
(binary_expression operator: "instanceof" right: (identifier) @ref)
(member_expression object: (identifier) @refcap)
"""
_JSX = """
(jsx_opening_element name: (identifier) @refcap)
(jsx_self_closing_element name: (identifier) @refcap)
"""
_JS = (
    _JS_COMMON
    + _JSX
    + """
(class_declaration) @class
(field_definition property: (property_identifier) value: [(arrow_function) (function_expression)]) @method
(class_heritage (identifier) @ref)
(class_heritage (member_expression property: (property_identifier) @ref))
"""
)
_TS = (
    _JS_COMMON
    + """
(class_declaration) @class
(abstract_class_declaration) @class
(interface_declaration) @interface
(type_alias_declaration) @type
(enum_declaration) @enum
(internal_module) @module
(function_signature) @function
(method_signature) @method
(abstract_method_signature) @method
(public_field_definition name: (property_identifier) value: [(arrow_function) (function_expression)]) @method
(extends_clause value: (identifier) @ref)
(extends_clause value: (member_expression property: (property_identifier) @ref))
(type_identifier) @ref
"""
)
_QUERIES = {
    "python": """
(class_definition) @class
(function_definition) @function
(module (expression_statement (assignment left: (identifier) @pyconst)))
(call function: (identifier) @call)
(call function: (attribute attribute: (identifier) @callm))
(decorator (identifier) @call)
(decorator (attribute attribute: (identifier) @callm))
(import_statement) @import
(import_from_statement) @import
(future_import_statement) @import
(class_definition superclasses: (argument_list (identifier) @ref))
(class_definition superclasses: (argument_list (attribute attribute: (identifier) @ref)))
(identifier) @refcap
""",
    "javascript": _JS,
    "typescript": _TS,
    "tsx": _TS + _JSX,
    "go": """
(function_declaration) @function
(method_declaration) @gomethod
(type_spec) @gotype
(type_alias) @type
(source_file (const_declaration (const_spec) @constant))
(call_expression function: (identifier) @call)
(call_expression function: (selector_expression field: (field_identifier) @callm))
(import_declaration) @import
(type_identifier) @ref
""",
    "java": """
(class_declaration) @class
(record_declaration) @class
(interface_declaration) @interface
(annotation_type_declaration) @interface
(enum_declaration) @enum
(method_declaration) @method
(constructor_declaration) @method
(method_invocation name: (identifier) @callm)
(object_creation_expression type: (type_identifier) @call)
(object_creation_expression type: (generic_type (type_identifier) @call))
(object_creation_expression type: (scoped_type_identifier (type_identifier) @callm .))
(import_declaration) @import
(type_identifier) @ref
(marker_annotation name: (identifier) @ref)
(annotation name: (identifier) @ref)
""",
    "rust": """
(function_item) @function
(function_signature_item) @function
(struct_item) @struct
(union_item) @struct
(enum_item) @enum
(trait_item) @trait
(impl_item) @impl
(const_item) @constant
(static_item) @constant
(mod_item) @module
(type_item) @type
(call_expression function: (identifier) @call)
(call_expression function: (field_expression field: (field_identifier) @callm))
(call_expression function: (scoped_identifier name: (identifier) @callm))
(call_expression function: (generic_function function: (identifier) @call))
(call_expression function: (generic_function function: (field_expression field: (field_identifier) @callm)))
(call_expression function: (generic_function function: (scoped_identifier name: (identifier) @callm)))
(use_declaration) @import
(type_identifier) @ref
(scoped_identifier path: (identifier) @refcap)
""",
}


# lang -> (parser, query); building a Language and compiling a Query costs milliseconds each.
_ENGINES: dict[str, tuple[Parser, Query]] = {}


def parse(source: bytes, lang: str) -> ParsedFile:
    """Extract the symbols and edges of ``source``; raises ``ValueError`` only for an unsupported ``lang``."""
    if lang not in PARSED_LANGUAGES:
        raise ValueError(f"no parser for language {lang!r}")
    parser, query = _engine(lang)
    captures = QueryCursor(query).captures(parser.parse(source).root_node)
    defs, def_names = _collect_defs(captures, source, lang)
    _nest(defs)
    raw_edges = _collect_edges(captures, source, lang, def_names)
    return ParsedFile(symbols=_finish_symbols(defs), edges=_finish_edges(raw_edges, defs))


def _engine(lang: str) -> tuple[Parser, Query]:
    engine = _ENGINES.get(lang)
    if engine is None:
        language = Language(_grammar(lang))
        engine = _ENGINES[lang] = (Parser(language), Query(language, _QUERIES[lang]))
    return engine


def _grammar(lang: str) -> object:
    """Return the grammar capsule of a parsed language (imported lazily: each grammar costs load time)."""
    if lang == "python":
        import tree_sitter_python as grammar
    elif lang == "javascript":
        import tree_sitter_javascript as grammar
    elif lang in ("typescript", "tsx"):
        import tree_sitter_typescript as grammar

        return grammar.language_typescript() if lang == "typescript" else grammar.language_tsx()
    elif lang == "go":
        import tree_sitter_go as grammar
    elif lang == "java":
        import tree_sitter_java as grammar
    else:
        import tree_sitter_rust as grammar
    return grammar.language()


# ---------------------------------------------------------------- symbols


def _collect_defs(captures: dict[str, list[Node]], src: bytes, lang: str) -> tuple[list[_Def], set[int]]:
    """Turn definition captures into ``_Def`` records; also return the start bytes of their name nodes."""
    defs: list[_Def] = []
    def_names: set[int] = set()
    for capture in ("class", "function", "method", "interface", "struct", "enum", "trait", "type", "constant", "module"):
        for node in captures.get(capture, ()):
            name_node = _present(node.child_by_field_name(_NAME_FIELDS.get(node.type, "name")))
            if name_node is not None:
                def_names.add(name_node.start_byte)
                defs.append(_make_def(node, _text(src, name_node), capture, src, lang))
    for node in captures.get("pyconst", ()):
        name = _text(src, node)
        statement = node.parent.parent
        if _PY_CONSTANT.fullmatch(name):
            def_names.add(node.start_byte)
            signature = _clip(_text(src, statement, _SIGNATURE_BYTES), SIGNATURE_MAX)
            defs.append(_Def(statement.start_byte, statement.end_byte, _line(statement), _end_line(statement), name, "constant", signature, None))
    for node in captures.get("gotype", ()):
        name_node = _present(node.child_by_field_name("name"))
        if name_node is not None:
            def_names.add(name_node.start_byte)
            type_node = node.child_by_field_name("type")
            kind = _GO_TYPE_KINDS.get(type_node.type, "type") if type_node is not None else "type"
            defs.append(_make_def(node, _text(src, name_node), kind, src, lang))
    for node in captures.get("gomethod", ()):
        name_node = _present(node.child_by_field_name("name"))
        if name_node is not None:
            def_names.add(name_node.start_byte)
            entry = _make_def(node, _text(src, name_node), "method", src, lang)
            receiver = _present(_first_descendant(node.child_by_field_name("receiver"), "type_identifier"))
            if receiver is not None:
                entry.label = f"{_text(src, receiver)}.{entry.name}"
            defs.append(entry)
    for node in captures.get("impl", ()):
        type_node = _present(node.child_by_field_name("type"))
        if type_node is not None:
            entry = _make_def(node, _rust_type_name(src, type_node), "impl", src, lang)
            trait = _present(node.child_by_field_name("trait"))
            entry.label = f"impl {_collapse(_text(src, trait))} for {entry.name}" if trait is not None else f"impl {entry.name}"
            defs.append(entry)
    return defs, def_names


def _make_def(node: Node, name: str, kind: str, src: bytes, lang: str) -> _Def:
    """Build the record of a definition node: its span (with decorators/attributes), signature and docs."""
    outer = node
    parent = node.parent
    if parent is not None and (
        parent.type == "decorated_definition"
        or (parent.type in ("lexical_declaration", "variable_declaration") and parent.named_child_count == 1)
    ):
        outer = parent
    signature = _signature(node, node.start_byte if lang == "python" else outer.start_byte, src, lang)
    docstring = _python_docstring(node, src) if lang == "python" else _leading_comment(outer, src, _COMMENT_TYPES[lang])
    first = outer
    if lang == "rust":  # `#[derive(..)]` / `#[test]` are siblings before the item, like Python decorators
        while (previous := first.prev_named_sibling) is not None and previous.type == "attribute_item":
            first = previous
    return _Def(first.start_byte, outer.end_byte, _line(first), _end_line(outer), name, kind, signature, docstring)


def _signature(node: Node, start: int, src: bytes, lang: str) -> str:
    """Return the declaration header: the text from ``start`` up to the body, on one line."""
    body = node.child_by_field_name("body")
    if body is None and node.type in ("variable_declarator", "pair", "field_definition", "public_field_definition"):
        value = node.child_by_field_name("value")
        body = value.child_by_field_name("body") if value is not None else None
    if body is not None:
        end = body.start_byte
        if lang == "python":
            # The header ends at the ':' before the body; a comment may sit between them.
            colon = body.prev_sibling
            while colon is not None and colon.type != ":":
                colon = colon.prev_sibling
            end = colon.start_byte if colon is not None else end
    elif node.type in ("type_spec", "type_alias", "const_spec"):
        # Go: the keyword belongs to the enclosing declaration; a struct/interface body starts at "{".
        text = _text(src, node, _SIGNATURE_BYTES).split("{", 1)[0]
        return _clip(("const " if node.type == "const_spec" else "type ") + text, SIGNATURE_MAX)
    else:
        end = node.end_byte
    return _clip(_text_range(src, start, min(end, start + _SIGNATURE_BYTES)).rstrip("; \t\r\n"), SIGNATURE_MAX)


def _python_docstring(node: Node, src: bytes) -> str | None:
    """Return the cleaned docstring of a Python class or function, if its body starts with a string."""
    body = node.child_by_field_name("body")
    if body is None or body.named_child_count == 0:
        return None
    first = body.named_child(0)
    if first.type != "expression_statement" or first.named_child_count != 1:
        return None
    string = first.named_child(0)
    if string.type != "string":
        return None
    text = _text(src, string).lstrip("rRuUbBfF")
    quote = text[:3] if text[:3] in ('"""', "'''") else text[:1]
    text = text[len(quote) :]
    if text.endswith(quote):
        text = text[: -len(quote)]
    return inspect.cleandoc(text) or None


def _leading_comment(anchor: Node, src: bytes, comment_types: frozenset[str]) -> str | None:
    """Return the cleaned comment block directly above a declaration (no blank line between), if any."""
    prev = anchor.prev_named_sibling
    while prev is None and anchor.parent is not None and anchor.parent.type in _DOC_WRAPPERS:
        anchor = anchor.parent
        prev = anchor.prev_named_sibling
    expected_row = anchor.start_point.row
    while prev is not None and prev.type in _DOC_SKIPPED:
        expected_row = prev.start_point.row
        prev = prev.prev_named_sibling
    blocks: list[str] = []
    while prev is not None and prev.type in comment_types:
        if _end_row(prev) < expected_row - 1:
            break
        before = prev.prev_sibling
        if before is not None and before.type not in comment_types and before.end_point.row == prev.start_point.row:
            break  # a trailing comment of the code before, not documentation
        blocks.append(_text(src, prev))
        expected_row = prev.start_point.row
        prev = prev.prev_named_sibling
    if not blocks:
        return None
    return inspect.cleandoc("\n".join(_uncomment(block) for block in reversed(blocks))) or None


def _uncomment(comment: str) -> str:
    """Strip comment markers: ``/** */`` with leading ``*`` per line, or ``//``, ``///``, ``//!``."""
    if comment.startswith("/*"):
        inner = comment[2:-2] if comment.endswith("*/") else comment[2:]
        lines = inner.lstrip("*!").splitlines()
        return "\n".join(_BLOCK_COMMENT_LINE.sub("", line).rstrip() for line in lines)
    return "\n".join(_LINE_COMMENT.sub("", line).rstrip() for line in comment.splitlines())


def _nest(defs: list[_Def]) -> None:
    """Set parent, qualname and method kinds from span containment (outermost first, stack sweep)."""
    defs.sort(key=lambda d: (d.start_byte, -d.end_byte, d.name))
    stack: list[_Def] = []
    for entry in defs:
        # Pop what does not strictly contain this span (identical spans, e.g. `const a = () => 1, b = ...`
        # sharing one declaration, are siblings, not parent and child).
        while stack and (
            stack[-1].end_byte < entry.end_byte
            or (stack[-1].start_byte, stack[-1].end_byte) == (entry.start_byte, entry.end_byte)
        ):
            stack.pop()
        prefix = None
        if stack:
            owner = stack[-1]
            entry.parent = owner.qualname
            prefix = owner.child_prefix or owner.qualname
            if entry.kind == "function" and owner.kind in _MEMBER_OWNERS:
                entry.kind = "method"
        own = entry.label or entry.name
        entry.qualname = f"{prefix}.{own}" if prefix else own
        if entry.kind == "impl":  # members are "Type.method", not "impl Trait for Type.method"
            entry.child_prefix = f"{prefix}.{entry.name}" if prefix else entry.name
        stack.append(entry)


def _finish_symbols(defs: list[_Def]) -> tuple[Symbol, ...]:
    symbols = [
        Symbol(d.name, d.qualname, d.kind, d.start_line, d.end_line, d.signature, d.docstring, d.parent) for d in defs
    ]
    symbols.sort(key=lambda s: (s.start_line, -s.end_line, s.qualname, s.kind, s.signature))
    return tuple(symbols)


# ---------------------------------------------------------------- edges


def _collect_edges(captures: dict[str, list[Node]], src: bytes, lang: str, def_names: set[int]) -> list[tuple]:
    """Return raw edges ``(byte, line, kind, name, detail)`` from call, reference and import captures."""
    # Hot loops (hundreds of thousands of nodes per large repository): attribute access inlined.
    edges: list[tuple] = []
    callees: set[int] = set()
    for node in captures.get("call", ()):
        start = node.start_byte
        name = src[start : node.end_byte].decode("utf-8", "replace")
        callees.add(start)
        edges.append((start, node.start_point.row + 1, "call", name, name))
    for node in captures.get("callm", ()):
        start, end = node.start_byte, node.end_byte
        callees.add(start)
        detail = _callee_text(src[node.parent.start_byte : end].decode("utf-8", "replace"))
        edges.append((start, node.start_point.row + 1, "call", src[start:end].decode("utf-8", "replace"), detail))

    import_spans: list[tuple[int, int]] = []
    for node in captures.get("import", ()):
        import_spans.append((node.start_byte, node.end_byte))
        for name, detail, at in _IMPORT_READERS[lang](node, src):
            edges.append((at.start_byte, _line(at), "import", name, detail))
    for node in captures.get("require", ()):
        path = _string_value(src, node)
        edges.append((node.start_byte, _line(node), "import", _require_name(node, src) or _path_name(path), path))
    import_spans.sort()

    noise = _NOISE_REFERENCES.get(lang, frozenset())
    for node in captures.get("ref", ()):
        start = node.start_byte
        if start not in callees and start not in def_names and not _inside(start, import_spans):
            name = src[start : node.end_byte].decode("utf-8", "replace")
            if len(name) >= MIN_REFERENCE_LEN and name not in noise:
                edges.append((start, node.start_point.row + 1, "reference", name, name))
    # Most identifiers are lower case: test the first byte before decoding anything. The padding byte
    # covers zero-width nodes that error recovery inserts at the very end.
    probe = src + b"\0"
    for node in [n for n in captures.get("refcap", ()) if probe[n.start_byte] in _REF_INITIALS]:
        start = node.start_byte
        if start in callees or start in def_names or _inside(start, import_spans):
            continue
        name = src[start : node.end_byte].decode("utf-8", "replace")
        if len(name) >= MIN_REFERENCE_LEN and "A" <= name.lstrip("_")[:1] <= "Z" and name not in noise:
            edges.append((start, node.start_point.row + 1, "reference", name, name))
    return edges


def _callee_text(text: str) -> str:
    """The callee as written, on one line: ``a\n    .b`` -> ``a.b``."""
    if len(text) > DETAIL_MAX or _WHITESPACE.search(text):
        text = _clip(text, DETAIL_MAX).replace(" .", ".").replace(". ", ".")
    return text


def _require_name(node: Node, src: bytes) -> str | None:
    """``const fs = require("node:fs")`` -> fs: the local name, when the call initialises a plain variable."""
    call = node.parent.parent  # string -> arguments -> call_expression
    holder = call.parent if call is not None else None
    if holder is not None and holder.type == "variable_declarator":
        target = _present(holder.child_by_field_name("name"))
        if target is not None and target.type == "identifier":
            return _text(src, target)
    return None


def _inside(offset: int, spans: list[tuple[int, int]]) -> bool:
    """Whether ``offset`` falls in one of the sorted, disjoint ``spans``."""
    i = bisect_right(spans, (offset, float("inf"))) - 1
    return i >= 0 and offset < spans[i][1]


def _python_imports(node: Node, src: bytes) -> list[tuple[str, str, Node]]:
    """``import a.b`` -> (b, a.b); ``from .m import c as d`` -> (c, .m); ``from m import *`` -> (*, m)."""
    out = []
    if node.type == "import_statement":
        for item in node.children_by_field_name("name"):
            dotted = item.child_by_field_name("name") if item.type == "aliased_import" else item
            if dotted is not None:
                path = _text(src, dotted)
                out.append((path.rsplit(".", 1)[-1], path, dotted))
        return out
    module = node.child_by_field_name("module_name")
    detail = "__future__" if node.type == "future_import_statement" else _text(src, module) if module is not None else ""
    for item in node.children_by_field_name("name"):
        dotted = item.child_by_field_name("name") if item.type == "aliased_import" else item
        if dotted is not None:
            out.append((_text(src, dotted).rsplit(".", 1)[-1], detail, dotted))
    for child in node.named_children:
        if child.type == "wildcard_import":
            out.append(("*", detail, child))
    return out


def _js_imports(node: Node, src: bytes) -> list[tuple[str, str, Node]]:
    """Imported (or re-exported) names of an import/export statement, with the module string as detail."""
    source = node.child_by_field_name("source")
    out: list[tuple[str, str, Node]] = []
    for child in node.named_children:
        if child.type == "import_require_clause":  # TS: import fs = require("fs")
            source = child.child_by_field_name("source")
            alias = child.named_child(0)
            if alias is not None and alias.type == "identifier":
                out.append((_text(src, alias), _string_value(src, source) if source is not None else "", alias))
    if source is None:
        return out
    path = _string_value(src, source)
    for child in node.named_children:
        if child.type == "import_clause":
            for part in child.named_children:
                if part.type == "identifier":  # default import
                    out.append((_text(src, part), path, part))
                elif part.type == "namespace_import" and part.named_child_count:
                    alias = part.named_child(0)
                    out.append((_text(src, alias), path, alias))
                elif part.type == "named_imports":
                    for spec in part.named_children:
                        name = spec.child_by_field_name("name")
                        if name is not None:
                            out.append((_text(src, name), path, name))
        elif child.type == "export_clause":
            for spec in child.named_children:
                name = spec.child_by_field_name("name")
                if name is not None:
                    out.append((_text(src, name), path, name))
    if not out:  # import "./side-effect" / export * from "./all"
        out.append(("*" if node.type == "export_statement" else _path_name(path), path, source))
    return out


def _go_imports(node: Node, src: bytes) -> list[tuple[str, str, Node]]:
    """``import "net/http"`` -> (http, net/http), for single and grouped imports alike."""
    specs = [c for c in node.named_children if c.type == "import_spec"]
    for group in node.named_children:
        if group.type == "import_spec_list":
            specs.extend(c for c in group.named_children if c.type == "import_spec")
    out = []
    for spec in specs:
        path_node = spec.child_by_field_name("path")
        if path_node is not None:
            path = _string_value(src, path_node)
            out.append((path.rsplit("/", 1)[-1], path, spec))
    return out


def _java_imports(node: Node, src: bytes) -> list[tuple[str, str, Node]]:
    """``import a.b.C`` -> (C, a.b); ``import a.b.*`` -> (*, a.b); static imports name the member."""
    path_node = next((c for c in node.named_children if c.type in ("scoped_identifier", "identifier")), None)
    if path_node is None:
        return []
    path = _collapse(_text(src, path_node))
    if any(c.type == "asterisk" for c in node.named_children):
        return [("*", path, path_node)]
    package, _, name = path.rpartition(".")
    return [(name, package, path_node)]


def _rust_imports(node: Node, src: bytes) -> list[tuple[str, str, Node]]:
    """Flatten a use tree: ``use a::b::{C, d::E as F, self}`` -> (C, a::b), (E, a::b::d), (b, a::b)."""
    out: list[tuple[str, str, Node]] = []

    def walk(item: Node | None, prefix: str) -> None:
        if item is None:
            return
        kind = item.type
        if kind == "scoped_identifier":
            path, name = item.child_by_field_name("path"), item.child_by_field_name("name")
            if name is not None:
                out.append((_text(src, name), _join_path(prefix, _text(src, path) if path is not None else ""), name))
        elif kind == "use_as_clause":
            walk(item.child_by_field_name("path"), prefix)
        elif kind == "use_wildcard":
            path = item.named_child(0) if item.named_child_count else None
            out.append(("*", _join_path(prefix, _text(src, path) if path is not None else ""), item))
        elif kind == "scoped_use_list":
            path = item.child_by_field_name("path")
            walk(item.child_by_field_name("list"), _join_path(prefix, _text(src, path) if path is not None else ""))
        elif kind == "use_list":
            for child in item.named_children:
                walk(child, prefix)
        elif kind == "self":  # `{self}` imports the module named by the prefix
            out.append((prefix.rsplit("::", 1)[-1], prefix, item))
        elif kind in ("identifier", "crate", "super"):
            out.append((_text(src, item), prefix, item))

    walk(node.child_by_field_name("argument"), "")
    return out


def _join_path(prefix: str, path: str) -> str:
    return f"{prefix}::{path}" if prefix and path else prefix or path


_IMPORT_READERS: dict[str, Callable[[Node, bytes], list[tuple[str, str, Node]]]] = {
    "python": _python_imports,
    "javascript": _js_imports,
    "typescript": _js_imports,
    "tsx": _js_imports,
    "go": _go_imports,
    "java": _java_imports,
    "rust": _rust_imports,
}


def _finish_edges(raw: list[tuple], defs: list[_Def]) -> tuple[Edge, ...]:
    """Attach scopes, keep one reference per (scope, name), deduplicate and sort."""
    raw.sort()  # by byte offset first
    scopes = [d for d in defs if d.kind in _SCOPE_KINDS]  # already sorted by (start, -end) in _nest
    stack: list[_Def] = []
    i = 0
    # Plain tuples until the end: hashing and sorting them is far cheaper than frozen dataclasses.
    # The scope is "" for module level while sorting (qualnames are never empty).
    unique: set[tuple[int, str, str, str, str]] = set()
    seen_refs: set[tuple[str, str]] = set()
    for offset, line, kind, name, detail in raw:
        while i < len(scopes) and scopes[i].start_byte <= offset:
            while stack and stack[-1].end_byte <= scopes[i].start_byte:
                stack.pop()
            stack.append(scopes[i])
            i += 1
        while stack and stack[-1].end_byte <= offset:
            stack.pop()
        scope = stack[-1].qualname if stack else ""
        if not name:
            continue  # a zero-width node tree-sitter inserted to recover from a syntax error
        if kind == "reference":
            if (scope, name) in seen_refs:
                continue
            seen_refs.add((scope, name))
        unique.add((line, kind, name, detail, scope))
    return tuple(Edge(kind, name, line, detail, scope or None) for line, kind, name, detail, scope in sorted(unique))


# ---------------------------------------------------------------- node helpers


def _present(node: Node | None) -> Node | None:
    """``node`` unless it is absent or a zero-width node inserted by error recovery."""
    return node if node is not None and node.end_byte > node.start_byte else None


def _text(src: bytes, node: Node, limit: int | None = None) -> str:
    end = node.end_byte if limit is None else min(node.end_byte, node.start_byte + limit)
    return src[node.start_byte : end].decode("utf-8", "replace")


def _text_range(src: bytes, start: int, end: int) -> str:
    return src[start:end].decode("utf-8", "replace")


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _clip(text: str, limit: int) -> str:
    text = _collapse(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _line(node: Node) -> int:
    return node.start_point.row + 1


def _end_row(node: Node) -> int:
    # Line comments may end at column 0 of the next row (they own their newline).
    end = node.end_point
    return end.row - 1 if end.column == 0 and end.row > node.start_point.row else end.row


def _end_line(node: Node) -> int:
    return _end_row(node) + 1


def _first_descendant(node: Node | None, node_type: str) -> Node | None:
    """Depth-first search of a small subtree (a receiver list) for the first node of ``node_type``."""
    pending = [node] if node is not None else []
    while pending:
        current = pending.pop()
        if current.type == node_type:
            return current
        pending.extend(reversed(current.named_children))
    return None


def _rust_type_name(src: bytes, node: Node) -> str:
    """``Foo<T>`` -> Foo, ``a::Foo`` -> Foo, ``&'a Foo`` -> Foo; other types keep their text."""
    while node.type in ("generic_type", "scoped_type_identifier", "reference_type", "pointer_type"):
        inner = node.child_by_field_name("name" if node.type == "scoped_type_identifier" else "type")
        if inner is None:
            break
        node = inner
    return _collapse(_text(src, node))


def _string_value(src: bytes, node: Node) -> str:
    """The contents of a string literal node, without its quotes."""
    return _text(src, node).strip("\"'`")


def _path_name(path: str) -> str:
    """Last segment of a module path without scheme or JS/TS extension: ``./lib/util.js`` -> util, ``node:fs`` -> fs."""
    return _JS_MODULE_EXTENSION.sub("", re.split(r"[/:]", path.rstrip("/"))[-1]) or path
