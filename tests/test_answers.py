"""练习参考值表 bigmodel_lab.answers，以及“检查单元里不写字面量答案”的扫描。"""

import ast
import json
from pathlib import Path

import pytest

from bigmodel_lab.answers import EXPECTED, expected
from bigmodel_lab.glossary import SERIES

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
CHECKERS = {"check_close", "check_choice", "check_true"}
# 检查调用里常见的数组构造：参数全是字面量时，整个调用也算字面量答案。
LITERAL_WRAPPERS = {"np.array", "np.asarray", "numpy.array", "torch.tensor", "list", "tuple", "float", "int"}


def _code_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]


def _parse(source: str) -> list[ast.Module]:
    """解析一个代码单元：先去掉 IPython 魔法命令行（%time、!pip）再整体解析，仍解析不了就逐行解析并跳过解析不了的行。"""
    lines = source.splitlines()
    without_magics = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)
    try:
        return [ast.parse(without_magics)]
    except SyntaxError:
        pass

    trees = []
    for line in lines:
        try:
            trees.append(ast.parse(line.strip()))
        except SyntaxError:
            continue
    return trees


def _is_literal(node: ast.AST) -> bool:
    """判断表达式是否只由常量组成：0.08、"B"、True、[512, 1]、-1e-3、35 / 45、np.array([1.0, 2.0])。"""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp):
        return _is_literal(node.operand)
    if isinstance(node, ast.BinOp):
        return _is_literal(node.left) and _is_literal(node.right)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(_is_literal(element) for element in node.elts)
    if isinstance(node, ast.Call) and ast.unparse(node.func) in LITERAL_WRAPPERS:
        return bool(node.args) and all(_is_literal(argument) for argument in node.args)
    return False


def _expected_argument(call: ast.Call) -> ast.AST | None:
    if len(call.args) >= 2:
        return call.args[1]
    for keyword in call.keywords:
        if keyword.arg in ("expected", "condition"):
            return keyword.value
    return None


def _answer_checks(tree: ast.Module) -> list[tuple[ast.Call, ast.AST | None]]:
    """找出第一个参数含 answer_ 变量的检查调用，返回（调用, 参考值表达式）。

    参考值若是本单元里赋过值的变量（如 expected_1 = [0.8, 0.2]），换成赋给它的表达式。
    """
    assigned = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            assigned[node.targets[0].id] = node.value

    checks = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in CHECKERS:
            continue
        names = [n.id for n in ast.walk(node.args[0]) if isinstance(n, ast.Name)]
        if not any(n.startswith("answer_") for n in names):
            continue
        argument = _expected_argument(node)
        if isinstance(argument, ast.Name) and argument.id in assigned:
            argument = assigned[argument.id]
        checks.append((node, argument))
    return checks


def _literal_checks(source: str) -> list[str]:
    """返回源码中参考值是字面量的检查调用（原文）。"""
    found = []
    for tree in _parse(source):
        for call, argument in _answer_checks(tree):
            if argument is not None and _is_literal(argument):
                found.append(ast.unparse(call))
    return found


def _count_checks(source: str) -> int:
    return sum(len(_answer_checks(tree)) for tree in _parse(source))


def _expected_calls(path: Path) -> set[tuple[object, object]]:
    """收集笔记本里 expected("名字", 编号) 调用的参数。"""
    calls = set()
    for source in _code_cells(path):
        for tree in _parse(source):
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "expected" and len(node.args) == 2:
                    if all(isinstance(argument, ast.Constant) for argument in node.args):
                        calls.add((node.args[0].value, node.args[1].value))
    return calls


def test_expected_returns_registered_value():
    assert expected("01_activations", 3) == "identity"
    assert expected("05_multihead_attention", 1) == (64, 1050624)


def test_unknown_notebook_raises_chinese_error():
    with pytest.raises(LookupError, match=r"没有笔记本 '01_activation' 的参考值") as error:
        expected("01_activation", 1)
    assert "01_activations" in str(error.value)
    assert "去掉 .ipynb" in str(error.value)


def test_unknown_exercise_number_raises_chinese_error():
    with pytest.raises(LookupError, match=r"笔记本 01_activations 没有练习 2 的参考值") as error:
        expected("01_activations", 2)
    assert "已登记的练习编号有：1、3" in str(error.value)


def test_notebook_name_must_be_string():
    with pytest.raises(TypeError, match=r"notebook 应为笔记本名字符串.*实际为 int 类型的 1"):
        expected(1, 1)


@pytest.mark.parametrize("number", ["1", 1.0, True], ids=["string", "float", "bool"])
def test_exercise_number_must_be_integer(number):
    with pytest.raises(TypeError, match=r"number 应为整数练习编号"):
        expected("01_activations", number)


def test_table_keys_name_series_notebooks():
    for notebook, exercises in EXPECTED.items():
        assert notebook in SERIES, f"{notebook} 不在 glossary.SERIES 中"
        for number in exercises:
            assert isinstance(number, int) and number >= 1, f"{notebook} 的练习编号 {number!r} 应为正整数"


