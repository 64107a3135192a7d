"""``--live``: the training curves, drawn when training starts and redrawn after every epoch.

``model.fit(..., callbacks=[monitor, *live.curves(args, title)])`` in a
model script.  One figure, the script's own training-curves figure
(:func:`dnnkit.plotting.plot_training_curves`, with the best epoch of the
overtraining diagnosis marked from the second epoch on), is cleared and
drawn again after each epoch, so memory does not grow with the epochs:

- with an interactive backend (TkAgg, Qt, ``%matplotlib widget``) in a
  window, closed when training ends (the final figure, with the gap measured
  after training, comes with the others);
- in a notebook with the inline backend under the training cell, through
  one display handle that each epoch updates in place (not one image more
  per epoch);
- without a display (Agg: over ssh without ``-X``, in CI), one line says so
  and nothing is drawn; the final figure is saved as always.

The callback only reads the epoch's numbers: the training is the same with
and without ``--live``.  The redraw takes a fraction of a second per epoch
(``benchmarks/bench_live.py``).
"""

from dnnkit import compat, plotting, training

#: What the curves show before the first epoch: empty lines, so the legend is already there.
EMPTY_HISTORY = ("loss", "val_loss", "accuracy", "val_accuracy")


def curves(args, title):
    """``[callback]`` that draws the training curves live with ``--live``, else ``[]``."""
    if not getattr(args, "live", False):
        return []
    import matplotlib

    plt = plotting.pyplot()
    backend = matplotlib.get_backend()
    # The notebook's inline backend: "module://matplotlib_inline.backend_inline"
    # (or ipykernel's older "module://ipykernel.pylab.backend_inline").
    inline = backend.lower().endswith("backend_inline")
    if not inline and not plotting.can_show():
        print(f"--live: no display here (matplotlib backend {backend}), so the training curves "
              f"are only drawn and saved after training.")
        return []

    class LiveCurves(compat.keras().callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.history = {key: [] for key in EMPTY_HISTORY}
            self.figure = plotting.plot_training_curves(self.history, title=title)
            self.span_all_epochs()
            if inline:
                from IPython.display import DisplayHandle

                # Shown through the handle only, not once more when the cell ends.
                plt.close(self.figure)
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
            for ax in self.figure.axes:  # the x axis spans all epochs from the start
                ax.set_xlim(0.5, self.params["epochs"] + 0.5)

        def show_now(self):
            if inline:
                self.handle.update(self.figure)  # the same output, drawn anew
            else:
                self.figure.canvas.draw_idle()
                self.figure.canvas.flush_events()  # the window draws now, not after training

        def on_train_end(self, logs=None):
            if not inline:
                plt.close(self.figure)

    return [LiveCurves()]
