from __future__ import annotations

import pytest

from tongban.exchange.masking import mask_value


@pytest.mark.parametrize("value, masked", [
    ("张三", "张*"),
    ("欧阳娜娜", "欧***"),
    ("330102199001011234", "3301**********1234"),
    ("91010219880315432X", "9101**********432X"),
    ("91910100MA1YX0001K", "9191**********001K"),
    ("13812345678", "138****5678"),
    ("1990-01-01", "1990-**-**"),
    ("男", "*"),
    ("东川省云溪市青山区翠湖街道翠湖路18号", "东川省云溪市********"),
    ("ABCDEFG", "A*****G"),
    (172, "***"),
    (True, "*"),
    (None, None),
    ("", ""),
    (["张三", "李四"], ["张*", "李*"]),
    ({"name": "王芳"}, {"name": "王*"}),
])
def test_mask_value(value, masked):
    assert mask_value(value) == masked
