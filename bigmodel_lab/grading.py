"""汇总学生交回的笔记本里每道练习的检查结果，生成一张成绩表。"""

from __future__ import annotations

import csv
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .exercises import CORRECT, INCORRECT, SOLUTION_BEGIN, UNANSWERED

_STATUS = re.compile(rf"^({CORRECT}|{INCORRECT}|{UNANSWERED})", re.MULTILINE)


@dataclass
class Grade:
    """一本笔记本的练习统计。"""

    student: str
    notebook: str
    correct: int
    incorrect: int
    unanswered: int
    note: str = ""


def exercise_statuses(notebook) -> list[str]:
    """按顺序返回一本已执行笔记本中每个练习检查打印的状态（正确 / 不正确 / 尚未作答）。"""
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") or "".join(output.get("data", {}).get("text/plain", ""))
            found += _STATUS.findall(text)
    return found


_CHECK_CALL = re.compile(r"print\(\s*check_\w+\(")


def count_checks(notebook) -> int:
    """返回笔记本代码中打印检查结果的 print(check_...(...)) 调用的个数。"""
    return sum(len(_CHECK_CALL.findall(cell.source)) for cell in notebook.cells if cell.cell_type == "code")


def first_error(notebook) -> str:
    """返回笔记本里第一个报错单元的错误，写成“类型: 说明”。没有报错时返回空字符串。"""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"{output.get('ename', '')}: {output.get('evalue', '')}"
    return ""


# 浏览器下载同名文件时会加上 " (1)"，在资源管理器里复制时会加上 " - 副本" 或 " - Copy"。
_COPY_SUFFIX = re.compile(r"(\s*\(\d+\)|\s*-\s*(副本|Copy)(\s*\(\d+\))?)+$")


def notebook_name(path: Path) -> str:
    """返回成绩表里用的笔记本名：去掉下载或复制时自动加上的后缀，例如 "05_x (1)" 记为 "05_x"。"""
    return _COPY_SUFFIX.sub("", Path(path).stem)


def _execute_copy(path: Path, notebook_dir: Path, work: Path) -> Path:
    """把学生的笔记本放进一份课程目录副本里重新执行，返回执行后的文件。

    某个单元出错时，papermill 仍会写出执行到出错为止的笔记本。这时照常返回它，由调用方统计已有的检查结果。
    连这个文件都没有写出时抛出 RuntimeError。
    """
    from .runner import run_notebook

    shutil.copytree(notebook_dir, work, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.ipynb"))
    source = work / path.name
    shutil.copy2(path, source)
    import nbformat

    code = [cell.source for cell in nbformat.read(source, as_version=4).cells if cell.cell_type == "code"]
    parameters = {"max_steps": 3} if code and "max_steps" in code[0] else {}
    executed = work / f"executed_{path.name}"
    result = run_notebook(source, executed, parameters=parameters)
    if result.status != "通过" and not executed.is_file():
        raise RuntimeError(result.error)
    return executed


def grade_submissions(submissions: Path, execute: bool = False, notebook_dir: Path | None = None) -> list[Grade]:
    """统计 submissions 目录下每位学生（每个子目录一位）交回的笔记本。

    默认读取学生保存时的输出；execute=True 时先在课程目录的副本里重新执行（训练步数限制为 3 步），
    以免输出与代码不符。
    """
    import nbformat
    from nbformat.reader import NotJSONError

    submissions = Path(submissions)
    if not submissions.is_dir():
        raise FileNotFoundError(f"作业目录 {submissions} 不存在；请传入每位学生一个子目录的文件夹。")
    grades = []
    for path in sorted(submissions.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        student = path.parent.name if path.parent != submissions else "（未分目录）"
        name = notebook_name(path)
        note = ""
        try:
            if execute:
                from .notebooks import default_notebook_dir

                with tempfile.TemporaryDirectory() as work:
                    executed = _execute_copy(path, notebook_dir or default_notebook_dir(), Path(work) / "nb")
                    notebook = nbformat.read(executed, as_version=4)
            else:
                notebook = nbformat.read(path, as_version=4)
        except NotJSONError:
            note = "无法读取：文件不是有效的笔记本（JSON 格式损坏），请让学生在 Jupyter 里重新保存后再交"
            grades.append(Grade(student, name, 0, 0, 0, note))
            continue
        except (RuntimeError, ValueError, OSError) as error:
            grades.append(Grade(student, name, 0, 0, 0, f"无法读取或执行：{error}"))
            continue
        statuses = exercise_statuses(notebook)
        error = first_error(notebook)
        missing = max(count_checks(notebook) - len(statuses), 0)
        if error:
            note = f"有单元报错（{error}）；{missing} 个检查没有结果" if missing else f"有单元报错（{error}）"
        elif not statuses:
            note = "没有练习检查的输出：学生可能没有运行检查单元"
        elif any(SOLUTION_BEGIN in cell.source for cell in notebook.cells if cell.cell_type == "code"):
            note = "含参考答案标记：交回的可能是教师版"
        grades.append(
            Grade(student, name, statuses.count(CORRECT), statuses.count(INCORRECT), statuses.count(UNANSWERED), note)
        )
    return grades


def write_grades(grades: list[Grade], path: Path) -> None:
    """把成绩写成 UTF-8（带 BOM，Excel 可直接打开）的 CSV 文件。"""
    with Path(path).open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["学生", "笔记本", "正确", "不正确", "尚未作答", "备注"])
        for grade in grades:
            writer.writerow([grade.student, grade.notebook, grade.correct, grade.incorrect, grade.unanswered, grade.note])
