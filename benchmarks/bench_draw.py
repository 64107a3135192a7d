"""Benchmark: how fast drawDigit.py's pad answers a stroke, and why it centres the digits.

1. **Answer time.**  Runs drawDigit.py in this process under the Agg backend
   (``--no-show``; the networks from ``--models-dir``, or its brief training
   when none is saved) and draws ``--strokes`` sevens on its pad with
   matplotlib's public ``MouseEvent``, through ``fig.canvas.callbacks``, as a
   mouse would: one move every 1/60 s.  Under Agg, ``draw_idle`` draws at
   once, so the time a handler takes is the time from the mouse event to the
   window drawn with the new bars (a GUI draws the same once it is idle).
   Printed: median and largest time of the pen put down (the first answer),
   of a move that redraws the window with new answers (at most every
   ``UPDATE_SECONDS``), of a move that only redraws the pad, and of the pen
   lifted (answers and the feature-map window); then the parts: the MNIST
   preprocessing, both networks' answers, the CNN's 30 passes with Dropout
   on (Monte Carlo Dropout, ``how_sure``), the saliency map, a whole-window
   draw, the feature maps; for the passes and the saliency map also the CPU
   time per call (user + system, all threads).

2. **Off-centre digits.**  The test digits shifted by 0 to 6 pixels to the
   right and down, without and with drawDigit's preprocessing
   (``mnist_input``: bounding box, 20x20, centre of mass): the accuracy of
   the MLP and of the CNN.  The MLP, with one weight per pixel, loses much
   more than the CNN, whose filters slide over the image.

Not a test: run it on a quiet machine.

    DNN_DATA_DIR=../shared/data python benchmarks/bench_draw.py
"""

import os
import runpy
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: A "7" on the 280x280 pad, as a mouse delivers it: a point every few pixels.
SEVEN = ([(80 + 6 * step, 60) for step in range(21)]
         + [(200 - 3 * step, 60 + 6.5 * step) for step in range(1, 31)])
MOVE_INTERVAL = 1 / 60  # seconds between two mouse moves


def milliseconds(values):
    values = [1000 * value for value in values]
    if not values:  # (on a loaded machine every move may come late enough to answer)
        return "no such events"
    return (f"median {statistics.median(values):6.1f} ms, largest {max(values):6.1f} ms "
            f"({len(values)} events)")


def timed(function, repeats=20):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def cpu_milliseconds(function, repeats=20):
    """The CPU time of one call of ``function`` (mean over ``repeats``), in ms."""
    started = time.process_time()
    for _ in range(repeats):
        function()
    return 1000 * (time.process_time() - started) / repeats


