#!/usr/bin/env python3
"""Self-test of scripts/check-layers on small trees of .rs files.

Run: python3 scripts/check_layers_test.py
"""

import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "check-layers"


class CheckLayers(unittest.TestCase):
    def run_on(self, files, *flags):
        """Write files ({path under src/: text}) to a fresh tree, run the script
        on it; return (exit status, stdout)."""
        with tempfile.TemporaryDirectory() as root:
            for name, text in files.items():
                path = Path(root, "src", name)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(textwrap.dedent(text).lstrip("\n"))
            done = subprocess.run([sys.executable, str(SCRIPT), "--root", root, *flags],
                                  capture_output=True, text=True, timeout=60)
        self.assertEqual(done.stderr, "")
        return done.returncode, done.stdout

    def edges(self, files):
        status, out = self.run_on(files, "--graph")
        return {line for line in out.splitlines() if not line.startswith(("cycle", " ", "check"))}

    def test_cycle_through_use_crate(self):
        status, out = self.run_on({
            "lib.rs": "pub mod a;\npub mod b;\n",
            "a.rs": "use std::fmt;\n\nuse crate::b::B;\npub struct A;\n",
            "b.rs": "pub use crate::a::A;\npub struct B;\n",
        })
        self.assertEqual(status, 1)
        self.assertIn("cycle: src/a.rs -> src/b.rs -> src/a.rs", out)
        self.assertIn("  src/a.rs -> src/b.rs: crate::b::B (line 3)", out)
        self.assertIn("  src/b.rs -> src/a.rs: crate::a::A (line 1)", out)

    def test_cycle_through_super(self):
        status, out = self.run_on({
            "lib.rs": "pub mod p;\n",
            "p/mod.rs": "pub mod x;\npub mod y;\n",
            "p/x.rs": "use super::y::Y;\npub fn g() {}\n",
            "p/y.rs": """
                pub struct Y;
                pub fn f() {
                    super::x::g();
                }
            """,
        })
        self.assertEqual(status, 1)
        self.assertIn("cycle: src/p/x.rs -> src/p/y.rs -> src/p/x.rs", out)
        self.assertIn("src/p/y.rs -> src/p/x.rs: super::x::g (line 3)", out)

    def test_cycle_through_inline_path(self):
        status, out = self.run_on({
            "lib.rs": "pub mod a;\npub mod b;\n",
            "a.rs": "pub fn f() -> u8 {\n    crate::b::g() + 1\n}\n",
            "b.rs": "pub fn g() -> u8 {\n    let x: crate::a::T = 0;\n    x\n}\n",
        })
        self.assertEqual(status, 1)
        self.assertIn("src/a.rs -> src/b.rs: crate::b::g (line 2)", out)
        self.assertIn("src/b.rs -> src/a.rs: crate::a::T (line 2)", out)

    def test_cycle_through_nested_use_group(self):
        files = {
            "lib.rs": "pub mod a;\npub mod b;\npub mod c;\npub mod d;\n",
            "a.rs": "use crate::{\n    b::{Y, Z as Zed},\n    c::{self, W},\n};\n",
            "b.rs": "pub(crate) use crate::a::X;\n",
            "c.rs": "pub struct W;\n",
        }
        status, out = self.run_on(files)
        self.assertEqual(status, 1)
        self.assertIn("src/a.rs -> src/b.rs: crate::b::Y (line 2), crate::b::Z (line 2)", out)
        self.assertEqual(self.edges(files), {"src/a.rs -> src/b.rs", "src/a.rs -> src/c.rs",
                                             "src/b.rs -> src/a.rs"})

    def test_mod_declaration_alone_is_no_edge(self):
        files = {
            "lib.rs": "pub mod p;\n",
            "p/mod.rs": "pub mod child;\nmod other;\nmod parse;\npub struct Thing;\n"
                        "fn n() -> u8 { \"1\".parse::<u8>().unwrap() }\n",
            "p/child.rs": "use super::Thing;\n",
            "p/parse.rs": "",
            "p/other.rs": "pub fn f() { super::child::g() }\n",
        }
        status, out = self.run_on(files)
        self.assertEqual(status, 0, out)
        self.assertEqual(self.edges(files), {"src/p/child.rs -> src/p/mod.rs",
                                             "src/p/other.rs -> src/p/child.rs"})

    def test_parent_using_its_child_is_an_edge(self):
        files = {
            "lib.rs": "pub mod p;\n",
            "p/mod.rs": "mod child;\nmod other;\npub use child::*;\nfn f() { other::g() }\n",
            "p/child.rs": "pub struct C;\n",
            "p/other.rs": "pub fn g() {}\n",
        }
        self.assertEqual(self.edges(files), {"src/p/mod.rs -> src/p/child.rs",
                                             "src/p/mod.rs -> src/p/other.rs"})

    def test_comments_and_strings_are_no_edge(self):
        status, out = self.run_on({
            "lib.rs": "//! See [`crate::b`].\npub mod a;\npub mod b;\npub mod c;\npub mod d;\n",
            "a.rs": "use crate::b::B;\n",
            "c.rs": "pub struct C;\n",
            "d.rs": "pub struct D;\n",
            "b.rs": r'''
                //! Uses [`crate::a::A`] nowhere.
                /// [`crate::a`]
                pub struct B; // crate::a::f()
                /* crate::a::X /* nested */ crate::a::Y */
                pub const S: &str = "crate::a::f() \" crate::a::g()";
                pub const R: &str = r#"raw "crate::a::h" raw"#;
                pub const Q: char = '"'; pub type T = crate::c::C;
                pub fn f<'a>(x: &'a str) -> &'a str { let _ = "/*"; x }
                pub fn g() -> impl Sized + use<> { crate::d::D; }
            ''',
        })
        self.assertEqual(status, 0, out)
        self.assertEqual(out, "check-layers: 5 files, 3 imports, no cycle\n")

    def test_acyclic_tree_passes(self):
        files = {
            "lib.rs": "pub mod org;\npub mod app;\npub mod error;\n",
            "main.rs": "use guardsync::app;\nfn main() { app::run() }\n",
            "bin/lambda.rs": "fn main() { guardsync::app::run() }\n",
            "error.rs": "pub enum Error { A }\n",
            "org/mod.rs": "pub mod waves;\nuse crate::error::Error;\n",
            "org/waves.rs": """
                use crate::error::Error::{self, A};
                pub fn f() -> Error { A }
                #[cfg(test)]
                mod tests {
                    use super::*;
                    fn t() { f(); super::super::waves::f(); }
                }
            """,
            "app.rs": "use crate::org;\n\npub fn run() {\n    org::waves::f();\n}\n",
        }
        status, out = self.run_on(files)
        self.assertEqual(status, 0, out)
        self.assertEqual(out, "check-layers: 5 files, 4 imports, no cycle\n")
        self.assertEqual(self.edges(files), {
            "src/app.rs -> src/org/mod.rs", "src/app.rs -> src/org/waves.rs",
            "src/org/mod.rs -> src/error.rs", "src/org/waves.rs -> src/error.rs"})

    def test_test_modules_count(self):
        status, out = self.run_on({
            "lib.rs": "pub mod a;\npub mod b;\n",
            "a.rs": "use crate::b::B;\npub fn f() {}\n",
            "b.rs": "pub struct B;\n#[cfg(test)]\nmod tests {\n    use crate::a;\n    #[test]\n    fn t() { a::f() }\n}\n",
        })
        self.assertEqual(status, 1)
        self.assertIn("src/b.rs -> src/a.rs: crate::a (line 4), a::f (line 6)", out)


if __name__ == "__main__":
    unittest.main()
