"""The student's side in a real browser: JupyterLab (the pinned version) on 127.0.0.1 with a random token, in a
copy of a release, driven in Chromium (Debian's package) through Playwright, as a student would; and a feedback
page opened with the network off. A failing test leaves screenshots in its temporary folder."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright import sync_api  # the dev extra: make test installs it

from autograder.authoring.check import samples
from autograder.authoring.release import release
from autograder.authoring.scaffold import init_course

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip
CORRECT_MSE = "def mse(y_pred, y_true):\n    return ((y_pred - y_true) ** 2).mean()\n"

if not Path(CHROMIUM).exists():  # make test installs it; a machine without it says so rather than passing
    pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium", pytrace=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab serving a folder with both releases, a solved copy of each notebook beside its stub."""
    both = init_course(tmp_path_factory.mktemp("both") / "course", examples=["line_fit", "mlp_spirals"])
    folder = tmp_path_factory.mktemp("lab")
    for name in ("line_fit", "mlp_spirals"):
        released = release(both, name)
        shutil.copytree(released, folder / name)
        solved = samples.fill_stubs(samples.read(released / f"{name}.ipynb"),
                                    samples.reference_sources(both.assignment(name)))  # fmt: skip
        samples.write(solved, folder / name / f"{name}_solved.ipynb")
    settings = folder / ".settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)  # every cell in the page, not only those in view: the test reads them all
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    port, token = free_port(), secrets.token_hex(16)
    log = open(folder / "jupyter.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--ServerApp.port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
         "--ServerApp.open_browser=False", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
         "jupyterlab.NeverCheckForUpdate"],
        stdout=log, stderr=subprocess.STDOUT, cwd=folder,
        env={**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(folder / ".settings")},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail(f"JupyterLab did not start:\n{(folder / 'jupyter.log').read_text()[-3000:]}")
    yield base, token, folder, both
    server.terminate()
    server.wait(timeout=30)


