"""GX page views that render giodq's templates (publish/views/giodq_*.j2).

GX looks in a site's custom views folder only for template names it does not ship, so
overriding ``page.j2`` by name has no effect; these views name giodq's own copies.
"""
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView


class GiodqPageView(DefaultJinjaPageView):
    """Validation result and expectation suite pages: local scripts, a link to the report list."""
    _template = "giodq_page.j2"


class GiodqIndexPageView(DefaultJinjaIndexPageView):
    """The site index: the report list first, then GX's list of suites and results."""
    _template = "giodq_index_page.j2"
