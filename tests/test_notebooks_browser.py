"""The notebooks as a student opens them: JupyterLab in a real browser (the full tier).

One JupyterLab server per module, started as ``jupyter lab`` is, on 127.0.0.1
with a token, in a temporary copy of the project's notebooks (with dnnkit/
and data/ beside them, as in the project folder); the tiny settings reach the
kernels through ``DNN_NOTEBOOK_ARGS``.  Headless Chromium from the system's
packages (Debian: ``apt-get install chromium chromium-driver``) is driven by
Selenium through the system's chromedriver: nothing is downloaded at run
time.  Where Chromium, its driver, Selenium or JupyterLab is missing, the
tests skip with a line that says which (``.ci/run`` installs Chromium and its
driver; the lab floor has no notebook server and keeps the kernel tests of
test_notebooks.py).

- A model notebook, with ``--live``: Run All Cells from JupyterLab's menu,
  then every code cell has run, each figure the script saves is an image under
  the cell that saved it, the live training curves are one image under the
  training cell, grown to the last epoch, and the saved notebook holds no
  error output.
- The drawing pad (drawDigit.ipynb), whose generated cell chooses
  ``%matplotlib widget`` (ipympl): a stroke drawn with the mouse (WebDriver's
  pointer actions: the browser's own pointer and mouse events) on the pad's
  canvas changes the networks' answer above the bars.

Screenshots of both (and of the live curves) are saved into ``$DNN_TEST_ARTIFACTS`` (default:
``test-artifacts/`` in the project folder, which git ignores).
"""

import importlib.util
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dnnkit import lecture
from tests.test_notebooks import ALLOWED_ON_STDERR, make_notebooks

pytestmark = [pytest.mark.full,
              pytest.mark.filterwarnings("ignore:Jupyter is migrating its paths:DeprecationWarning")]

