"""练习的自动检查：反馈是中文，答错或答案类型不对时给出提示，但从不抛出异常。

约定：练习单元里先写 ``answer = ...``（省略号表示“尚未作答”），参考答案写在
``# BEGIN SOLUTION`` 与 ``# END SOLUTION`` 两行之间。学生版（python -m bigmodel_lab student-edition）
删掉这两行之间的内容，检查函数于是报告“尚未作答”。
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

CORRECT = "正确"
INCORRECT = "不正确"
UNANSWERED = "尚未作答"
SOLUTION_BEGIN = "# BEGIN SOLUTION"
SOLUTION_END = "# END SOLUTION"


@dataclass(frozen=True)
class Feedback:
    """一次检查的结果：status 为“正确”“不正确”或“尚未作答”，message 是给学习者的说明。"""

    status: str
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == CORRECT

    def __str__(self) -> str:
        return f"{self.status}：{self.message}" if self.message else self.status

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


def _is_unanswered(answer) -> bool:
    return answer is Ellipsis or answer is None


def _first_string(value) -> str | None:
    """返回答案（可能是嵌套列表）里的第一个字符串，没有字符串时返回 None。"""
    if isinstance(value, (str, bytes)):
        return value if isinstance(value, str) else value.decode("utf-8", "replace")
    if isinstance(value, (list, tuple)):
        for item in value:
            found = _first_string(item)
            if found is not None:
                return found
    return None


def _as_array(value) -> tuple[np.ndarray | None, str]:
    """把答案转成浮点数组，返回 (数组, "")。转不了时返回 (None, 原因)。"""
    text = _first_string(value)
    if text is not None:
        return None, f"答案里有字符串 {text!r}；数值不要加引号。"
    if hasattr(value, "detach"):  # torch.Tensor
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except OverflowError:
        return None, "答案里的数太大，超出了浮点数的范围（约 1.8e308）；请检查运算顺序，例如 ** 比 * 先算。"
    except ValueError:  # 嵌套列表各行长度不同
        return None, "答案的各行长度不一致，组不成数组；请检查列表的嵌套与长度。"
    except TypeError:
        return None, f"答案应是数值，实际是 {type(value).__name__}。"
    return array, ""


def check_close(answer, expected, *, atol: float = 1e-6, rtol: float = 1e-6, hint: str = "") -> Feedback:
    """检查数值（标量、列表、数组或张量）答案是否与参考值在容差内相等。"""
    if _is_unanswered(answer):
        return Feedback(UNANSWERED, "把 ... 换成你的答案后重新运行本单元。")
    got, reason = _as_array(answer)
    want = np.asarray(expected, dtype=np.float64)
    if got is None:
        return Feedback(INCORRECT, f"{reason}{hint}")
    if got.shape != want.shape:
        return Feedback(INCORRECT, f"形状应为 {want.shape}，实际为 {got.shape}。{hint}".strip())
    if not np.all(np.isfinite(got)):
        return Feedback(INCORRECT, f"答案中有 NaN 或无穷大。{hint}".strip())
    if np.allclose(got, want, atol=atol, rtol=rtol):
        return Feedback(CORRECT)
    return Feedback(INCORRECT, f"与参考值的最大差为 {np.max(np.abs(got - want)):.3g}。{hint}".strip())


def check_choice(answer, expected, *, hint: str = "") -> Feedback:
    """检查选择题答案（字符串、数字或布尔值）；字符串比较时忽略首尾空白与大小写。"""
    if _is_unanswered(answer):
        return Feedback(UNANSWERED, "把 ... 换成你的选择后重新运行本单元。")
    if isinstance(expected, str):
        if isinstance(answer, str) and answer.strip().lower() == expected.strip().lower():
            return Feedback(CORRECT)
    elif isinstance(expected, bool) or isinstance(answer, bool):
        if answer is expected:
            return Feedback(CORRECT)
    elif answer == expected:
        return Feedback(CORRECT)
    return Feedback(INCORRECT, f"你的答案是 {answer!r}。{hint}".strip())


def check_function(
    function: Callable,
    cases: Sequence[tuple[tuple, object]],
    *,
    atol: float = 1e-6,
    rtol: float = 1e-6,
    hint: str = "",
) -> Feedback:
    """用若干组（参数, 期望输出）检查学习者写的函数；函数出错时报告错误而不是中断笔记本。"""
    if _is_unanswered(function):
        return Feedback(UNANSWERED, "先完成函数的定义，再重新运行本单元。")
    if not callable(function):
        return Feedback(INCORRECT, f"答案应是一个函数，实际是 {type(function).__name__}。")
    for number, (args, expected) in enumerate(cases, start=1):
        try:
            got = function(*args)
        except Exception as error:  # noqa: BLE001 - 学习者代码可能抛出任何异常
            return Feedback(INCORRECT, f"第 {number} 组输入运行出错：{type(error).__name__}: {error}。{hint}".strip())
        if _is_unanswered(got):
            return Feedback(UNANSWERED, "函数体还是空的（返回了 None 或 ...）；写完后重新运行本单元。")
        result = check_close(got, expected, atol=atol, rtol=rtol)
        if not result.passed:
            return Feedback(INCORRECT, f"第 {number} 组输入：{result.message}{hint}")
    return Feedback(CORRECT)


def check_true(answer, condition: Callable[[object], bool], *, hint: str = "") -> Feedback:
    """用任意判断函数检查答案；判断函数出错视为答错。"""
    if _is_unanswered(answer):
        return Feedback(UNANSWERED, "把 ... 换成你的答案后重新运行本单元。")
    try:
        ok = bool(condition(answer))
    except Exception as error:  # noqa: BLE001 - 答案类型不对时判断函数可能出任何错
        return Feedback(INCORRECT, f"无法检查这个答案（{type(error).__name__}）。{hint}".strip())
    if ok and not (isinstance(answer, float) and math.isnan(answer)):
        return Feedback(CORRECT)
    return Feedback(INCORRECT, hint)


def strip_solutions(source: str) -> str:
    """删去代码中 BEGIN/END SOLUTION 标记之间的行（连同标记），保留缩进以免破坏语法。

    删掉的若是函数体，就留一行同样缩进的 ``...``，函数仍可定义，调用时返回 None。
    """
    output: list[str] = []
    inside = False
    indent = ""
    kept_since_begin = 0
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == SOLUTION_BEGIN:
            if inside:
                raise ValueError("BEGIN SOLUTION 标记嵌套了；每个 BEGIN 之后要先有 END。")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            kept_since_begin = len(output)
            continue
        if stripped == SOLUTION_END:
            if not inside:
                raise ValueError("出现了没有对应 BEGIN SOLUTION 的 END SOLUTION 标记。")
            inside = False
            previous = output[kept_since_begin - 1].rstrip() if kept_since_begin else ""
            if previous.endswith(":") or indent:
                output.append(f"{indent}...  # 在这里作答")
            continue
        if not inside:
            output.append(line)
    if inside:
        raise ValueError("BEGIN SOLUTION 之后缺少 END SOLUTION 标记。")
    return "\n".join(output)
