"""GX page views that render giodq's templates (publish/views/giodq_*.j2).

GX looks in a site's custom views folder only for template names it does not ship, so
overriding ``page.j2`` by name has no effect; these views name giodq's own copies.

GX makes a new Jinja environment per view and compiles every template again on each build
(~1 s of a rerun); the views share Jinja's file bytecode cache, keyed on each template's
source, so a template is compiled once per machine until it changes.
"""
from great_expectations.render.view import (
    DefaultJinjaIndexPageView,
    DefaultJinjaPageView,
)
from jinja2 import FileSystemBytecodeCache

_BYTECODE = FileSystemBytecodeCache(pattern="giodq-gx-%s.cache")


class _SharedBytecode:
    # GX passes only the arguments named in the signature: spelt out, not *args/**kwargs
    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self.env.bytecode_cache = _BYTECODE


class GiodqPageView(_SharedBytecode, DefaultJinjaPageView):
    """Validation result and expectation suite pages: local scripts, a link to the report list."""
    _template = "giodq_page.j2"


class GiodqIndexPageView(_SharedBytecode, DefaultJinjaIndexPageView):
    """The site index: the report list first, then GX's list of suites and results."""
    _template = "giodq_index_page.j2"