def test_table_entries_used_by_their_notebook():
    for notebook, exercises in EXPECTED.items():
        calls = _expected_calls(NOTEBOOK_DIR / f"{notebook}.ipynb")
        for number in exercises:
            assert (notebook, number) in calls, f"{notebook} 的检查单元没有调用 expected({notebook!r}, {number})"


def test_notebook_expected_calls_are_registered():
    for path in NOTEBOOKS:
        for notebook, number in _expected_calls(path):
            assert notebook == path.stem, f"{path.name} 取了别的笔记本的参考值：expected({notebook!r}, {number})"
            assert number in EXPECTED.get(notebook, {}), f"{path.name} 调用的 expected({notebook!r}, {number}) 不在表中"


def _rebinds_expected(source: str) -> bool:
    """判断源码是否给名字 expected 重新赋值（赋值、for、with、import ... as expected）。"""
    for tree in _parse(source):
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "expected" and isinstance(node.ctx, ast.Store):
                return True
            if isinstance(node, ast.alias) and node.asname == "expected":
                return True
    return False


def test_notebooks_keep_expected_function():
    # 笔记本若把 expected 用作变量名（如 expected = torch 的输出），后面的检查单元会调用到那个变量。
    for path in NOTEBOOKS:
        sources = _code_cells(path)
        if not any("bigmodel_lab.answers import expected" in source for source in sources):
            continue
        rebinding = [
            line.strip()
            for source in sources
            if _rebinds_expected(source)
            for line in source.splitlines()
            if "expected" in line
        ]
        assert rebinding == [], f"{path.name} 给 expected 重新赋了值，检查单元会取到错误的对象：{rebinding}"


def test_rebinding_detector_flags_assignment():
    assert _rebinds_expected("expected, weights = mha(x, x, x)")
    assert not _rebinds_expected('print(check_close(answer_1, expected("01_activations", 1)))')


LITERAL_SOURCES = {
    "float": "print(check_close(answer_1, 0.25, atol=1e-4))",
    "negative": "print(check_close(answer_1, -2.5))",
    "string": 'print(check_choice(answer_3, "identity", hint="值域"))',
    "list": "print(check_close(answer_3, [512, 1]))",
    "tuple": "print(check_close(answer_3, (64, 4)))",
    "bool": "print(check_choice(answer_4, True))",
    "arithmetic": "print(check_close(answer_1, 35 / 45))",
    "array": "print(check_close(answer_1, np.array([1.0, 2.0])))",
    "keyword": "print(check_close(answer_1, expected=0.25))",
    "variable": "target = [0.8, 0.2]\nprint(check_close(answer_1, target))",
    "multiline": "print(\n    check_close(\n        answer_1,\n        0.25,\n    )\n)",
    "magic": "%time x = 1\nprint(check_close(answer_1, 0.25))",
}


@pytest.mark.parametrize("source", LITERAL_SOURCES.values(), ids=LITERAL_SOURCES.keys())
def test_scan_flags_literal_expected(source):
    assert len(_literal_checks(source)) == 1


COMPUTED_SOURCES = {
    "table": 'print(check_close(answer_1, expected("01_activations", 1), atol=1e-4))',
    "data": "print(check_close(answer_1, np.count_nonzero(y == 1) / len(y)))",
    "library": "print(check_close(answer_1, attention_weights(q, k)[0]))",
    "condition": "print(check_true(answer_2, lambda value: value > 0))",
    "not_answer": "print(check_close(result, 0.25))",
    "function_cases": "print(check_function(my_softplus, [((0.0,), 0.25)]))",
}


@pytest.mark.parametrize("source", COMPUTED_SOURCES.values(), ids=COMPUTED_SOURCES.keys())
def test_scan_accepts_computed_expected(source):
    assert _literal_checks(source) == []


def test_scanned_checkers_exist_in_exercises():
    from bigmodel_lab import exercises

    for name in CHECKERS:
        assert callable(getattr(exercises, name, None)), f"exercises 中没有 {name}"


def _table_lookup(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Call) and getattr(node.func, "id", "") == "expected"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_check_cells_hide_expected_values(path):
    sources = _code_cells(path)
    assert sum(_count_checks(source) for source in sources) > 0, f"{path.name} 里没有找到 answer_ 的检查调用"

    literal = [call for source in sources for call in _literal_checks(source)]
    assert literal == [], f"{path.name} 的检查单元直接写出了参考值，请改用 expected()：{literal}"

    # 现算的参考值（np.mean(...)、库函数）同样把解法摆在学生版的检查单元里，所以一律从表中取
    computed = [
        ast.unparse(call)
        for source in sources
        for tree in _parse(source)
        for call, argument in _answer_checks(tree)
        if not _table_lookup(argument)
    ]
    assert computed == [], f"{path.name} 的检查单元没有用 expected() 取参考值：{computed}"
