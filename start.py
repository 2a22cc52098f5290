"""一条命令安装依赖并打开课程，或安装依赖并运行全部测试。Windows、macOS、Linux 通用。

    python start.py          安装依赖，把 JupyterLab 界面设为中文，打开欢迎笔记本
    python start.py test     安装依赖与测试工具，运行 ruff 与全部测试（含每本笔记本）
    python start.py setup    只安装依赖并设置中文界面，不启动
    python start.py configure 只把 JupyterLab 界面设为中文（依赖已装好时，例如 Binder）

不带命令时，其余参数原样传给 jupyter lab，例如 python start.py --no-browser --port 8890。

环境变量：
    BIGMODEL_LAB_TORCH_INDEX  安装 PyTorch 时使用的轮子索引地址，例如 PyTorch 官方的 CPU 版索引
                              或国内镜像；不设置时使用 pip 的默认配置。
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# JupyterLab 的界面语言设置：写入环境的 overrides.json 后，新打开的 JupyterLab 默认显示中文。
LAB_OVERRIDES = {"@jupyterlab/translation-extension:plugin": {"locale": "zh_CN"}}


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", "install", *args]
    print("运行：", " ".join(command), flush=True)
    subprocess.run(command, check=True)


def _has_module(name: str) -> bool:
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({name!r}) is None)"
    return subprocess.run([sys.executable, "-c", probe]).returncode == 0


def install_torch() -> None:
    """没有 torch 时安装它；Linux 上没有 NVIDIA GPU 又没指定 CPU 版索引时停下来，避免误装数 GB 的 CUDA 版。"""
    if _has_module("torch"):
        return
    index = os.environ.get("BIGMODEL_LAB_TORCH_INDEX", "").strip()
    if index:
        _pip("torch", "--index-url", index)
        return
    if platform.system() == "Linux" and shutil.which("nvidia-smi") is None:
        sys.exit(
            "本机是没有 NVIDIA GPU 的 Linux，而 pip 默认会下载带 CUDA 的 PyTorch（数 GB）。\n"
            "请先把 BIGMODEL_LAB_TORCH_INDEX 设为 PyTorch 的 CPU 版轮子索引地址（见 README），再重新运行；\n"
            "或者先自己安装好 PyTorch（例如 pip install torch），安装程序会沿用已装的版本。"
        )
    _pip("torch")


def configure_lab() -> None:
    """把 JupyterLab 的默认界面语言设为简体中文（已有的其他设置保留）。"""
    settings = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    path = settings / "overrides.json"
    current = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    for plugin, values in LAB_OVERRIDES.items():
        current.setdefault(plugin, {}).update(values)
    path.write_text(json.dumps(current, ensure_ascii=False, indent=2), encoding="utf-8")


def install(extras: str = "") -> None:
    """安装 PyTorch 与本项目（可编辑模式），并设置中文界面。"""
    if sys.version_info < (3, 10):  # noqa: UP036 - start.py may be run by an older Python
        sys.exit(f"需要 Python 3.10 或更新版本，当前是 {platform.python_version()}。")
    install_torch()
    _pip("-e", f"{ROOT}[{extras}]" if extras else str(ROOT))
    configure_lab()


def run_tests(pytest_args: list[str]) -> int:
    """运行 ruff 检查与全部测试，返回退出码。"""
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "bigmodel_lab", "tests", "notebooks", "start.py"], cwd=ROOT)
    if lint.returncode != 0:
        return lint.returncode
    return subprocess.run([sys.executable, "-m", "pytest", *pytest_args], cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    # 第一个参数不是选项时它是命令；否则（包括没有参数）打开课程，其余参数交给 jupyter lab。
    if argv and not argv[0].startswith("-"):
        command, rest = argv[0], argv[1:]
    else:
        command, rest = "lab", argv
    if command == "test":
        install("test")
        return run_tests(rest)
    if command == "setup":
        install()
        print("安装完成。下一步：运行 python start.py 打开课程，或运行 python -m bigmodel_lab doctor 检查环境。")
        return 0
    if command == "configure":
        configure_lab()
        return 0
    if command == "lab":
        install()
        welcome = Path("notebooks") / "00_welcome.ipynb"
        extra = list(rest)
        if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
            # Jupyter 拒绝以 root 身份启动（Docker 与部分云主机默认就是 root），这里明确放行。
            print("提示：当前以 root 身份运行，已为 JupyterLab 加上 --allow-root。", flush=True)
            extra.append("--allow-root")
        return subprocess.run([sys.executable, "-m", "jupyterlab", str(welcome), *extra], cwd=ROOT).returncode
    print(f"未知命令 {command!r}；可用：test、setup、configure，或不带参数直接打开课程。", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
