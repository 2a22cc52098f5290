"""生成学生版：去掉参考答案与全部输出，其余内容与教师版相同。"""

from __future__ import annotations

import shutil
from pathlib import Path

from .exercises import strip_solutions
from .notebooks import resolve_notebooks

SOLUTION_TAG = "solution"


def _strip_test_markers(source: str) -> str:
    """删去只给 nbval 看的 # NBVAL_ 标记行，学生用不到它们。"""
    return "\n".join(line for line in source.split("\n") if not line.lstrip().startswith("# NBVAL_"))


def make_student_notebook(notebook):
    """就地把一本 nbformat 笔记本改为学生版并返回它。

    代码单元删去 BEGIN/END SOLUTION 之间的行；带 solution 标签的单元（如展开式参考解答）整个删去；
    所有输出与执行序号清空，nbval 的标记行删去；笔记本元数据里保存的控件状态（含教师版运行时的图与文字）
    和 papermill 的运行记录也删去。
    """
    for key in ("widgets", "papermill"):
        notebook.metadata.pop(key, None)
    cells = []
    for cell in notebook.cells:
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "code":
            cell.source = _strip_test_markers(strip_solutions(cell.source))
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.get("jupyter", {}).pop("source_hidden", None)
        cells.append(cell)
    notebook.cells = cells
    return notebook


def write_student_edition(
    source_dir: Path, output_dir: Path, overwrite: bool = False, names: list[str] | None = None
) -> list[Path]:
    """把 source_dir 中的笔记本系列复制到 output_dir 并转换为学生版，返回写出的笔记本路径。

    names 给出时只转换这几本（写法同 run 命令，例如 ["04", "05"]），否则转换全部。
    笔记本目录中的其他文件（例如笔记本读取的参考检查点）原样复制，学生版因此可以独立运行。
    output_dir 里已有同名笔记本时抛出 FileExistsError，以免覆盖学生的作答；overwrite=True 时照常覆盖。
    """
    import nbformat

    source_dir, output_dir = Path(source_dir), Path(output_dir)
    notebooks = resolve_notebooks(names or [], source_dir)
    if not notebooks:
        raise FileNotFoundError(f"{source_dir} 中没有编号开头的笔记本；请检查 --notebooks-dir 参数。")
    if output_dir.resolve() == source_dir.resolve():
        raise ValueError("学生版的输出目录不能是笔记本目录本身，否则参考答案会被覆盖；请换一个目录。")
    existing = sorted(path.name for path in notebooks if (output_dir / path.name).exists())
    if existing and not overwrite:
        raise FileExistsError(
            f"{output_dir} 里已有 {len(existing)} 本同名笔记本（如 {existing[0]}），重新生成会覆盖学生写的答案。"
            "请换一个空目录；确定要覆盖时加上 --force。"
        )

    shutil.copytree(
        source_dir,
        output_dir,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__"),
    )
    written = []
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        make_student_notebook(notebook)
        target = output_dir / path.name
        nbformat.write(notebook, target)
        written.append(target)
    return written
