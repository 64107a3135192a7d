"""``--live``: the training curves, drawn when training starts and redrawn after every epoch.

With ``--pretrained --live``, :func:`replay` draws the stored history of the
saved network epoch by epoch instead, in a few seconds (no training).

``model.fit(..., callbacks=[monitor, *live.curves(args, title)])``.  One figure
(:func:`dnnkit.plotting.plot_training_curves`, the best epoch marked from the
second epoch on) is cleared and drawn again, so memory does not grow: in a
window with an interactive backend, closed when training ends; in a notebook
under the training cell, updated in place through one display handle; without
a display, one line says so.  The callback only reads the epoch's numbers.
"""

import time

from dnnkit import compat, plotting, training

#: How long the replay of a stored history takes, however many epochs it has.
REPLAY_SECONDS = 3.0
#: At most this many frames: a notebook renders each to PNG, about 0.15 s
#: (benchmarks/README.md, --live), so longer histories advance several epochs a frame.
REPLAY_FRAMES = 15


def curves(args, title):
    """``[callback]`` that draws the training curves live with ``--live``, else ``[]``."""
    if not getattr(args, "live", False):
        return []
    plt = plotting.pyplot()
    backend = plt.get_backend()
    # The notebook's "module://matplotlib_inline.backend_inline" (or ipykernel's older one).
    inline = backend.lower().endswith("backend_inline")
    if not inline and not plotting.can_show():
        print(f"--live: no display here (matplotlib backend {backend}), so the training curves "
              f"are only drawn and saved after training.")
        return []

    class LiveCurves(compat.keras().callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.history = {key: [] for key in ("loss", "val_loss", "accuracy", "val_accuracy")}
            self.figure = plotting.plot_training_curves(self.history, title=title)
            self.span_all_epochs()
            if inline:
                from IPython.display import DisplayHandle

                plt.close(self.figure)  # shown through the handle only, not again after the cell
                self.handle = DisplayHandle()
                self.handle.display(self.figure)
            else:
                self.figure.show()
                self.show_now()

        def on_epoch_end(self, epoch, logs=None):
            for key, value in (logs or {}).items():
                self.history.setdefault(key, []).append(float(value))
            diagnosis = (training.diagnose(self.history)
                         if len(self.history.get("val_loss", ())) > 1 else None)
            plotting.plot_training_curves(self.history, title=title, diagnosis=diagnosis,
                                          fig=self.figure)
            self.span_all_epochs()
            self.show_now()

        def span_all_epochs(self):
            for ax in self.figure.axes:
                ax.set_xlim(0.5, self.params["epochs"] + 0.5)

        def show_now(self):
            if inline:
                self.handle.update(self.figure)
            else:
                self.figure.canvas.draw_idle()
                self.figure.canvas.flush_events()  # the window draws now, not after training

        def on_train_end(self, logs=None):
            if not inline:
                plt.close(self.figure)

    return [LiveCurves()]


def replay(args, history, title, name, seconds=REPLAY_SECONDS):
    """With ``--pretrained --live``: the stored ``history`` (a dict of lists) drawn in the live
    figure epoch by epoch in about ``seconds``, the curves growing as in training; the last
    frame marks the best epoch and states the verdict (:func:`dnnkit.training.diagnose`).

    In a window or a notebook cell the figure grows; without a display only the last frame is
    drawn, and saved as ``<outdir>/<name>_replay.png``.  Returns the figure (None without --live).
    The figure is the final one (:func:`dnnkit.plotting.plot_training_curves`), drawn once;
    each frame shows the first epochs of its curves and hides what the verdict adds.
    """
    if not getattr(args, "live", False):
        return None
    plt = plotting.pyplot()
    backend = plt.get_backend()
    inline = backend.lower().endswith("backend_inline")
    epochs = len(history["loss"])
    diagnosis = training.diagnose(history) if history.get("val_loss") else None
    figure = plotting.plot_training_curves(history, title=f"{title} (replayed)",
                                           diagnosis=diagnosis)
    if not inline and not plotting.can_show():
        print(f"--live: no display here (matplotlib backend {backend}), so the replay of the "
              f"{epochs} stored epochs is only drawn at its end.")
        plotting.save_figure(figure, f"{name}_replay", args.outdir)
        return figure
    print(f"--live: replaying the {epochs} stored epochs of the saved network in "
          f"{seconds:.0f} s (no training).")
    curves, verdict = {}, []  # the curves' lines and their values; what the verdict adds
    for ax in figure.axes:
        for line in ax.lines:
            key = line.get_label().replace("training ", "").replace("validation ", "val_")
            if key in history:
                curves[line] = history[key]
        verdict += [artist for artist in (*ax.lines, *ax.patches, *ax.texts, ax.title)
                    if artist not in curves]

    def show(epoch):
        last = epoch == epochs
        for line, values in curves.items():
            line.set_data(range(1, epoch + 1), values[:epoch])
        for artist in verdict:
            artist.set_visible(last)
        for ax in figure.axes:  # the legend of the curves only, until the end (as drawn)
            ax.legend(handles=None if last else [line for line in curves if line.axes is ax],
                      loc="center right")
        figure.suptitle(f"{title} (replayed: epoch {epoch} of {epochs})")

    show(1)
    if inline:
        from IPython.display import DisplayHandle

        plt.close(figure)  # shown through the handle only, not again after the cell
        handle = DisplayHandle()
        handle.display(figure)
    else:
        figure.show()
    frames = sorted({round(epochs * frame / min(epochs, REPLAY_FRAMES))
                     for frame in range(1, min(epochs, REPLAY_FRAMES) + 1)})
    for epoch in frames:
        started = time.perf_counter()
        show(epoch)
        wait = seconds / len(frames) - (time.perf_counter() - started)
        if inline:
            handle.update(figure)
            time.sleep(max(0.0, wait))
        else:
            figure.canvas.draw_idle()
            # Waits, handling the window's events (it can be moved or closed meanwhile).
            figure.canvas.start_event_loop(max(0.01, wait))
    return figure
