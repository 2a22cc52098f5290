"""用 papermill 无界面地依次运行笔记本，并统计每本的耗时、内存峰值与状态。"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .notebooks import check_preset


@dataclass
class RunResult:
    """一本笔记本的运行结果。"""

    notebook: str
    seconds: float
    peak_mb: float
    status: str
    error: str = ""


class _PeakMemory:
    """在后台线程里每 0.1 秒统计子进程（内核）的常驻内存，记录峰值（MiB）。"""

    def __init__(self):
        import psutil

        self._process = psutil.Process()
        self._psutil = psutil
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self):
        while not self._stop.is_set():
            total = 0
            for child in self._process.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except (self._psutil.NoSuchProcess, self._psutil.AccessDenied):
                    continue
            self.peak = max(self.peak, total / 2**20)
            self._stop.wait(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def clean_metadata(path: Path) -> None:
    """删去 papermill 写入的本机路径与逐单元时间戳，使提交的笔记本不含运行机器的信息。"""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    papermill = notebook.metadata.get("papermill", {})
    for key in ("input_path", "output_path", "start_time", "end_time", "duration", "exception"):
        papermill.pop(key, None)
    if not papermill:
        notebook.metadata.pop("papermill", None)
    for cell in notebook.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, path)


def run_notebook(
    source: Path,
    output: Path,
    preset: str = "cpu",
    kernel: str | None = None,
    parameters: dict | None = None,
    execution_timeout: int | None = None,
    cell_progress: bool = False,
) -> RunResult:
    """在笔记本所在目录执行它，把执行结果写到 output，返回 RunResult。

    parameters 是额外传给 papermill 的参数（例如 {"max_steps": 3}）；preset 为默认的 cpu 时不注入，
    这样提交的笔记本里不会多出一个 injected-parameters 单元。execution_timeout 是单个单元的时限（秒），
    超时抛出 TimeoutError。cell_progress=True 时再显示一条按单元计的进度条，长时间训练时也看得出在运行。
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    check_preset(preset)
    parameters = dict(parameters or {})
    if preset != "cpu":
        parameters["preset"] = preset
    started = time.perf_counter()
    status, error = "通过", ""
    with _PeakMemory() as memory:
        try:
            papermill.execute_notebook(
                str(source),
                str(output),
                parameters=parameters,
                cwd=str(source.parent),
                kernel_name=kernel,
                progress_bar={"desc": f"  {source.stem}", "unit": "个单元", "leave": False} if cell_progress else False,
                log_output=False,
                execution_timeout=execution_timeout,
                # 内核自己的日志是英文的（例如本机回环连接“TCP 未加密”的警告、Ctrl-C 时的内部报错），
                # 对学习者没有用处。单元里的报错写在笔记本的输出里，不受影响。
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            )
        except PapermillExecutionError as failure:
            status = "失败"
            error = (
                f"{source.name} 的第 {failure.cell_index + 1} 个单元（执行序号 {failure.exec_count}）出错："
                f"{failure.ename}: {failure.evalue}"
            )
    if output.exists():
        clean_metadata(output)
    return RunResult(source.stem, time.perf_counter() - started, memory.peak, status, error)


def format_table(results: list[RunResult]) -> str:
    """把运行结果排成一张对齐的文本表。"""
    rows = [("笔记本", "秒", "内存峰值 MiB", "状态")]
    rows += [(r.notebook, f"{r.seconds:.1f}", f"{r.peak_mb:.0f}", r.status) for r in results]
    widths = [max(_display_width(row[i]) for row in rows) for i in range(4)]
    lines = []
    for row in rows:
        cells = [text + " " * (width - _display_width(text)) for text, width in zip(row, widths)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _display_width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def run_series(notebooks: list[Path], output_dir: Path, preset: str = "cpu") -> list[RunResult]:
    """依次运行笔记本，遇到第一个失败就停止；返回已运行的结果。"""
    from tqdm.auto import tqdm

    check_preset(preset)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    results = []
    with tqdm(notebooks, desc="运行笔记本", unit="本") as bar:
        for source in bar:
            bar.set_postfix_str(source.stem)
            result = run_notebook(source, output_dir / source.name, preset, cell_progress=True)
            results.append(result)
            if result.status != "通过":
                break
    return results
