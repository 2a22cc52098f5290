"""术语表：GLOSSARY.md 与代码一致，已有的笔记本在首次使用术语时写出“中文（English）”。"""

import json
from pathlib import Path

import pytest

from bigmodel_lab.glossary import (
    GLOSSARY,
    SERIES,
    Term,
    missing_first_uses,
    render_glossary,
    write_glossary,
)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"


def _write_notebook(path: Path, markdown: list[str], code: list[str] = ()) -> None:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": text} for text in markdown]
    cells += [
        {"cell_type": "code", "metadata": {}, "source": text, "outputs": [], "execution_count": None}
        for text in code
    ]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook, ensure_ascii=False), encoding="utf-8")


def test_committed_glossary_matches_render():
    committed = (ROOT / "GLOSSARY.md").read_text(encoding="utf-8")
    assert committed == render_glossary(), "GLOSSARY.md 已过期，请运行 python -m bigmodel_lab.glossary GLOSSARY.md"


def test_chinese_terms_are_unique():
    chinese = [term.chinese for term in GLOSSARY]
    assert len(chinese) == len(set(chinese))


def test_english_terms_are_unique():
    english = [term.english for term in GLOSSARY]
    assert len(english) == len(set(english))


def test_every_term_names_a_series_notebook():
    unknown = [term for term in GLOSSARY if term.notebook not in SERIES]
    assert unknown == []


def test_render_lists_every_term_once():
    page = render_glossary()
    for term in GLOSSARY:
        assert page.count(f"| {term.chinese} | {term.english} |") == 1


def test_render_orders_terms_by_series():
    rows = [line for line in render_glossary().splitlines() if line.startswith("| ") and "---" not in line][1:]
    notebooks = [row.rstrip(" |").rsplit("| ", 1)[1] for row in rows]
    assert notebooks == sorted(notebooks, key=SERIES.index)


def test_render_rejects_unknown_notebook():
    with pytest.raises(ValueError, match="01_activation"):
        render_glossary((Term("激活函数", "activation function", "01_activation"),))


def test_write_glossary_writes_rendered_page(tmp_path):
    path = write_glossary(tmp_path / "GLOSSARY.md")
    assert path.read_text(encoding="utf-8") == render_glossary()


def test_write_glossary_rejects_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="GLOSSARY.md"):
        write_glossary(tmp_path)


def test_first_use_accepts_english_or_abbreviation():
    term = Term("均方误差", "mean squared error", "02_losses", "MSE")
    assert term.first_use_forms() == ("均方误差（mean squared error", "均方误差（MSE")


def test_missing_first_uses_names_term_and_notebook(tmp_path):
    terms = (
        Term("激活函数", "activation function", "01_activations"),
        Term("梯度消失", "vanishing gradient", "01_activations"),
        Term("损失函数", "loss function", "02_losses"),
    )
    _write_notebook(tmp_path / "01_activations.ipynb", ["# 01 激活函数（activation function）", "梯度消失很常见。"])
    assert missing_first_uses(tmp_path, terms) == {"01_activations": ["梯度消失（vanishing gradient）"]}


def test_missing_first_uses_ignores_code_cells(tmp_path):
    terms = (Term("激活函数", "activation function", "01_activations"),)
    _write_notebook(tmp_path / "01_activations.ipynb", ["# 01"], code=["# 激活函数（activation function）"])
    assert missing_first_uses(tmp_path, terms) == {"01_activations": ["激活函数（activation function）"]}


@pytest.mark.parametrize("notebook", SERIES)
def test_notebook_gives_english_at_first_use(notebook):
    if not (NOTEBOOK_DIR / f"{notebook}.ipynb").is_file():
        pytest.skip(f"{notebook}.ipynb 还不存在。")
    terms = tuple(term for term in GLOSSARY if term.notebook == notebook)
    missing = missing_first_uses(NOTEBOOK_DIR, terms).get(notebook, [])
    assert missing == [], f"{notebook}.ipynb 的 Markdown 里缺少这些术语的“中文（English）”写法：{'、'.join(missing)}"
