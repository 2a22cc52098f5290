"""pyproject.toml、environment.yml 与 binder/ 要求的包必须是同一组。"""

import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
# conda-forge 与 PyPI 名字不同的包：conda 名 -> pip 名。
CONDA_TO_PIP = {"pytorch": "torch"}
NOT_PACKAGES = {"python", "pip"}

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")


def _name(requirement: str) -> str:
    name = re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0]
    name = name.lower().replace("_", "-")
    return CONDA_TO_PIP.get(name, name)


def _pyproject_packages() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_name(requirement) for requirement in project["dependencies"]}


def _conda_packages(path: Path) -> set[str]:
    environment = yaml.safe_load(path.read_text(encoding="utf-8"))
    names = set()
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            names |= {_name(requirement) for requirement in entry["pip"]}
        else:
            names.add(_name(entry))
    return names - NOT_PACKAGES


def test_environment_yml_matches_pyproject():
    assert _conda_packages(ROOT / "environment.yml") == _pyproject_packages()


def test_binder_environment_matches_pyproject():
    assert _conda_packages(ROOT / "binder" / "environment.yml") == _pyproject_packages()


def test_environments_use_conda_forge_only():
    for path in (ROOT / "environment.yml", ROOT / "binder" / "environment.yml"):
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["channels"] == ["conda-forge"]


def test_binder_asks_for_cpu_torch():
    text = (ROOT / "binder" / "environment.yml").read_text(encoding="utf-8")
    assert re.search(r"^\s*- pytorch\[.*build='cpu_\*'\]", text, re.MULTILINE)


def test_binder_post_build_installs_project_and_chinese_interface():
    text = (ROOT / "binder" / "postBuild").read_text(encoding="utf-8")
    assert "pip install --no-deps -e ." in text
    assert "start.py configure" in text


def test_doctor_knows_every_core_package():
    from bigmodel_lab.doctor import REQUIRED_PACKAGES

    assert set(REQUIRED_PACKAGES) <= _pyproject_packages()


def test_ci_installs_pinned_torch_then_readme_command():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install torch==2.13.0" in script
    assert "python start.py test" in script
    assert "python start.py test" in readme
