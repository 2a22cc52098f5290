"""每本提交的笔记本：从新内核按顺序执行过一次，不含错误输出与本机路径，且有 parameters 单元。"""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MACHINE_PATH = re.compile(r"(/(root|work|tmp|home|Users)/|[A-Za-z]:\\\\(Users|Windows))")
WARNING = re.compile(r"\b\w*Warning: ")


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_series_is_present():
    assert NOTEBOOKS, "notebooks/ 中没有笔记本"
    assert NOTEBOOKS[0].name == "00_welcome.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_executed_once_in_order(path):
    cells = [cell for cell in _load(path)["cells"] if cell["cell_type"] == "code"]
    assert [cell["execution_count"] for cell in cells] == list(range(1, len(cells) + 1))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_error_output(path):
    errors = [
        output.get("ename")
        for cell in _load(path)["cells"]
        for output in cell.get("outputs", [])
        if output["output_type"] == "error"
    ]
    assert errors == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_machine_paths_or_warnings(path):
    for index, cell in enumerate(_load(path)["cells"]):
        for output in cell.get("outputs", []):
            text = json.dumps(output, ensure_ascii=False)
            assert not MACHINE_PATH.search(text), f"第 {index + 1} 个单元的输出含本机路径"
            assert not WARNING.search(text), f"第 {index + 1} 个单元的输出含警告"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_is_tagged_parameters(path):
    cells = [cell for cell in _load(path)["cells"] if cell["cell_type"] == "code"]
    assert "parameters" in cells[0].get("metadata", {}).get("tags", [])
    assert "preset" in "".join(cells[0]["source"])
