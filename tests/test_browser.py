"""在真实浏览器里使用 01 笔记本：运行全部单元格，拖动激活函数探索器的滑块，图应随之改变。

测试自己在 127.0.0.1 的空闲端口上启动无界面的 JupyterLab（设置、工作区、Jupyter 配置都放在临时目录，
不读也不改用户自己的设置），用 Playwright 驱动本机的 Chromium 打开笔记本的副本，并检查：
界面是中文、没有 JavaScript 错误、浏览器没有请求本机以外的地址、拖动滑块后图片确实重画。
没有安装 Chromium 或 Playwright 时跳过。
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "01_activations.ipynb"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
# 除 --headless 外，这些参数关掉 Chromium 自己的联网功能（更新、同步、首次运行向导），
# --no-sandbox 让它在容器里以 root 身份也能启动。
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# 测试专用的界面设置，与界面语言一起写进临时的 overrides.json（语言取自 start.py 的 LAB_OVERRIDES）。
# 关闭自动保存，浏览器就不会把运行结果写回笔记本；关闭新闻与更新提示，界面上不会多出通知。
# windowingMode=none 让所有单元格一直留在 DOM 里，测试才能读到每个单元格的状态。
TEST_OVERRIDES = {
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
}
# 状态栏的内核项在加载时显示“No Kernel | 正在初始化”，内核就绪后显示“Python 3 (ipykernel) | 空闲”。
KERNEL_IDLE_JS = """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
    .some((item) => /^(?!No Kernel).+ \\| 空闲$/.test(item.textContent.trim()))"""
LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}
SERVER_START_TIMEOUT_S = 60
RUN_ALL_TIMEOUT_S = 60
REDRAW_TIMEOUT_S = 20


def _find_chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        path = shutil.which(candidate)
        if path:
            return path
    return None


def _lab_overrides() -> dict:
    """返回测试用的 overrides.json 内容：start.py 的中文界面设置加上 TEST_OVERRIDES。"""
    spec = importlib.util.spec_from_file_location("bigmodel_lab_start", ROOT / "start.py")
    start = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(start)
    overrides = {plugin: dict(values) for plugin, values in start.LAB_OVERRIDES.items()}
    for plugin, values in TEST_OVERRIDES.items():
        overrides.setdefault(plugin, {}).update(values)
    return overrides


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_answers(base_url: str, token: str) -> bool:
    request = urllib.request.Request(f"{base_url}/api/status", headers={"Authorization": f"token {token}"})
    # 空的 ProxyHandler：即使环境里设置了 http_proxy，也直接连本机。
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _stop_server(process: subprocess.Popen, base_url: str, token: str) -> None:
    """请服务器关闭自己和内核，10 秒内没有退出就强行结束它；最后结束进程组里剩下的进程。"""
    request = urllib.request.Request(
        f"{base_url}/api/shutdown", method="POST", headers={"Authorization": f"token {token}"}
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5):
            pass
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    if os.name == "posix":
        # 服务器以新会话启动，进程组里只有它和它启动的内核；内核没随服务器退出时在这里结束。
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@contextlib.contextmanager
def _jupyterlab(root_dir: Path, state_dir: Path):
    """在 127.0.0.1 的空闲端口上启动 JupyterLab，产出（地址, 令牌），退出 with 块时总会关闭它。"""
    settings_dir = state_dir / "app-settings"
    settings_dir.mkdir(parents=True)
    overrides = json.dumps(_lab_overrides(), ensure_ascii=False, indent=2)
    (settings_dir / "overrides.json").write_text(overrides, encoding="utf-8")

    port, token = _free_port(), secrets.token_hex(16)
    base_url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "jupyterlab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",
        f"--ServerApp.root_dir={root_dir}",
        f"--LabApp.app_settings_dir={settings_dir}",
        f"--LabApp.user_settings_dir={state_dir / 'user-settings'}",
        f"--LabApp.workspaces_dir={state_dir / 'workspaces'}",
    ]  # fmt: skip
    environment = dict(os.environ)
    # 用户的 Jupyter、IPython 配置与内核不参与测试。MPLBACKEND 若被设为 Agg，内核就不会显示图。
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        environment[name] = str(state_dir / name.lower())
    environment.pop("MPLBACKEND", None)

    log_path = state_dir / "jupyterlab.log"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command, cwd=root_dir, env=environment, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=os.name == "posix",
        )  # fmt: skip
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _server_answers(base_url, token):
            log_text = log_path.read_text(encoding="utf-8", errors="replace")
            if process.poll() is not None:
                pytest.fail(f"JupyterLab 启动后立即退出（退出码 {process.returncode}），日志：\n{log_text}")
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab 在 {SERVER_START_TIMEOUT_S} 秒内没有响应 {base_url}，日志：\n{log_text}")
            time.sleep(0.5)
        yield base_url, token
    finally:
        _stop_server(process, base_url, token)


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme not in ("http", "https", "ws", "wss") or parts.hostname in LOOPBACK_HOSTS


def _click_menu(page, menu: str, item: str) -> None:
    """点击菜单栏里名为 menu 的菜单，再点击其中名为 item 的菜单项（都按中文界面的文字精确匹配）。"""
    page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{item}$")).click()


def _wait_for_prompts(page, pattern: str, timeout_s: float) -> None:
    """等到每个代码单元的输入提示符都符合 pattern；有单元出错或超时则让测试失败。"""
    deadline = time.monotonic() + timeout_s
    prompts: list[str] = []
    while time.monotonic() < deadline:
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")
        if errors.count():
            pytest.fail(f"笔记本在浏览器里运行出错：\n{errors.first.inner_text()}")
        prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        if prompts and all(re.fullmatch(rf"\s*{pattern}\s*", text) for text in prompts):
            return
        page.wait_for_timeout(500)
    pytest.fail(f"{timeout_s} 秒内各代码单元的提示符没有都变成 {pattern}，实际为：{prompts}")


def _explorer_cell(page):
    """返回输出里第一个带滑块的代码单元（激活函数探索器），并等到它画出图片。"""
    explorer = page.locator(".jp-CodeCell").filter(has=page.locator(".jp-OutputArea .widget-slider")).first
    explorer.locator(".jp-OutputArea img").first.wait_for(timeout=REDRAW_TIMEOUT_S * 1000)
    return explorer


def _figure_digests(cell) -> list[str]:
    """返回单元格输出中每张图片 src（matplotlib 的 PNG data URL）的 SHA-256 摘要前 16 位。"""
    sources = [image.get_attribute("src") or "" for image in cell.locator(".jp-OutputArea img").all()]
    return [hashlib.sha256(source.encode("utf-8")).hexdigest()[:16] for source in sources]


def _error_text(cell) -> str:
    """返回单元格输出里的异常与标准错误文本（控件回调里的异常显示为标准错误）。"""
    errors = cell.locator(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error'], "
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
    )
    return "\n".join(errors.all_inner_texts())


def _drag_slider(page, cell) -> None:
    """用鼠标拖动探索器第一个滑块的一个手柄，拖进它与相邻手柄或滑轨端点之间最宽的空隙。

    范围滑块（FloatRangeSlider）有两个手柄：这样拖动不会让两个手柄重合，范围始终非空。
    """
    slider = cell.locator(".jp-OutputArea .widget-slider").first
    slider.scroll_into_view_if_needed()
    track = slider.locator(".noUi-target").first.bounding_box()
    boxes = [handle.bounding_box() for handle in slider.locator(".noUi-handle").all()]
    centers = [box["x"] + box["width"] / 2 for box in boxes]
    stops = [track["x"], *centers, track["x"] + track["width"]]

    # 每个手柄可以向左拖到前一个停靠点、向右拖到后一个停靠点；选出最宽的一段。
    moves = []
    for index, center in enumerate(centers):
        moves.append((center - stops[index], index, -1))
        moves.append((stops[index + 2] - center, index, +1))
    gap, index, direction = max(moves)

    y = boxes[index]["y"] + boxes[index]["height"] / 2
    page.mouse.move(centers[index], y)
    page.mouse.down()
    page.mouse.move(centers[index] + direction * 0.8 * gap, y, steps=10)
    page.mouse.up()


def _exercise_explorer(page, url: str) -> dict:
    """打开笔记本，清除旧输出后运行全部单元格，再拖动探索器的滑块；返回拖动前后观察到的界面状态。"""
    page.goto(url)
    menu_bar = page.locator("#jp-menu-panel .lm-MenuBar-itemLabel")
    menu_bar.first.wait_for(timeout=SERVER_START_TIMEOUT_S * 1000)
    observed = {"menu_labels": menu_bar.all_inner_texts()}

    # 笔记本加载完、内核启动并空闲后再操作；否则“运行所有单元格”会弹出选择内核的对话框。
    page.wait_for_function(KERNEL_IDLE_JS, timeout=SERVER_START_TIMEOUT_S * 1000)
    # 先清除提交时保存的输出与执行序号，这样“每个单元格都有序号”才说明这次运行已经完成。
    _click_menu(page, "编辑", "清除所有单元格的输出")
    _wait_for_prompts(page, r"\[\s*\]:", REDRAW_TIMEOUT_S)
    _click_menu(page, "运行", "运行所有单元格")
    _wait_for_prompts(page, r"\[\d+\]:", RUN_ALL_TIMEOUT_S)

    explorer = _explorer_cell(page)
    readout = explorer.locator(".jp-OutputArea .widget-slider .widget-readout").first
    observed["readout_before"] = readout.inner_text()
    observed["figures_before"] = figures = _figure_digests(explorer)
    _drag_slider(page, explorer)

    deadline = time.monotonic() + REDRAW_TIMEOUT_S
    while figures == observed["figures_before"] and not _error_text(explorer) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        figures = _figure_digests(explorer)
    observed["figures_after"] = figures
    observed["readout_after"] = readout.inner_text()
    observed["explorer_error"] = _error_text(explorer)
    return observed


def test_activation_explorer_in_browser(tmp_path):
    chromium = _find_chromium()
    if chromium is None:
        pytest.skip("没有找到 Chromium 浏览器，跳过浏览器测试；Debian/Ubuntu 上可用 apt-get install chromium 安装。")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="没有安装 Playwright，跳过浏览器测试；可用 pip install playwright 安装。"
    )
    if not NOTEBOOK.is_file():
        pytest.skip(f"笔记本 {NOTEBOOK.name} 还不存在，跳过浏览器测试。")

    # 在副本上操作，仓库里提交的笔记本不会被改动。
    root_dir = tmp_path / "lab"
    (root_dir / "notebooks").mkdir(parents=True)
    shutil.copy2(NOTEBOOK, root_dir / "notebooks" / NOTEBOOK.name)

    js_errors: list[str] = []
    outside_requests: list[str] = []

    def record_console(message) -> None:
        if message.type == "error":
            js_errors.append(f"console.error：{message.text}")

    def block_outside(route) -> None:
        outside_requests.append(route.request.url)
        route.abort()

    with _jupyterlab(root_dir, tmp_path / "state") as (base_url, token):
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
            try:
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                context.route(lambda url: not _is_loopback(url), block_outside)
                page = context.new_page()
                page.on("console", record_console)
                page.on("pageerror", lambda error: js_errors.append(f"页面异常：{error}"))
                try:
                    observed = _exercise_explorer(page, f"{base_url}/lab/tree/notebooks/{NOTEBOOK.name}?token={token}")
                except BaseException:
                    # 失败时留下整页截图，便于查看浏览器里当时的样子；截图本身失败时不掩盖原来的错误。
                    with contextlib.suppress(sync_api.Error):
                        page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
                        print(f"失败时的整页截图：{tmp_path / 'failure.png'}")
                    raise
            finally:
                browser.close()

    before, after = observed["readout_before"], observed["readout_after"]
    assert {"文件", "编辑", "运行"} <= set(observed["menu_labels"]), f"菜单栏不是中文：{observed['menu_labels']}"
    assert after != before, f"拖动后滑块的读数没有变化，仍为 {before}"
    assert observed["explorer_error"] == "", f"滑块从 {before} 拖到 {after} 后，探索器输出了错误或警告：\n{observed['explorer_error']}"
    assert observed["figures_after"], f"滑块从 {before} 拖到 {after} 后，探索器的输出里没有图片"
    assert observed["figures_after"] != observed["figures_before"], f"滑块从 {before} 拖到 {after} 后，图片没有重画"
    assert js_errors == [], "浏览器控制台出现 JavaScript 错误：\n" + "\n".join(js_errors)
    assert outside_requests == [], f"浏览器试图访问本机以外的地址：{outside_requests}"
