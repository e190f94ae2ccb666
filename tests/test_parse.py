"""Tree-sitter extraction (``pampax.parse``) and language detection (``pampax.languages``).

Most tests read the ``polyglot`` fixture repository: one tiny shopping-cart project per language.
Expected line numbers refer to those files; change a fixture and its expectations together.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pampax.languages import PARSED_LANGUAGES, is_parsed, language_for
from pampax.parse import EDGE_KINDS, SYMBOL_KINDS, Edge, ParsedFile, Symbol, parse

POLYGLOT = Path(__file__).parent / "fixtures" / "polyglot"


def parse_fixture(relative: str) -> ParsedFile:
    return parse((POLYGLOT / relative).read_bytes(), language_for(relative))


def outline(parsed: ParsedFile) -> list[tuple[str, str, int, int]]:
    return [(s.kind, s.qualname, s.start_line, s.end_line) for s in parsed.symbols]


def symbol(parsed: ParsedFile, qualname: str) -> Symbol:
    (found,) = [s for s in parsed.symbols if s.qualname == qualname]
    return found


def edges(parsed: ParsedFile, kind: str) -> set[tuple[str, int, str, str | None]]:
    return {(e.name, e.line, e.detail, e.scope) for e in parsed.edges if e.kind == kind}


def fixture_sources() -> list[str]:
    return sorted(
        str(p.relative_to(POLYGLOT)) for p in POLYGLOT.rglob("*") if p.is_file() and is_parsed(language_for(str(p)) or "")
    )


# ---------------------------------------------------------------- languages


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("shop/models.py", "python"),
        ("typings/api.pyi", "python"),
        ("web/app.mjs", "javascript"),
        ("scripts/build.cjs", "javascript"),
        ("web/App.jsx", "javascript"),
        ("src/types.ts", "typescript"),
        ("src/mod.mts", "typescript"),
        ("src/Card.tsx", "tsx"),
        ("cmd/main.go", "go"),
        ("src/Main.java", "java"),
        ("src/lib.rs", "rust"),
        ("README.md", "markdown"),
        ("setup.cfg", "text"),
        ("locale/fr.po", "text"),
        ("docs/index.rst", "text"),
        ("config.yml", "yaml"),
        ("Cargo.toml", "toml"),
        ("native/ext.c", "c"),
        ("native/ext.hpp", "cpp"),
        ("Makefile", "make"),
        ("docker/Dockerfile", "dockerfile"),
        ("SRC\\LEGACY.PY", "python"),
    ],
)
def test_language_for_maps_extensions_and_special_filenames(path, language):
    # GIVEN a repository-relative path (any case, either separator)
    # WHEN its language is looked up
    # THEN the extension or the whole file name decides it
    assert language_for(path) == language


@pytest.mark.parametrize("path", ["bin/tool", "data/blob.bin", "archive.tar.xz"])
def test_language_for_unknown_files_is_none(path):
    # GIVEN files with no or an unknown extension
    # WHEN their language is looked up
    # THEN it is unknown, so the indexer decides by decoding
    assert language_for(path) is None


def test_parses_exactly_the_parsed_languages():
    # GIVEN the languages with a grammar and a text-only one
    # WHEN each is parsed
    # THEN every language said to be parsed parses, and anything else is refused
    assert PARSED_LANGUAGES == {"python", "javascript", "typescript", "tsx", "go", "java", "rust"}
    assert all(is_parsed(lang) and isinstance(parse(b"x", lang), ParsedFile) for lang in PARSED_LANGUAGES)
    assert not is_parsed("markdown")
    with pytest.raises(ValueError):
        parse(b"# title", "markdown")


# ---------------------------------------------------------------- python


def test_python_symbols_of_a_module():
    # GIVEN a module with constants, two decorated classes and methods
    parsed = parse_fixture("py/shop/models.py")
    # WHEN it is parsed
    # THEN every symbol is found with its kind, qualified name and span; decorated ones start at the decorator
    assert outline(parsed) == [
        ("constant", "TAX_RATE", 7, 7),
        ("constant", "MAX_ITEMS", 8, 8),
        ("class", "Item", 11, 16),
        ("class", "Cart", 19, 36),
        ("method", "Cart.add", 25, 28),
        ("method", "Cart.subtotal", 30, 32),
        ("method", "Cart.empty", 34, 36),
    ]
    assert [s.parent for s in parsed.symbols] == [None, None, None, None, "Cart", "Cart", "Cart"]
    assert [s.name for s in parsed.symbols][-3:] == ["add", "subtotal", "empty"]


def test_python_signatures_exclude_decorators_and_body():
    # GIVEN decorated and plain definitions
    parsed = parse_fixture("py/shop/models.py")
    # WHEN they are parsed
    # THEN the signature is the header alone, without decorators, colon or body
    assert symbol(parsed, "Item").signature == "class Item"
    assert symbol(parsed, "Cart.add").signature == "def add(self, item: Item) -> None"
    assert symbol(parsed, "Cart.empty").signature == 'def empty() -> "Cart"'
    assert symbol(parsed, "TAX_RATE").signature == "TAX_RATE = 0.2"


def test_python_docstrings_are_cleaned_and_absent_ones_are_none():
    # GIVEN classes and methods with and without docstrings
    parsed = parse_fixture("py/shop/models.py")
    # WHEN they are parsed
    # THEN docstrings lose their quotes and indentation; missing ones are None
    assert symbol(parsed, "Cart").docstring == "A list of items waiting to be paid for."
    assert symbol(parsed, "Cart.subtotal").docstring == "Sum of the item prices, before tax."
    assert symbol(parsed, "Cart.add").docstring is None
    assert symbol(parsed, "TAX_RATE").docstring is None


def test_python_nested_function_is_a_function_inside_its_parent():
    # GIVEN a decorator factory defining a decorated inner function
    parsed = parse_fixture("py/shop/utils.py")
    # WHEN it is parsed
    # THEN the inner function is a function (not a method) qualified by its parent; lower-case globals are not constants
    assert outline(parsed) == [
        ("function", "round_money", 6, 8),
        ("function", "logged", 11, 19),
        ("function", "logged.wrapper", 14, 17),
        ("constant", "CALLS", 22, 22),
    ]
    assert symbol(parsed, "logged.wrapper").parent == "logged"
    assert symbol(parsed, "logged").docstring == "Decorate ``func`` so every call is recorded in ``CALLS``."


def test_python_edges_of_a_module():
    # GIVEN a module importing relatively, decorating with a module attribute and calling across files
    parsed = parse_fixture("py/shop/pricing.py")
    # WHEN it is parsed
    # THEN imports, calls (decorator included) and references carry their line, detail and scope
    assert edges(parsed, "import") == {
        ("utils", 3, ".", None),
        ("Cart", 4, ".models", None),
        ("TAX_RATE", 4, ".models", None),
    }
    assert edges(parsed, "call") == {
        ("logged", 7, "utils.logged", "total_price"),
        ("subtotal", 10, "cart.subtotal", "total_price"),
        ("round_money", 11, "utils.round_money", "total_price"),
        ("len", 15, "len", "describe"),
        ("total_price", 15, "total_price", "describe"),
    }
    assert edges(parsed, "reference") == {
        ("Cart", 8, "Cart", "total_price"),
        ("TAX_RATE", 11, "TAX_RATE", "total_price"),
        ("Cart", 14, "Cart", "describe"),
    }


def test_python_test_file_imports_and_calls_the_code():
    # GIVEN a pytest module exercising the shop
    parsed = parse_fixture("py/tests/test_pricing.py")
    # WHEN it is parsed
    # THEN the imported names, the constructor calls and the calls of the code under test are edges
    assert edges(parsed, "import") == {
        ("Cart", 1, "shop.models", None),
        ("Item", 1, "shop.models", None),
        ("describe", 2, "shop.pricing", None),
        ("total_price", 2, "shop.pricing", None),
    }
    calls = edges(parsed, "call")
    assert ("Cart", 6, "Cart", "make_cart") in calls
    assert ("add", 7, "cart.add", "make_cart") in calls
    assert ("total_price", 13, "total_price", "test_total_price_adds_tax") in calls
    assert ("startswith", 17, "describe(make_cart()).startswith", "test_describe_counts_items") in calls
    # A called class is a call, not also a reference; the annotation is the only reference.
    assert edges(parsed, "reference") == {("Cart", 5, "Cart", "make_cart")}


def test_python_import_forms():
    # GIVEN every import statement form
    source = b"""import os.path