ROOT = Path(__file__).resolve().parent.parent
MODEL_NOTEBOOK = "MLP_MNIST_digits_tf"  # the fastest model script
SERVER_START_SECONDS = 120
RUN_SECONDS = 600   # Run All Cells of one notebook on tiny settings, on a loaded 2-core machine
#: JupyterLab's settings for the test: no question about news, every cell in the page
#: (JupyterLab 4 otherwise leaves cells far out of view out of the page).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def artifacts_folder():
    folder = Path(os.environ.get("DNN_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def browser_programs():
    """``(chromium, chromedriver)`` paths, or skip with what is missing and how to install it."""
    chromium = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        missing = " and ".join(name for name, path in (("Chromium", chromium),
                                                      ("its driver chromedriver", driver))
                               if path is None)
        pytest.skip(f"the browser test needs {missing}: apt-get install chromium "
                    f"chromium-driver (.ci/run installs them)")
    return chromium, driver


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server in a temporary copy of the notebooks: ``(base URL, token, folder)``."""
    for module, fix in (("selenium", "pip install -r requirements.txt"),
                        ("jupyterlab", "pip install -r requirements.txt"),
                        ("ipympl", "pip install -r requirements.txt")):
        # Looked up, not imported: importing ipympl switches this process's matplotlib
        # backend to ipympl's, which later tests (headless, Agg) would then find.
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"the browser test needs {module} ({fix}; the lab floor has none and "
                        f"runs test_notebooks.py only)")
    browser_programs()
    folder = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", folder / "notebooks")
    for name in ("dnnkit", "data"):
        (folder / name).symlink_to(ROOT / name, target_is_directory=True)
    settings = folder / ".lab-settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    outdir = folder / "figures"
    # The tiny settings, with 2 epochs: curves, not single points.
    arguments = [*lecture.TINY_MODEL, "--outdir", str(outdir)]
    arguments[arguments.index("--epochs") + 1] = "2"
    # As in a student's shell: no MPLBACKEND=Agg (the notebooks choose inline or widget).
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("MPLBACKEND", "PYTEST_CURRENT_TEST", "TF_CPP_MIN_LOG_LEVEL")}
    environment.update(DNN_NO_DOWNLOAD="1",
                       DNN_NOTEBOOK_ARGS=" ".join(shlex.quote(word) for word in arguments),
                       JUPYTER_RUNTIME_DIR=str(folder / ".runtime"))
    port, token = free_port(), secrets.token_hex(24)
    log = open(folder / "jupyter-lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--port-retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
         f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={folder / '.ws'}",
         "--LabApp.extension_manager=readonly", "--allow-root"],  # CI runs as root
        cwd=str(folder), env=environment, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if server.poll() is not None:
                pytest.fail(f"jupyter lab ended with {server.returncode}: "
                            f"{(folder / 'jupyter-lab.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer within {SERVER_START_SECONDS} s")
                time.sleep(0.5)
        # The token is needed: without it the server refuses.
        with pytest.raises(urllib.error.HTTPError, match="403"):
            urllib.request.urlopen(f"{base}/api/contents", timeout=5)
        yield base, token, folder
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(lab):
    """Headless Chromium, driven through the system's chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = browser_programs()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1920,1100", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    chrome = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    try:
        yield chrome
    finally:
        chrome.quit()


def wait_until(condition, seconds, what, describe=None):
    """Poll ``condition`` until it is true; fail after ``seconds``, saying what was awaited
    and, where ``describe`` is given, what it returned last (e.g. the kernel's status)."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            last = f" (last seen: {describe()!r})" if describe else ""
            pytest.fail(f"waited {seconds} s: {what}{last}")
        time.sleep(0.5)


#: The notebook on show: one opened before stays in the page, hidden (and the text of
#: its elements is "" to WebDriver).
SHOWN = ".jp-NotebookPanel:not(.lm-mod-hidden)"


def shown(browser, selector):
    """The elements of the notebook on show that match ``selector``."""
    from selenium.webdriver.common.by import By

    return browser.find_elements(By.CSS_SELECTOR, f"{SHOWN} {selector}")


def open_notebook(browser, lab, name):
    """Open notebooks/<name>.ipynb in JupyterLab; wait until its kernel is idle."""
    base, token, _ = lab
    browser.get(f"{base}/lab/tree/notebooks/{name}.ipynb?token={token}")
    wait_until(lambda: shown(browser, ".jp-Notebook .jp-CodeCell"),
               120, f"{name}.ipynb's cells to appear")
    wait_until(lambda: "Idle" in kernel_status(browser), 120, "the kernel to start",
               lambda: kernel_status(browser))


def kernel_status(browser):
    from selenium.webdriver.common.by import By

    return " ".join(element.text for element in
                    browser.find_elements(By.CSS_SELECTOR, ".jp-StatusBar-Widget"))


def choose_from_menu(browser, menu, item):
    """Click ``menu`` in JupyterLab's menu bar, then its entry ``item`` (by their labels)."""
    from selenium.webdriver.common.by import By

    next(element for element in browser.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item")
         if element.text == menu).click()
    wait_until(lambda: [element for element in
                        browser.find_elements(By.CSS_SELECTOR, ".lm-Menu-item .lm-Menu-itemLabel")
                        if element.text == item], 10, f"{menu} > {item}")[0].click()


def run_all_cells(browser, done=None):
    """Run > Run All Cells, as a student does; wait until every code cell has run, then
    until ``done()`` is true, or (without ``done``) until the kernel is idle.

    A notebook with ipympl figures needs ``done``: their canvases talk to the kernel
    after the last cell has run (sizes, redraws), so under load its status can stay busy
    for a long while.  Its test waits for the output it reads instead."""
    choose_from_menu(browser, "Run", "Run All Cells")

    def finished():
        prompts = [prompt.text for prompt in shown(browser, ".jp-CodeCell .jp-InputPrompt")]
        return all(re.fullmatch(r"\[\d+\]:", prompt) for prompt in prompts) and prompts

    wait_until(finished, RUN_SECONDS, "Run All Cells to finish (a cell stayed [*] or [ ])")
    if done is None:
        wait_until(lambda: "Idle" in kernel_status(browser), 60, "the kernel to be idle",
                   lambda: kernel_status(browser))
    else:
        wait_until(done, 60, "the last cell's output", lambda: kernel_status(browser))


def save_notebook(browser, lab, name):
    """File > Save; return the notebook as saved (nbformat)."""
    import nbformat

    path = lab[2] / "notebooks" / f"{name}.ipynb"
    before = path.stat().st_mtime_ns
    choose_from_menu(browser, "File", "Save Notebook")
    wait_until(lambda: path.stat().st_mtime_ns != before, 60, f"{name}.ipynb to be saved")
    time.sleep(0.5)
    return nbformat.read(str(path), as_version=4)


def cell_of_4_4(nbformat, source):
    """A code cell for the generated notebooks' nbformat 4.4 (no cell id: 4.5 added it)."""
    cell = nbformat.v4.new_code_cell(source)
    cell.pop("id", None)
    return cell


def cell_output_texts(cell):
    return "".join(output.get("text", "") for output in cell.outputs)


#: Added after the generated first cell of the model notebook: ``--live``, as if the
#: student had started ``DNN_NOTEBOOK_ARGS="... --live" jupyter lab`` (not for the whole
#: server: the drawing pad has no --live).
WITH_LIVE = 'import os\n\nos.environ["DNN_NOTEBOOK_ARGS"] += " --live"'


def test_a_model_notebook_runs_in_the_browser_and_shows_its_figures(lab, browser):
    """Every figure the script saves is an image under its cell; with --live the training
    curves are one image under the training cell, which grew to the last epoch."""
    import nbformat
    from selenium.webdriver.common.by import By

    from tests.test_saved import blue_pixels

    path = lab[2] / "notebooks" / f"{MODEL_NOTEBOOK}.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    first_code = next(index for index, cell in enumerate(notebook.cells)
                      if cell.cell_type == "code")
    notebook.cells.insert(first_code + 1, cell_of_4_4(nbformat, WITH_LIVE))
    nbformat.write(notebook, str(path))

    open_notebook(browser, lab, MODEL_NOTEBOOK)
    run_all_cells(browser)
    cells = shown(browser, ".jp-Notebook .jp-CodeCell")
    _, script = make_notebooks.script_cells(ROOT / f"{MODEL_NOTEBOOK}.py")
    saves = [0, 0] + [code.count("plotting.save_figure(") for _, _, code in script if code]
    training = 2 + [code for _, _, code in script if code].index(
        next(code for _, _, code in script if "model.fit(" in code))
    expected = [count + (index == training) for index, count in enumerate(saves)]
    assert len(cells) == len(expected)
    images = [len(cell.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output img"))
              for cell in cells]
    assert images == expected, ("images under the cells differ from the figures the script "
                                "saves and --live's one")
    for image in (image for cell in cells
                  for image in cell.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output img")):
        assert browser.execute_script("return arguments[0].complete && "
                                      "arguments[0].naturalWidth > 100", image)
    browser.execute_script("arguments[0].scrollIntoView()", cells[training])
    browser.save_screenshot(str(artifacts_folder() / f"browser_{MODEL_NOTEBOOK}_live.png"))
    first_figure = next(cell for cell, count in zip(cells, saves) if count)
    browser.execute_script("arguments[0].scrollIntoView()", first_figure)
    browser.save_screenshot(str(artifacts_folder() / f"browser_{MODEL_NOTEBOOK}.png"))

    saved = save_notebook(browser, lab, MODEL_NOTEBOOK)
    code = [cell for cell in saved.cells if cell.cell_type == "code"]
    assert not [output for cell in code for output in cell.outputs
                if output.output_type == "error"]
    stderr = [line for cell in code for output in cell.outputs
              if output.output_type == "stream" and output.name == "stderr"
              for line in output.text.splitlines()
              if line.strip() and not ALLOWED_ON_STDERR.match(line)]
    assert not stderr, stderr
    assert "Running in a notebook: options --epochs 2 --max-samples 2000" in \
        cell_output_texts(code[2]) and "--live" in cell_output_texts(code[2])
    assert len(list((lab[2] / "figures").glob("*.png"))) == sum(saves)
    # The live image as JupyterLab holds it: updated to the last epoch (as many pixels of
    # the training loss's colour as the script's final curves have), not the empty start.
    final = next(cell for cell in code if "plot_training_curves(" in cell.source)
    assert blue_pixels(code[training]) > 0.6 * blue_pixels(final)


PROBE = "print('Answer:', bars_title.get_text())"


def test_the_drawing_pad_answers_a_stroke_in_the_notebook(lab, browser):
    import nbformat
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    # A last cell that prints the answer above the bars: run again after the stroke.
    path = lab[2] / "notebooks" / "drawDigit.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    notebook.cells.append(cell_of_4_4(nbformat, PROBE))
    nbformat.write(notebook, str(path))

    def probe_output():
        outputs = shown(browser, ".jp-Notebook .jp-CodeCell")[-1].find_elements(
            By.CSS_SELECTOR, ".jp-OutputArea-output")
        return outputs[0].text if outputs else ""

    open_notebook(browser, lab, "drawDigit")
    run_all_cells(browser, done=probe_output)
    cells = shown(browser, ".jp-Notebook .jp-CodeCell")
    assert probe_output() == "Answer: Draw a digit"
    canvases = shown(browser, ".jupyter-matplotlib-canvas-div canvas")
    assert canvases, "no ipympl canvas: %matplotlib widget did not take effect"
    # The pad's figure is the first widget: its top canvas takes the mouse.
    figure = shown(browser, ".jupyter-matplotlib-canvas-div")[0]
    browser.execute_script("arguments[0].scrollIntoView()", figure)
    box = browser.execute_script("const r = arguments[0].getBoundingClientRect();"
                                 "return [r.width, r.height];", figure)
    width, height = box
    # The pad's axes: [0.03, 0.17, 0.33, 0.72] of the figure (drawDigit.py); a stroke
    # down its middle (a "1"), from a fifth to four fifths of its height.
    centre_x, top, bottom = (0.03 + 0.33 / 2) * width, (1 - 0.89 + 0.72 / 5) * height, \
        (1 - 0.89 + 0.72 * 4 / 5) * height
    # Offsets from the element's centre (WebDriver's rule).
    to_x, to_y = centre_x - width / 2, top - height / 2
    actions = ActionChains(browser, duration=50)
    actions.move_to_element_with_offset(figure, int(to_x), int(to_y)).click_and_hold()
    for step in range(1, 11):
        actions.move_by_offset(0, int((bottom - top) / 10))
    actions.release().perform()
    time.sleep(3)  # the answers and the saliency map, drawn and sent by the kernel
    browser.save_screenshot(str(artifacts_folder() / "browser_drawDigit.png"))

    probe = cells[-1]
    probe.find_element(By.CSS_SELECTOR, ".jp-InputPrompt").click()
    ActionChains(browser).key_down("\ue008").send_keys("\ue007").key_up("\ue008").perform()

    def answer():
        text = probe.find_element(By.CSS_SELECTOR, ".jp-OutputArea-output").text
        return text if text != "Answer: Draw a digit" else None

    text = wait_until(answer, 60, "the answer to change after the stroke")
    assert re.fullmatch(r"Answer: MLP: \d \(\d+ %\)\s+CNN: \d \(\d+ %\)", text), text
