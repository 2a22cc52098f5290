"""模拟 Binder：在新的虚拟环境里按 binder/environment.yml 装包、运行 binder/postBuild，再执行前两本笔记本。

Binder 用 conda 装包；这里用 pip 装同名的包（conda 的 pytorch 即 pip 的 torch），装的是 CI 固定的
CPU 版 torch。conda 特有的部分（只用 conda-forge、pytorch 取 cpu_* 构建）与三份包清单是否一致，
由 tests/test_packaging.py 静态检查，这里不重复。

建虚拟环境要下载并安装数百 MB 的包、耗时数分钟，所以只在 CI（环境变量 CI=true）或设置了
BIGMODEL_LAB_BINDER_TEST=1 时运行；其余检查很快，总是运行。
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from test_packaging import NOT_PACKAGES, _conda_packages, _name

ROOT = Path(__file__).resolve().parent.parent
BINDER_ENVIRONMENT = ROOT / "binder" / "environment.yml"
POST_BUILD = ROOT / "binder" / "postBuild"
BINDER_NOTEBOOKS = ("00_welcome.ipynb", "01_activations.ipynb")
ENABLING_VALUES = ("1", "true", "yes")
# 单个步骤的上限（秒）：装 torch 与 JupyterLab 等包在 2 核机器上约需 1–2 分钟，网络慢时更久。
STEP_TIMEOUT_S = 900


def _load_start():
    spec = importlib.util.spec_from_file_location("bigmodel_lab_start", ROOT / "start.py")
    start = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(start)
    return start


def binder_pip_requirements(path: Path = BINDER_ENVIRONMENT) -> list[str]:
    """把 conda 环境文件换成 pip 的需求字符串；pytorch 除外，它由 CI 固定的 torch 版本代替。

    conda 的 `名字>=版本` 与 pip 写法相同；conda 的 `名字=版本`（前缀匹配）换成 pip 的 `名字==版本.*`。
    """
    environment = yaml.safe_load(path.read_text(encoding="utf-8"))
    requirements = []
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            requirements += list(entry["pip"])
            continue
        name = _name(entry)
        if name in NOT_PACKAGES or name == "torch":
            continue
        specifier = entry.strip()[re.match(r"[\w.-]+", entry.strip()).end() :]
        if re.fullmatch(r"=[\w.]+", specifier):
            specifier = f"={specifier}.*"
        requirements.append(f"{name}{specifier}")
    return requirements


def ci_torch_requirement() -> str:
    """返回 .ci/run 安装的 torch 需求，例如 torch==2.13.0。"""
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    match = re.search(r"pip install (torch==\S+)", script)
    assert match, ".ci/run 中没有找到 `pip install torch==版本`"
    return match.group(1)


def test_pip_requirements_cover_binder_environment():
    names = {_name(requirement) for requirement in binder_pip_requirements()}
    assert names | {_name(ci_torch_requirement())} == _conda_packages(BINDER_ENVIRONMENT)


def test_conda_prefix_pin_becomes_pip_wildcard(tmp_path):
    environment = tmp_path / "environment.yml"
    environment.write_text("dependencies:\n  - python=3.11\n  - numpy=1.26\n  - pip\n", encoding="utf-8")
    assert binder_pip_requirements(environment) == ["numpy==1.26.*"]


def test_torch_dropped_and_names_normalized(tmp_path):
    environment = tmp_path / "environment.yml"
    environment.write_text("dependencies:\n  - pytorch>=2.4\n  - Scikit_Learn>=1.4\n", encoding="utf-8")
    assert binder_pip_requirements(environment) == ["scikit-learn>=1.4"]


def test_post_build_is_valid_bash():
    lines = POST_BUILD.read_text(encoding="utf-8").splitlines()
    assert lines[0] in ("#!/bin/bash", "#!/usr/bin/env bash"), f"postBuild 第一行应为 bash 的 shebang，实际为 {lines[0]!r}"
    assert "set -euo pipefail" in lines, "postBuild 应有 set -euo pipefail，出错时构建立即失败"
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("本机没有 bash，无法检查 postBuild 的语法。")
    check = subprocess.run([bash, "-n", str(POST_BUILD)], capture_output=True, text=True)
    assert check.returncode == 0, f"postBuild 有语法错误：{check.stderr}"


def test_configure_writes_chinese_locale(monkeypatch, tmp_path):
    start = _load_start()
    settings = tmp_path / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True)
    existing = {"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}
    (settings / "overrides.json").write_text(json.dumps(existing), encoding="utf-8")
    monkeypatch.setattr(sys, "prefix", str(tmp_path))

    start.configure_lab()

    overrides = json.loads((settings / "overrides.json").read_text(encoding="utf-8"))
    assert overrides["@jupyterlab/translation-extension:plugin"]["locale"] == "zh_CN"
    assert overrides["@jupyterlab/apputils-extension:themes"] == existing["@jupyterlab/apputils-extension:themes"]


def test_configured_locale_is_an_installed_language_pack():
    translation_utils = pytest.importorskip("jupyterlab_server.translation_utils")
    locale = _load_start().LAB_OVERRIDES["@jupyterlab/translation-extension:plugin"]["locale"]
    packs, message = translation_utils.get_language_packs()
    assert locale in packs, f"JupyterLab 找不到语言包 {locale}（已安装：{sorted(packs)}）{message}"


def _binder_test_enabled() -> bool:
    flags = (os.environ.get("CI", ""), os.environ.get("BIGMODEL_LAB_BINDER_TEST", ""))
    return any(flag.strip().lower() in ENABLING_VALUES for flag in flags)


def _run(command: list[str], environment: dict, durations: dict, step: str, cwd: Path = ROOT) -> str:
    """运行一步并记录耗时；失败时让测试失败，并附上输出的末尾。"""
    started = time.perf_counter()
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=environment, capture_output=True,
        text=True, encoding="utf-8", errors="replace", timeout=STEP_TIMEOUT_S,
    )  # fmt: skip
    durations[step] = time.perf_counter() - started
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-4000:]
        pytest.fail(f"{step}失败（退出码 {result.returncode}）：{' '.join(map(str, command))}\n{output}")
    return result.stdout


def _venv_environment(venv: Path, state_dir: Path) -> dict:
    """返回在虚拟环境里运行命令用的环境变量：虚拟环境的 bin 在 PATH 最前，用户的 Jupyter 目录不参与。"""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")
    }
    scripts = venv / ("Scripts" if os.name == "nt" else "bin")
    environment["PATH"] = f"{scripts}{os.pathsep}{environment.get('PATH', '')}"
    environment["VIRTUAL_ENV"] = str(venv)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        environment[name] = str(state_dir / name.lower())
    return environment


def test_binder_environment_runs_first_notebooks(tmp_path):
    if not _binder_test_enabled():
        pytest.skip(
            "模拟 Binder 需要新建虚拟环境、下载安装数百 MB 的包，耗时数分钟；"
            "在 CI（CI=true）中自动运行，本机可设置 BIGMODEL_LAB_BINDER_TEST=1 后运行。"
        )
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("本机没有 bash，无法运行 binder/postBuild。")

    # NOTE: 虚拟环境用运行测试的 Python 创建；Binder 固定 python=3.11，两者版本不同时结果可能不同。
    venv = tmp_path / "venv"
    environment = _venv_environment(venv, tmp_path / "state")
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    durations: dict[str, float] = {}

    try:
        _run([sys.executable, "-m", "venv", venv], environment, durations, "创建虚拟环境")
        # 与 start.py 一样：设置了 BIGMODEL_LAB_TORCH_INDEX 时从这个索引装 torch（例如 CPU 版索引）。
        torch_index = os.environ.get("BIGMODEL_LAB_TORCH_INDEX", "").strip()
        index_options = ["--index-url", torch_index] if torch_index else []
        _run([python, "-m", "pip", "install", ci_torch_requirement(), *index_options], environment, durations, "安装 torch")
        _run([python, "-m", "pip", "install", *binder_pip_requirements()], environment, durations, "安装 Binder 的包")
        # 与 Binder 一样在仓库根目录运行 postBuild：装本项目（--no-deps -e .）并把界面设为中文。
        _run([bash, POST_BUILD], environment, durations, "运行 postBuild")
        _run([python, "-m", "ipykernel", "install", "--sys-prefix"], environment, durations, "登记内核")

        app_dir = _run(
            [python, "-c", "from jupyterlab.commands import get_app_dir; print(get_app_dir())"],
            environment, durations, "查询 JupyterLab 应用目录",
        ).strip()  # fmt: skip
        overrides_path = Path(app_dir) / "settings" / "overrides.json"
        assert overrides_path.is_file(), f"postBuild 之后没有 {overrides_path}；postBuild 应运行 python start.py configure"
        overrides = json.loads(overrides_path.read_text(encoding="utf-8"))
        assert overrides["@jupyterlab/translation-extension:plugin"]["locale"] == "zh_CN"

        listing = _run([python, "-m", "jupyter", "kernelspec", "list", "--json"], environment, durations, "列出内核")
        kernel = json.loads(listing)["kernelspecs"]["python3"]
        assert Path(kernel["resource_dir"]).is_relative_to(venv), f"python3 内核不在虚拟环境里：{kernel}"
        assert Path(kernel["spec"]["argv"][0]).parent == python.parent, f"python3 内核不用虚拟环境的 Python：{kernel}"

        output_dir = tmp_path / "executed"
        output_dir.mkdir()
        for notebook in BINDER_NOTEBOOKS:
            command = [
                python, "-m", "papermill", ROOT / "notebooks" / notebook, output_dir / notebook,
                "-k", "python3", "--cwd", ROOT / "notebooks", "--no-progress-bar",
                "--execution-timeout", "300",
            ]  # fmt: skip
            try:
                _run(command, environment, durations, f"执行 {notebook}")
            except pytest.fail.Exception:
                # NOTE: nbclient 偶尔收不到含 ipywidgets 单元的执行回复（nbclient issue 312），超时后重跑一次。
                _run(command, environment, durations, f"重跑 {notebook}")
    finally:
        # 虚拟环境约 1.7 GB；pytest 会保留最近几次的临时目录，所以测试结束就删掉它。
        shutil.rmtree(venv, ignore_errors=True)
    print("模拟 Binder 各步耗时（秒）：", {step: round(seconds, 1) for step, seconds in durations.items()})
