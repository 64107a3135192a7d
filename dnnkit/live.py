"""``--live``: the training curves, drawn when training starts and redrawn after every epoch.

``model.fit(..., callbacks=[monitor, *live.curves(args, title)])``.  One figure
(:func:`dnnkit.plotting.plot_training_curves`, the best epoch marked from the
second epoch on) is cleared and drawn again, so memory does not grow: in a
window with an interactive backend, closed when training ends; in a notebook
under the training cell, updated in place through one display handle; without
a display, one line says so.  The callback only reads the epoch's numbers.
"""

from dnnkit import compat, plotting, training


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
