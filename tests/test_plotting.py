import os
import subprocess
import sys
import textwrap

import matplotlib.pyplot as plt

from bigmodel_lab.plotting import find_chinese_font, use_chinese_font

LABELS = "损失曲线（交叉熵）步数验证集"


def test_chinese_figure_renders_without_warnings(tmp_path):
    name = use_chinese_font()
    figure, axes = plt.subplots()
    axes.plot([-3, -1, 0, 2], [-2.5, 1, 0, 3], label="训练集")
    axes.set_title(LABELS)
    axes.set_xlabel("步数（step）")
    axes.set_ylabel("损失 − 负值")
    axes.legend()
    figure.savefig(tmp_path / "figure.png")  # pytest turns any missing-glyph warning into an error
    plt.close(figure)
    assert name


def test_chosen_font_has_every_glyph():
    from matplotlib import font_manager

    name, _ = find_chinese_font()
    path = font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
    font = font_manager.get_font(path)
    missing = [char for char in LABELS + "-0123456789" if font.get_char_index(ord(char)) == 0]
    assert missing == []


def test_fresh_and_stale_font_cache(tmp_path):
    """第一次运行建立新缓存，第二次沿用已过期的缓存：两次都不得出现缺字警告。"""
    script = textwrap.dedent(
        f"""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from bigmodel_lab.plotting import use_chinese_font
        use_chinese_font()
        fig, ax = plt.subplots()
        ax.plot([-2, -1, 0], [-1, 0, 1])
        ax.set_title({LABELS!r})
        fig.savefig(r"{tmp_path / 'out.png'}")
        """
    )
    environment = {**os.environ, "MPLCONFIGDIR": str(tmp_path / "mplconfig"), "PYTHONIOENCODING": "utf-8"}
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-W", "error", "-c", script],
            env=environment,
            capture_output=True,
            text=True,
            encoding="utf-8",
        )
        assert result.returncode == 0, result.stderr
        assert "Glyph" not in result.stderr
    assert (tmp_path / "out.png").stat().st_size > 0
