"""让 matplotlib 正确显示中文标题、坐标轴标签与负号。"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

# 常见系统自带的中文字体：Linux 上的 Noto / 思源 / 文泉驿，Windows 上的微软雅黑与黑体，macOS 上的苹方与冬青黑体。
SYSTEM_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "STHeiti",
)

# mplfonts 随包附带的 Noto Sans CJK SC（SIL 开源字体许可），在没有系统中文字体的机器上使用。
_PACKAGED_FONT = ("mplfonts", "fonts/NotoSansCJKsc-Regular.otf")


def _packaged_font_path() -> Path | None:
    package, relative = _PACKAGED_FONT
    try:
        path = Path(str(resources.files(package).joinpath(relative)))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


def find_chinese_font() -> tuple[str, str]:
    """查找可用的中文字体，返回（字体族名，来源说明）；找不到时抛出 RuntimeError。"""
    from matplotlib import font_manager

    # 直接读取字体列表而不是依赖缓存文件：缓存过期时，新装的字体也能被找到。
    packaged = _packaged_font_path()
    installed = {entry.name: Path(entry.fname) for entry in font_manager.fontManager.ttflist}
    for name in SYSTEM_CJK_FONTS:
        if name in installed:
            source = "mplfonts 附带字体" if installed[name] == packaged else "系统字体"
            return name, source

    for path in font_manager.findSystemFonts():
        try:
            name = font_manager.FontProperties(fname=path).get_name()
        except (RuntimeError, OSError, ValueError):
            continue
        if name in SYSTEM_CJK_FONTS:
            font_manager.fontManager.addfont(path)
            return name, "系统字体（matplotlib 字体缓存中尚无，已登记）"

    if packaged is not None:
        font_manager.fontManager.addfont(str(packaged))
        return font_manager.FontProperties(fname=str(packaged)).get_name(), "mplfonts 附带字体"

    raise RuntimeError(
        "没有找到中文字体，图中的中文会显示成方框。请安装 mplfonts（pip install mplfonts），"
        "或安装系统字体，例如 Debian/Ubuntu 上的 fonts-noto-cjk。"
    )


def use_chinese_font(verbose: bool = False) -> str:
    """设置 matplotlib 使用中文字体并正确显示负号，返回所用字体的名称。

    这是显式调用：只修改 matplotlib 的 rcParams 中与字体有关的三项，不改动其他全局设置。
    """
    import matplotlib

    name, source = find_chinese_font()
    matplotlib.rcParams["font.family"] = "sans-serif"
    # 中文字体在前；字体中缺少的字形（例如部分数学符号）由 DejaVu Sans 补上。
    matplotlib.rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
    # 用 ASCII 连字符画负号：并非所有中文字体都含 U+2212 负号字形。
    matplotlib.rcParams["axes.unicode_minus"] = False
    if verbose:
        print(f"中文字体：{name}（{source}）")
    return name
