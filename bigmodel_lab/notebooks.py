"""查找系列中的笔记本，并把命令行里写的名字解析为文件。"""

from __future__ import annotations

from pathlib import Path

PRESETS = ("cpu", "gpu")


def check_preset(preset: str) -> str:
    """检查预设名是否有效并返回它；无效时抛出带有可选值的中文错误。"""
    if preset not in PRESETS:
        raise ValueError(f"未知预设 {preset!r}；可选值为 {', '.join(PRESETS)}，例如 --preset cpu。")
    return preset


def default_notebook_dir() -> Path:
    """返回笔记本所在目录：优先当前目录下的 notebooks/，其次是源码仓库里的 notebooks/。"""
    here = Path.cwd() / "notebooks"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parent.parent / "notebooks"


def list_notebooks(directory: Path) -> list[Path]:
    """按文件名顺序列出目录中编号开头的笔记本（如 00_welcome.ipynb）。"""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(
            f"笔记本目录 {directory} 不存在；请在项目根目录运行，或用 --notebooks 指定目录。"
        )
    return sorted(p for p in directory.glob("[0-9][0-9]_*.ipynb") if p.is_file())


def resolve_notebooks(names: list[str], directory: Path) -> list[Path]:
    """把 "7"、"07"、"07_pretraining"、"07_pretraining.ipynb" 或文件路径解析为笔记本文件，保持系列顺序。"""
    available = list_notebooks(directory)
    if not names:
        return available
    chosen: list[Path] = []
    for name in names:
        path = Path(name)
        if path.suffix == ".ipynb" and path.is_file():
            chosen.append(path.resolve())
            continue
        stem = path.stem if path.suffix == ".ipynb" else name
        if stem.isdigit() and len(stem) == 1:
            stem = f"0{stem}"  # 7 与 07 指同一本
        matches = [p for p in available if p.stem == stem or p.stem.split("_", 1)[0] == stem]
        if len(matches) != 1:
            known = "、".join(p.stem for p in available) or "（目录中没有笔记本）"
            example = available[-1].stem.split("_", 1)[0] if available else "00"
            raise FileNotFoundError(f"找不到笔记本 {name!r}；可用的有：{known}。可以只写编号，例如 {example}。")
        chosen.append(matches[0].resolve())
    order = {p.resolve(): i for i, p in enumerate(available)}
    return sorted(dict.fromkeys(chosen), key=lambda p: order.get(p, len(order)))
