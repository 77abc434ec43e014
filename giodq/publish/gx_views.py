"""giodq's views of GX's Data Docs pages (loaded by GX as custom views, see docs.py).

- Templates: giodq's copies of GX's page templates load local scripts and styles, show giodq's
  name and the district's title instead of GX's logo, have no newsletter footer, and link back
  to the report list.
- Labels: GX's renderers write English labels into the documents they hand to the templates;
  the views translate the ones a reviewer sees (状态, 运行时间, 规则组...) before rendering. Only
  whole strings that are exactly such a label are replaced, so report text is never touched.
- Bytecode: GX makes a new Jinja environment per view and compiles every template again on each
  build (~1 s of a rerun); the views share Jinja's file bytecode cache, keyed on each template's
  source, so a template is compiled once per machine until it changes.
"""
from great_expectations.render.view import (
    DefaultJinjaIndexPageView,
    DefaultJinjaPageView,
)
from jinja2 import FileSystemBytecodeCache

from giodq.settings import settings

_BYTECODE = FileSystemBytecodeCache(pattern="giodq-gx-%s.cache")
LABELS_ZH = {
    "Status": "状态", "Run Time": "运行时间", "Run Name": "运行名称", "Asset Name": "数据表", "Batch ID": "批次",
    "Expectation Suite": "规则组", "Expectation Suites": "规则组", "Validation Results": "验证结果",
    "Profiling Results": "数据概况", "Overview": "概览", "Table of Contents": "目录", "Actions": "操作",
    "Statistics": "统计", "Evaluated Expectations": "已评估的检查项", "Successful Expectations": "通过的检查项",
    "Unsuccessful Expectations": "未通过的检查项", "Success Percent": "通过率", "Info": "信息",
    "Great Expectations Version": "GX 版本", "Expectation Suite Name": "规则组名称", "Run ID": "运行编号",
    "Expectation Validation Result": "验证结果", "Expectations": "检查项", "Expectation": "检查项",
    "Observed Value": "实际值", "Unexpected Values": "不符合的值", "Unexpected Value": "不符合的值",
    "Sample Unexpected Values": "不符合的值（示例）", "Count": "数量", "Success": "通过", "Failed": "未通过",
    "Batch Markers": "批次标记", "Batch Spec": "批次说明", "Batch Parameters": "批次参数",
    "Validation Filter": "筛选", "Show more info...": "显示更多…", "Show Walkthrough": "使用说明",
    "Notes": "说明", "Column": "列", "Table-Level Expectations": "表级检查项",
}


def translated(document):
    """The document (GX's rendered JSON) with GX's English labels in Chinese."""
    if isinstance(document, dict):
        return {k: translated(v) for k, v in document.items()}
    if isinstance(document, list):
        return [translated(v) for v in document]
    if isinstance(document, str):
        return LABELS_ZH.get(document, document)
    return document


class _GiodqView:
    # GX passes only the arguments named in the signature: spelt out, not *args/**kwargs
    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self.env.bytecode_cache = _BYTECODE
        self.env.globals["giodq_title"] = settings().site_title

    def render(self, document, template=None, **kwargs):
        self._validate_document(document)
        page = self._get_template(template or self._template)
        return page.render(translated(document.to_json_dict()), **kwargs)


class GiodqPageView(_GiodqView, DefaultJinjaPageView):
    """Validation result and expectation suite pages: local scripts, a link to the report list."""
    _template = "giodq_page.j2"


class GiodqIndexPageView(_GiodqView, DefaultJinjaIndexPageView):
    """The site index: the report list first, then GX's list of suites and results."""
    _template = "giodq_index_page.j2"
