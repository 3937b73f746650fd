# SPDX-License-Identifier: GPL-2.0-only
#
# Sphinx configuration of the vhostctl documentation: make htmldocs builds
# it into build/htmldocs with every warning an error.

import os

project = "vhostctl"
author = "vhostctl developers"
copyright = "2026, vhostctl developers"

_top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(_top, "VERSION"), encoding="utf-8") as _f:
    release = _f.read().strip()
version = ".".join(release.split(".")[:2])

master_doc = "index"
source_suffix = {".rst": "restructuredtext"}
# The man pages are roff, read by man(1); the examples are included from the
# pages that explain them.
exclude_patterns = ["man", "examples", "output"]
extensions = []
highlight_language = "none"
html_theme = "alabaster"
html_static_path = []
html_show_sourcelink = False
