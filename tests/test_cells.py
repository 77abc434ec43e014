"""The cell model: keys unique, counts per format as report-format.md defines them."""
from giodq import cells as cm


def test_every_key_once_per_format():
    for fmt in cm.TABLE_FORMATS:
        keys = [c.key for c in cm.cells_for(fmt)]
        assert len(keys) == len(set(keys))


def test_2021_format_has_200_cells():
    cells = cm.cells_for("2021")
    by_table = {t: sum(c.table == t for c in cells) for t in ("t2", "t3", "t4")}
    assert by_table == {"t2": 10, "t3": 25 * 7, "t4": 15}


def test_2019_format_has_one_other_row_and_its_own_table_2():
    keys = {c.key for c in cm.cells_for("2019")}
    assert "t3.other_other.total" in keys
    assert "t3.other_overdue_correction.total" not in keys
    assert "t2.procurement.amount" in keys and "t2.licensing.change" in keys
    assert len(cm.cells_for("2019")) == 22 + 23 * 7 + 15


def test_legacy_has_no_cells_and_labels_are_chinese():
    assert cm.cells_for("legacy") == ()
    assert cm.label("t3.granted.total") == "三（一）予以公开 · 总计"
    assert cm.line_label("t3", "col", "natural_person") == "自然人"