class Screenshots:
    """Screenshots of a page kept under the test's temporary folder when the test fails."""

    def __init__(self, page, folder: Path):
        self.page, self.folder, self.count = page, folder, 0

    def take(self, label: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{label}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path


def open_notebook(browser, base: str, token: str, path: str, tmp_path: Path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    workspace = secrets.token_hex(4)  # a fresh workspace: no tab or kernel choice left from another test
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{path}?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    select = page.locator(".jp-Dialog button:has-text('Select')")
    if select.count():  # JupyterLab asks which kernel when it cannot tell: the notebook's own
        select.first.click()
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
    return page, Screenshots(page, tmp_path)


def run_all(page, seconds: float) -> None:
    select = page.locator(".jp-Dialog button:has-text('Select')")
    if select.count():  # a late kernel choice: the notebook's own
        select.first.click()
    page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
    page.click("li.lm-Menu-item:has-text('Run All Cells')")
    deadline = time.monotonic() + seconds
    time.sleep(1.0)
    settled = 0  # polls in a row with no cell queued or running and the kernel idle: outputs can trail a prompt
    while time.monotonic() < deadline:
        prompts = page.locator(".jp-InputPrompt").all_inner_texts()
        idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count() > 0
        settled = settled + 1 if idle and not any("*" in prompt for prompt in prompts) else 0
        if settled >= 3:
            return
        time.sleep(0.5)
    raise AssertionError(f"the notebook did not finish running within {seconds} s")


def settled_checks(page, passed, seconds: float = 30) -> dict[str, str]:
    """check_outputs once every output satisfies `passed`, or as they are after `seconds`: the last output of a
    run can reach the page a moment after its cell's prompt shows a number."""
    deadline = time.monotonic() + seconds
    while True:
        checks = check_outputs(page)
        if all(passed(function, output) for function, output in checks.items()) or time.monotonic() > deadline:
            return checks
        time.sleep(0.5)


def run_each(page, seconds: float) -> None:
    """Run every cell in turn with Shift+Enter, as a student steps through the notebook: unlike Run All, a cell
    that fails (a stub called by a later cell) does not stop the cells after it."""
    page.locator(".jp-Cell").first.click()
    page.keyboard.press("Escape")
    deadline = time.monotonic() + seconds
    for _ in range(page.locator(".jp-Cell").count()):
        page.keyboard.press("Shift+Enter")
        time.sleep(0.05)
        while any("*" in prompt for prompt in page.locator(".jp-InputPrompt").all_inner_texts()):
            assert time.monotonic() < deadline, f"the notebook did not finish running within {seconds} s"
            time.sleep(0.1)


def check_outputs(page) -> dict[str, str]:
    """The printed output of every check("...") cell, by function."""
    found = {}
    for cell in page.locator(".jp-CodeCell").all():
        source = cell.locator(".jp-InputArea-editor").inner_text()
        match = re.fullmatch(r'\s*check\("(\w+)"\)\s*', source)
        if match:
            found[match[1]] = cell.locator(".jp-OutputArea").inner_text()
    return found


def replace_cell(page, defines: str, code: str) -> None:
    """Click into the code cell that defines `defines`, select everything and put `code` there, as typed."""
    cell = page.locator(".jp-CodeCell", has=page.locator(".cm-content", has_text=f"def {defines}(")).first
    cell.scroll_into_view_if_needed()
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)


def test_a_student_writes_mse_and_runs_the_notebook(browser, lab, tmp_path):
    base, token, _, _ = lab
    page, shots = open_notebook(browser, base, token, "line_fit/line_fit.ipynb", tmp_path)
    try:
        replace_cell(page, "mse", CORRECT_MSE)
        run_each(page, 400)
        checks = settled_checks(page, lambda function, output: output.strip())
        assert set(checks) == {"mse", "sgd_step", "train", "loss_landscape", "gradients"}, checks
        assert "mse: 3/3 public tests passed" in checks["mse"], checks["mse"]
        for name in ("sgd_step", "train", "loss_landscape", "gradients"):
            assert "not implemented yet" in checks[name] and "Traceback" not in checks[name], checks[name]
        assert page.locator(".jp-RenderedImage img").count() >= 1  # the figures are drawn
        shots.take("mse-written")
    except BaseException:
        shots.take("failure")
        raise
    finally:
        page.close()


@pytest.mark.parametrize("name", ["line_fit", "mlp_spirals"])
def test_with_every_solution_filled_in_no_error_and_every_check_passes(browser, lab, tmp_path, name):
    base, token, _, _ = lab
    page, shots = open_notebook(browser, base, token, f"{name}/{name}_solved.ipynb", tmp_path)
    try:
        run_all(page, 400)
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        tracebacks = [text for text in page.locator(".jp-OutputArea-output").all_inner_texts() if "Traceback" in text]
        assert not tracebacks, tracebacks[:2]
        assert errors.count() == 0, errors.all_inner_texts()[:3]

        def passed(function, output):
            return re.search(rf"{function}: (\d+)/\1 public tests passed", output)

        checks = settled_checks(page, passed)
        assert len(checks) == 6 if name == "mlp_spirals" else len(checks) == 5
        for function, output in checks.items():
            assert passed(function, output), (function, output)
        assert page.locator(".jp-RenderedImage img").count() >= 3
        shots.take("all-passed")
    except BaseException:
        shots.take("failure")
        raise
    finally:
        page.close()


def test_a_feedback_page_renders_offline_with_formulas_and_pictures(browser, lab, tmp_path):
    """Offline: no raw $$ in the visible text, formulas typeset (MathML), the pictures drawn."""
    _, _, folder, course = lab
    lms = tmp_path / "lms"
    notebook = release(course, "line_fit") / "line_fit.ipynb"
    solved = samples.fill_stubs(samples.read(notebook), samples.reference_sources(course.assignment("line_fit")))
    samples.write(solved, lms / "alice.ipynb")
    for args in (("grade", "line_fit", str(lms), "--out", str(tmp_path / "graded")), ("feedback", "line_fit")):
        done = subprocess.run([sys.executable, "-m", "autograder", *args], cwd=course.root, capture_output=True,
                              text=True, timeout=600)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
    page_file = course.feedback / "alice" / "line_fit" / "line_fit.html"
    context = browser.new_context(offline=True)
    requests: list[str] = []
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    shots = Screenshots(page, tmp_path)
    try:
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        text = page.inner_text("body")
        assert "$$" not in text and "\\frac" not in text
        assert page.locator("math").count() >= 5
        widths = page.eval_on_selector_all("img", "images => images.map(image => image.naturalWidth)")
        assert len(widths) >= 2 and all(width > 0 for width in widths), widths
        assert [url for url in requests if not url.startswith(("file:", "data:"))] == []
        shots.take("feedback-offline")
    except BaseException:
        shots.take("failure")
        raise
    finally:
        context.close()