import json as j, re
from . import sibling
from ..pkg.mod import Thing as Alias, other
from django.db.models import *
from __future__ import annotations
"""
    # WHEN it is parsed
    # THEN the name is the imported (not the aliased) name and the detail the module as written
    assert edges(parse(source, "python"), "import") == {
        ("path", 1, "os.path", None),
        ("json", 2, "json", None),
        ("re", 2, "re", None),
        ("sibling", 3, ".", None),
        ("Thing", 4, "..pkg.mod", None),
        ("other", 4, "..pkg.mod", None),
        ("*", 5, "django.db.models", None),
        ("annotations", 6, "__future__", None),
    }


def test_python_references_rules():
    # GIVEN bases (one lower case), a short name, a repeated name, and a module-level use
    source = b"""class View(base, generic.DetailView):
    def get(self, request: HttpRequest) -> HttpResponse:
        if isinstance(request, HttpRequest):
            return HttpResponse(Q)
        return render(request, HttpRequest)

DEFAULT = Settings
"""
    # WHEN it is parsed
    parsed = parse(source, "python")
    # THEN bases count at any case, capitalised names count once per scope from length 3, callees never
    assert edges(parsed, "reference") == {
        ("base", 1, "base", "View"),
        ("DetailView", 1, "DetailView", "View"),
        ("HttpRequest", 2, "HttpRequest", "View.get"),
        ("HttpResponse", 2, "HttpResponse", "View.get"),
        ("Settings", 7, "Settings", None),
    }
    assert ("HttpResponse", 4, "HttpResponse", "View.get") in edges(parsed, "call")


# ---------------------------------------------------------------- javascript / typescript


def test_javascript_functions_arrows_and_jsdoc():
    # GIVEN an ES module with a JSDoc'd function and a commented exported arrow function
    parsed = parse_fixture("js/src/format.js")
    # WHEN it is parsed
    # THEN both are functions with their header as signature and the comment above as docstring
    assert outline(parsed) == [("function", "formatPrice", 5, 7), ("function", "formatItem", 10, 10)]
    assert symbol(parsed, "formatPrice").signature == "function formatPrice(cents)"
    assert symbol(parsed, "formatPrice").docstring == "Format an amount of cents as dollars.\n@param {number} cents"
    assert symbol(parsed, "formatItem").signature == "const formatItem = (item) =>"
    assert symbol(parsed, "formatItem").docstring == "One line per item: name and price."
    assert edges(parsed, "call") == {
        ("toFixed", 6, "(cents / 100).toFixed", "formatPrice"),
        ("formatPrice", 10, "formatPrice", "formatItem"),
    }


def test_javascript_class_methods_and_edges():
    # GIVEN a class extending an imported one, and an object literal of arrow functions
    parsed = parse_fixture("js/src/cart.js")
    # WHEN it is parsed
    # THEN methods are qualified by the class, and imports, heritage and calls are edges
    assert outline(parsed) == [
        ("class", "Cart", 4, 23),
        ("method", "Cart.constructor", 5, 8),
        ("method", "Cart.add", 10, 13),
        ("method", "Cart.total", 15, 17),
        ("method", "Cart.receipt", 19, 22),
        ("function", "isEmpty", 26, 26),
    ]
    assert symbol(parsed, "Cart").signature == "class Cart extends EventEmitter"
    assert edges(parsed, "import") == {
        ("EventEmitter", 1, "node:events", None),
        ("formatItem", 2, "./format.js", None),
        ("formatPrice", 2, "./format.js", None),
    }
    assert edges(parsed, "reference") == {("EventEmitter", 4, "EventEmitter", "Cart")}
    calls = edges(parsed, "call")
    assert ("formatPrice", 21, "formatPrice", "Cart.receipt") in calls
    assert ("total", 21, "this.total", "Cart.receipt") in calls
    assert ("emit", 12, "this.emit", "Cart.add") in calls


def test_javascript_require_and_multiline_call_chain():
    # GIVEN a CommonJS script with require() and a call chain over several lines
    parsed = parse_fixture("js/scripts/bundle.cjs")
    # WHEN it is parsed
    # THEN require() imports the variable it initialises; a chained callee is written on one line
    assert edges(parsed, "import") == {("fs", 1, "node:fs", None), ("path", 2, "node:path", None)}
    calls = edges(parsed, "call")
    assert ("readdirSync", 6, "fs.readdirSync", "bundle") in calls
    assert ("filter", 7, "fs.readdirSync(srcDir).filter", "bundle") in calls


def test_javascript_require_names_the_variable_or_the_module():
    # GIVEN require() calls bound to a differently named variable, and a bare one for its side effect
    source = b"const sh = require('shelljs');\nrequire('./polyfill.js');\n"
    # WHEN it is parsed
    # THEN the import is named after the variable, else after the module's last path segment
    assert edges(parse(source, "javascript"), "import") == {
        ("sh", 1, "shelljs", None),
        ("polyfill", 2, "./polyfill.js", None),
    }


def test_javascript_test_calls_at_module_level_have_no_scope():
    # GIVEN a node:test file whose test body is an anonymous callback
    parsed = parse_fixture("js/test/cart.test.js")
    # WHEN it is parsed
    # THEN there are no symbols, and calls (new included) belong to no scope
    assert parsed.symbols == ()
    assert ("Cart", 3, "../src/cart.js", None) in edges(parsed, "import")
    assert {("Cart", 6, "Cart", None), ("total", 8, "cart.total", None), ("test", 5, "test", None)} <= edges(parsed, "call")


def test_typescript_types_interfaces_and_enums():
    # GIVEN a module of type declarations
    parsed = parse_fixture("ts/src/types.ts")
    # WHEN it is parsed
    # THEN the alias, enum, interface and its method signature are symbols; type uses are references
    assert outline(parsed) == [
        ("type", "ProductId", 1, 1),
        ("enum", "Currency", 3, 6),
        ("interface", "Product", 9, 14),
        ("method", "Product.describe", 13, 13),
    ]
    assert symbol(parsed, "Product").docstring == "Anything that can be put in the inventory."
    assert symbol(parsed, "Product").signature == "interface Product"
    assert symbol(parsed, "ProductId").signature == "type ProductId = string"
    assert edges(parsed, "reference") == {
        ("ProductId", 10, "ProductId", "Product"),
        ("Currency", 12, "Currency", "Product"),
    }


def test_typescript_class_and_type_references():
    # GIVEN a class and a function using imported types
    parsed = parse_fixture("ts/src/inventory.ts")
    # WHEN it is parsed
    # THEN typed signatures are kept and each type is referenced once per scope
    assert outline(parsed) == [
        ("class", "Inventory", 3, 13),
        ("method", "Inventory.add", 6, 8),
        ("method", "Inventory.find", 10, 12),
        ("function", "totalValue", 15, 21),
    ]
    assert symbol(parsed, "Inventory.find").signature == "find(id: ProductId): Product | undefined"
    assert {(name, line) for name, line, _, scope in edges(parsed, "reference") if scope == "Inventory.find"} == {
        ("ProductId", 10),
        ("Product", 10),
    }
    assert ("Map", 4, "Map", "Inventory") in edges(parsed, "call")
    assert ("Inventory", 15, "Inventory", "totalValue") in edges(parsed, "reference")


def test_tsx_components_reference_each_other_through_jsx():
    # GIVEN a React component rendering another one next to plain HTML tags
    parsed = parse_fixture("ts/src/ProductCard.tsx")
    # WHEN it is parsed
    # THEN both components are functions, and only the capitalised JSX tag is a reference
    assert outline(parsed) == [("function", "PriceTag", 4, 4), ("function", "ProductCard", 6, 13)]
    assert edges(parsed, "reference") == {
        ("Product", 6, "Product", "ProductCard"),
        ("PriceTag", 10, "PriceTag", "ProductCard"),
    }
    assert edges(parsed, "import") == {("React", 1, "react", None), ("Product", 2, "./types", None)}


# ---------------------------------------------------------------- go


def test_go_types_functions_and_methods():
    # GIVEN a package with a constant, structs, an interface, a function and methods on *T and T receivers
    parsed = parse_fixture("go/shop/cart.go")
    # WHEN it is parsed
    # THEN methods are qualified by the receiver type without '*', and doc comments are attached
    assert outline(parsed) == [
        ("constant", "MaxItems", 10, 10),
        ("struct", "Item", 13, 16),
        ("struct", "Cart", 19, 21),
        ("interface", "Pricer", 24, 26),
        ("function", "NewCart", 32, 34),
        ("method", "Cart.Add", 37, 43),
        ("method", "Cart.Total", 46, 52),
    ]
    assert symbol(parsed, "Cart.Add").signature == "func (c *Cart) Add(item Item) error"
    assert symbol(parsed, "Cart.Add").parent is None
    assert symbol(parsed, "Item").signature == "type Item struct"
    assert symbol(parsed, "Item").docstring == "Item is something for sale, priced in cents."
    assert symbol(parsed, "MaxItems").docstring == "MaxItems is the most items one cart holds."


def test_go_edges_skip_builtin_types():
    # GIVEN methods using builtin and declared types
    parsed = parse_fixture("go/shop/cart.go")
    # WHEN it is parsed
    # THEN imports use the last path segment, calls the selector, and builtins are not references
    assert edges(parsed, "import") == {("errors", 5, "errors", None), ("fmt", 6, "fmt", None)}
    assert {
        ("Errorf", 39, "fmt.Errorf", "Cart.Add"),
        ("append", 41, "append", "Cart.Add"),
        ("Price", 49, "p.Price", "Cart.Total"),
        ("New", 29, "errors.New", None),
    } <= edges(parsed, "call")
    references = edges(parsed, "reference")
    assert ("Pricer", 46, "Pricer", "Cart.Total") in references
    assert not {name for name, *_ in references} & {"int", "string", "error"}


def test_go_test_file_calls_the_package():
    # GIVEN a _test.go file
    parsed = parse_fixture("go/shop/cart_test.go")
    # WHEN it is parsed
    # THEN the test function and a method on an unnamed receiver are symbols calling into the package
    assert outline(parsed) == [
        ("struct", "listPrice", 5, 5),
        ("method", "listPrice.Price", 7, 7),
        ("function", "TestTotalSumsPrices", 9, 17),
    ]
    assert edges(parsed, "import") == {("testing", 3, "testing", None)}
    assert {
        ("NewCart", 10, "NewCart", "TestTotalSumsPrices"),
        ("Add", 11, "c.Add", "TestTotalSumsPrices"),
        ("Total", 14, "c.Total", "TestTotalSumsPrices"),
    } <= edges(parsed, "call")


def test_go_import_alias_keeps_the_package_name():
    # GIVEN an aliased import in a group
    source = b'package p\n\nimport (\n\th "net/http"\n\t"os"\n)\n'
    # WHEN it is parsed
    # THEN the name is the package's last path segment and the detail its path
    assert edges(parse(source, "go"), "import") == {("http", 4, "net/http", None), ("os", 5, "os", None)}


# ---------------------------------------------------------------- java


def test_java_class_nested_interface_constructor_and_methods():
    # GIVEN a class with Javadoc, a nested interface, a constructor and commented methods
    parsed = parse_fixture("java/src/main/java/com/example/shop/Cart.java")
    # WHEN it is parsed
    # THEN members are qualified by their class, constructors are methods, and comments become docs
    assert outline(parsed) == [
        ("class", "Cart", 9, 31),
        ("interface", "Cart.Pricer", 11, 13),
        ("method", "Cart.Pricer.price", 12, 12),
        ("method", "Cart.Cart", 17, 17),
        ("method", "Cart.add", 20, 22),
        ("method", "Cart.total", 24, 30),
    ]
    assert symbol(parsed, "Cart").docstring == "A cart of items waiting to be paid for."
    assert symbol(parsed, "Cart.Pricer").docstring == "Prices an item, e.g. after a discount."
    assert symbol(parsed, "Cart.add").docstring == "Adds one item."
    assert symbol(parsed, "Cart.total").docstring is None
    assert symbol(parsed, "Cart.total").signature == "public int total(Pricer pricer)"
    assert symbol(parsed, "Cart.Pricer.price").signature == "int price(Item item)"
    assert edges(parsed, "import") == {("ArrayList", 3, "java.util", None), ("List", 4, "java.util", None)}
    assert {
        ("ArrayList", 15, "ArrayList", "Cart"),
        ("add", 21, "items.add", "Cart.add"),
        ("price", 27, "pricer.price", "Cart.total"),
    } == edges(parsed, "call")


def test_java_record_is_a_class():
    # GIVEN a record
    parsed = parse_fixture("java/src/main/java/com/example/shop/Item.java")
    # WHEN it is parsed
    # THEN it is a class whose signature keeps the components
    assert outline(parsed) == [("class", "Item", 4, 4)]
    assert symbol(parsed, "Item").signature == "public record Item(String name, int cents)"
    assert symbol(parsed, "Item").docstring == "Something for sale, priced in cents."


def test_java_junit_test_imports_annotations_and_calls():
    # GIVEN a JUnit test with a static import and an annotation
    parsed = parse_fixture("java/src/test/java/com/example/shop/CartTest.java")
    # WHEN it is parsed
    # THEN the static import names the member, the annotation is a reference, object creation is a call
    assert outline(parsed) == [("class", "CartTest", 7, 14), ("method", "CartTest.totalSumsPrices", 8, 13)]
    assert edges(parsed, "import") == {
        ("assertEquals", 3, "org.junit.jupiter.api.Assertions", None),
        ("Test", 5, "org.junit.jupiter.api", None),
    }
    scope = "CartTest.totalSumsPrices"
    assert ("Test", 8, "Test", scope) in edges(parsed, "reference")
    assert edges(parsed, "call") == {
        ("Cart", 10, "Cart", scope),
        ("Item", 11, "Item", scope),
        ("add", 11, "cart.add", scope),
        ("assertEquals", 12, "assertEquals", scope),
        ("total", 12, "cart.total", scope),
    }


# ---------------------------------------------------------------- rust


def test_rust_items_impls_and_methods():
    # GIVEN a module with a const, attributed structs, a trait and three impls
    parsed = parse_fixture("rust/src/cart.rs")
    # WHEN it is parsed
    # THEN impl methods are "Type.method" inside an impl named after the implementing type
    assert outline(parsed) == [
        ("constant", "MAX_ITEMS", 4, 4),
        ("struct", "Item", 7, 11),
        ("trait", "Priced", 14, 16),
        ("method", "Priced.price", 15, 15),
        ("impl", "impl Priced for Item", 18, 22),
        ("method", "Item.price", 19, 21),
        ("struct", "Cart", 24, 27),
        ("impl", "impl Cart", 29, 46),
        ("method", "Cart.new", 30, 32),
        ("method", "Cart.add", 35, 41),
        ("method", "Cart.total", 43, 45),
        ("impl", "impl fmt::Display for Cart", 48, 52),
        ("method", "Cart.fmt", 49, 51),
    ]
    assert symbol(parsed, "impl fmt::Display for Cart").name == "Cart"
    assert symbol(parsed, "Cart.fmt").parent == "impl fmt::Display for Cart"
    assert symbol(parsed, "Item").docstring == "Something for sale, priced in cents."  # across #[derive]
    assert symbol(parsed, "Item").signature == "pub struct Item"
    assert symbol(parsed, "Cart.add").docstring == "Adds an item; refuses when the cart is full."
    assert symbol(parsed, "Cart.add").signature == "pub fn add(&mut self, item: Item) -> Result<(), String>"
    assert symbol(parsed, "Priced.price").signature == "fn price(&self) -> u32"


def test_rust_edges():
    # GIVEN method calls, path calls and trait paths inside impls
    parsed = parse_fixture("rust/src/cart.rs")
    # WHEN it is parsed
    # THEN calls keep the path as detail, paths reference their type, and `Self` is never a reference
    assert edges(parsed, "import") == {("fmt", 1, "std", None)}
    calls = edges(parsed, "call")
    assert {
        ("default", 31, "Self::default", "Cart.new"),
        ("push", 39, "self.items.push", "Cart.add"),
        ("Err", 37, "Err", "Cart.add"),
        ("sum", 44, "self.items.iter().map(Priced::price).sum", "Cart.total"),
    } <= calls
    assert "format" not in {name for name, *_ in calls}  # macros are skipped
    references = edges(parsed, "reference")
    assert {
        ("Priced", 18, "Priced", "impl Priced for Item"),
        ("Priced", 44, "Priced", "Cart.total"),
        ("Formatter", 49, "Formatter", "Cart.fmt"),
    } <= references
    assert "Self" not in {name for name, *_ in references}


def test_rust_use_trees_and_modules():
    # GIVEN the crate root declaring a module and re-exporting from it
    parsed = parse_fixture("rust/src/lib.rs")
    # WHEN it is parsed
    # THEN the module is a symbol and each name of the use list is an import of that path
    assert outline(parsed) == [("module", "cart", 3, 3)]
    assert symbol(parsed, "cart").docstring is None  # the crate doc above is separated by a blank line
    assert edges(parsed, "import") == {("Cart", 5, "cart", None), ("Item", 5, "cart", None)}
    # AND nested use trees flatten to (name, path) pairs
    source = b"use std::collections::{HashMap, hash_map::Entry as E, self};\nuse crate::x::y::C;\nuse super::*;\n"
    assert edges(parse(source, "rust"), "import") == {
        ("HashMap", 1, "std::collections", None),
        ("Entry", 1, "std::collections::hash_map", None),
        ("collections", 1, "std::collections", None),
        ("C", 2, "crate::x::y", None),
        ("*", 3, "super", None),
    }


def test_rust_integration_test_starts_at_its_attribute():
    # GIVEN an integration test marked #[test]
    parsed = parse_fixture("rust/tests/cart_test.rs")
    # WHEN it is parsed
    # THEN the test's span starts at the attribute and its calls reach the crate
    assert outline(parsed) == [("function", "item", 3, 5), ("function", "total_sums_prices", 7, 12)]
    assert {
        ("new", 9, "Cart::new", "total_sums_prices"),
        ("item", 10, "item", "total_sums_prices"),
        ("add", 10, "cart.add", "total_sums_prices"),
    } <= edges(parsed, "call")
    assert edges(parsed, "import") == {("Cart", 1, "shop", None), ("Item", 1, "shop", None)}


def test_leading_comment_must_touch_the_declaration():
    # GIVEN comments separated by a blank line, directly above, and trailing the previous statement
    source = b"// licence header\n\n// Adds.\n// Twice.\nfunction add() {}\nlet x = 1; // trailing\nfunction sub() {}\n"
    # WHEN it is parsed
    parsed = parse(source, "javascript")
    # THEN only the block directly above a declaration is its docstring
    assert {s.name: s.docstring for s in parsed.symbols} == {"add": "Adds.\nTwice.", "sub": None}


# ---------------------------------------------------------------- every language


@pytest.mark.parametrize("relative", fixture_sources())
def test_output_is_sorted_deduplicated_and_deterministic(relative):
    # GIVEN a fixture source file
    source = (POLYGLOT / relative).read_bytes()
    # WHEN it is parsed twice
    first, second = parse(source, language_for(relative)), parse(source, language_for(relative))
    # THEN both results are equal, sorted as documented, free of duplicates, and use the documented kinds
    assert first == second
    assert list(first.symbols) == sorted(first.symbols, key=lambda s: (s.start_line, -s.end_line, s.qualname))
    assert list(first.edges) == sorted(first.edges, key=lambda e: (e.line, e.kind, e.name, e.detail))
    assert len(set(first.edges)) == len(first.edges)
    assert {s.kind for s in first.symbols} <= set(SYMBOL_KINDS)
    assert {e.kind for e in first.edges} <= set(EDGE_KINDS)
    qualnames = {s.qualname for s in first.symbols}
    assert {e.scope for e in first.edges} - {None} <= qualnames
    assert {s.parent for s in first.symbols} - {None} <= qualnames


def test_fixture_sources_cover_every_parsed_language():
    # GIVEN the polyglot fixture
    # WHEN its parsable files are listed
    # THEN every parsed language is represented, so the tests above exercise them all
    assert {language_for(p) for p in fixture_sources()} == PARSED_LANGUAGES


def test_signature_is_one_line_and_clipped():
    # GIVEN a definition whose header spans lines and exceeds the signature limit
    params = ",\n    ".join(f"argument_{i}: int = {i}" for i in range(40))
    source = f"def wide(\n    {params},\n) -> None:\n    pass\n".encode()
    # WHEN it is parsed
    (wide,) = parse(source, "python").symbols
    # THEN the signature collapses whitespace and stops at about 300 characters
    assert wide.signature.startswith("def wide( argument_0: int = 0, argument_1: int = 1,")
    assert "\n" not in wide.signature
    assert len(wide.signature) == 300 and wide.signature.endswith("…")
    assert (wide.start_line, wide.end_line) == (1, 43)


def test_invalid_utf8_is_replaced_not_fatal():
    # GIVEN source with bytes that are not UTF-8 in a default value, a docstring and a call argument
    source = b'def price(unit="\xe9"):\n    """Price in \xff euros."""\n    return total("\xfe")\n'
    # WHEN it is parsed
    parsed = parse(source, "python")
    # THEN text is decoded with replacement characters and positions are unaffected
    assert [(s.name, s.signature, s.docstring) for s in parsed.symbols] == [
        ("price", 'def price(unit="\ufffd")', "Price in \ufffd euros.")
    ]
    assert [(e.kind, e.name, e.line) for e in parsed.edges] == [("call", "total", 3)]


@pytest.mark.parametrize(
    ("lang", "source", "survivor"),
    [
        ("python", b"def ok():\n    return 1\n\ndef broken(:\n    class\n", "ok"),
        ("javascript", b"function ok() { return 1 }\nfunction broken( {\n", "ok"),
        ("typescript", b"interface Ok { a: string }\nclass Broken { m(: void {\n", "Ok"),
        ("tsx", b"function Ok() { return <div>; }\nconst x = <\n", "Ok"),
        ("go", b"package p\nfunc Ok() {}\nfunc (r *) Broken( {\n", "Ok"),
        ("java", b"class Ok { void m() {} }\nclass Broken { void n( {\n", "Ok"),
        ("rust", b"fn ok() {}\nimpl for {\nfn broken(\n", "ok"),
    ],
)
def test_malformed_source_still_yields_what_parses(lang, source, survivor):
    # GIVEN a file whose second half is broken
    # WHEN it is parsed
    parsed = parse(source, lang)
    # THEN nothing is raised and the well-formed declaration is still found
    assert survivor in {s.name for s in parsed.symbols}


@pytest.mark.parametrize(
    ("lang", "source"),
    [
        ("python", b"x.()\n"),
        ("java", b"class Box { void () {} }\n"),
        ("rust", b"use ::;\nfn f() { a.(); }\n"),
    ],
)
def test_recovery_placeholders_never_become_names(lang, source):
    # GIVEN source where tree-sitter inserts zero-width MISSING identifiers to recover
    # WHEN it is parsed
    parsed = parse(source, lang)
    # THEN no symbol or edge has an empty name
    assert all(s.name for s in parsed.symbols)
    assert all(e.name for e in parsed.edges)


@settings(max_examples=300, deadline=None)
@given(source=st.binary(max_size=300), lang=st.sampled_from(sorted(PARSED_LANGUAGES)))
def test_arbitrary_bytes_never_raise(source, lang):
    # GIVEN any bytes in any parsed language
    # WHEN they are parsed
    parsed = parse(source, lang)
    # THEN a well-formed result comes back: valid spans, non-empty names, lines within the file
    last_line = source.count(b"\n") + 1
    assert all(1 <= s.start_line <= s.end_line <= last_line and s.name for s in parsed.symbols)
    assert all(1 <= e.line <= last_line and e.name for e in parsed.edges)


@pytest.mark.parametrize("relative", ["py/shop/models.py", "go/shop/cart.go", "rust/src/cart.rs"])
def test_truncated_fixtures_never_raise(relative):
    # GIVEN every prefix (in steps) of a real file, as an editor saving mid-keystroke would leave it
    source = (POLYGLOT / relative).read_bytes()
    for cut in range(0, len(source), 5):
        # WHEN it is parsed
        parsed = parse(source[:cut], language_for(relative))
        # THEN it returns symbols within the truncated text
        assert all(s.end_line <= source[:cut].count(b"\n") + 1 for s in parsed.symbols)


def test_edge_detail_is_clipped():
    # GIVEN a call whose callee expression is very long
    receiver = ".".join(f"attribute_{i}" for i in range(40))
    source = f"value = {receiver}.finish()\n".encode()
    # WHEN it is parsed
    (edge,) = [e for e in parse(source, "python").edges if e.kind == "call"]
    # THEN the name is the last identifier and the detail stays within 200 characters
    assert edge == Edge("call", "finish", 1, edge.detail, None)
    assert len(edge.detail) == 200 and edge.detail.startswith("attribute_0.attribute_1.")