def cpu_name():
    """The CPU's model name from /proc/cpuinfo (Linux), else the platform's."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv=None):
    sys.path.insert(0, str(ROOT))
    from dnnkit import runtime

    parser = runtime.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--strokes", type=int, default=10, help="sevens drawn on the pad")
    parser.add_argument("--models-dir", default="models",
                        help="networks saved by the MNIST scripts (else drawDigit trains briefly)")
    parser.add_argument("--no-off-centre", action="store_true",
                        help="leave out part 2 (the off-centre digits)")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    with tempfile.TemporaryDirectory() as outdir:
        sys.argv = [str(ROOT / "drawDigit.py"), "--no-show", "--outdir", outdir,
                    "--models-dir", args.models_dir]
        app = runpy.run_path(str(ROOT / "drawDigit.py"), run_name="__main__")
    import numpy as np
    from matplotlib.backend_bases import MouseEvent

    fig, pad_ax, pen = app["fig"], app["pad_ax"], app["pen"]
    fig.canvas.draw()  # as a window is drawn when it opens

    def mouse(name, x, y):
        pixel_x, pixel_y = pad_ax.transData.transform((x, y))
        event = MouseEvent(name, fig.canvas, pixel_x, pixel_y, button=1)
        answered = pen["answered"]
        started = time.perf_counter()
        fig.canvas.callbacks.process(name, event)
        return time.perf_counter() - started, pen["answered"] != answered

    press, redraw_moves, pad_moves, release = [], [], [], []
    for _ in range(args.strokes):
        app["pad"][:] = 0
        press.append(mouse("button_press_event", *SEVEN[0])[0])
        for point in SEVEN[1:]:
            time.sleep(MOVE_INTERVAL)
            seconds, redrawn = mouse("motion_notify_event", *point)
            (redraw_moves if redrawn else pad_moves).append(seconds)
        release.append(mouse("button_release_event", *SEVEN[-1])[0])
    print(f"drawDigit.py's pad on {os.cpu_count()} cores, matplotlib's Agg, {args.strokes} strokes "
          f"of {len(SEVEN)} mouse events, one move every {1000 * MOVE_INTERVAL:.0f} ms:")
    print(f"  pen down -> answers, pad, 28x28, bars:    {milliseconds(press)}")
    print(f"  move -> answers, pad, 28x28, bars drawn:  {milliseconds(redraw_moves)}")
    print(f"  move -> pad drawn:                        {milliseconds(pad_moves)}")
    print(f"  pen up -> answers, feature maps, drawn:   {milliseconds(release)}")
    image = app["mnist_input"](app["pad"])
    print("The parts:")
    print(f"  MNIST preprocessing (mnist_input):        "
          f"{milliseconds(timed(lambda: app['mnist_input'](app['pad'])))}")
    print(f"  both networks' answers:                   "
          f"{milliseconds(timed(lambda: app['answers'](image)))}")
    for name, function in ((f"how sure: {app['PASSES']} passes, Dropout on:",
                            lambda: app["how_sure"](image)),
                           ("saliency map (tf.GradientTape):", lambda: app["saliency"](image))):
        function()  # the first call traces
        print(f"  {name:41s} {milliseconds(timed(function))}; CPU "
              f"{cpu_milliseconds(function):.1f} ms per call")
    print(f"  the whole window drawn (not blitted):     "
          f"{milliseconds(timed(fig.canvas.draw, 10))}")
    print(f"  pad, 28x28, bars and title blitted:       "
          f"{milliseconds(timed(app['redraw_changes']))}")
    maps_fig = app["maps_fig"]
    print(f"  feature maps computed and drawn:          " + milliseconds(timed(lambda: (
        app["convolution"].update_feature_maps_figure(maps_fig, app["cnn"], image),
        maps_fig.canvas.draw()), 10)))

    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; load average "
          + (", ".join(f"{load:.1f}" for load in os.getloadavg()) if hasattr(os, "getloadavg")
             else "unknown"))
    if args.no_off_centre:
        return
    # 2. Off-centre digits.
    from dnnkit import data
    from scipy import ndimage

    (_, _), (x_test, y_test) = data.load_dataset("mnist", verbose=False)
    x_test = x_test[:2000].astype(np.float32) / 255
    y_test = y_test[:2000]
    print(f"\nOff-centre test digits ({len(x_test)}): shifted right and down, accuracy")
    print("shift  MLP    CNN    | recentred: MLP   CNN")
    for shift in (0, 1, 2, 3, 4, 6):
        shifted = np.array([ndimage.shift(image, (shift, shift), order=0) for image in x_test])
        recentred = np.array([app["mnist_input"](image) for image in shifted])
        row = []
        for images in (shifted, recentred):
            for model, shape in ((app["mlp"], (-1, 784)), (app["cnn"], (-1, 28, 28, 1))):
                predicted = model.predict(images.reshape(shape), batch_size=500, verbose=0)
                row.append((predicted.argmax(axis=1) == y_test).mean())
        print(f"{shift:4d}   {row[0]:.3f}  {row[1]:.3f}  |            {row[2]:.3f} {row[3]:.3f}")


if __name__ == "__main__":
    main()
