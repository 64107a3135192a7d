"""The playground's window: the figure, its controls and their handlers (playground.py).

The lesson (the data, the input features, the network, one epoch of
training, the exported Keras code) stays in playground.py, which hands its
functions and choices over as a :class:`Lesson`.  :class:`Playground` owns
the figure and the widgets; its state is the attributes set in ``__init__``,
and each control has one handler (``on_...``).

Drawing.  Drawing the whole figure, with its 30 controls, takes longer than
an epoch.  So while it plays, matplotlib's ``FuncAnimation`` (``blit=True``)
calls :meth:`Playground.frame` once per epoch, and redraws only the artists
it returns (the map, the points, the loss curves, the texts, the node maps)
on a kept picture of their own axes: the controls are never drawn over, so
their marks stay right.  The artists are "animated" (left out of a full
drawing) only while it plays; a change of a control while it plays draws the
whole figure once.  The controls with a handler do not draw themselves (their
``drawon`` is off): the handler draws the whole figure once.  Before it, a
slider would ask for a drawing too (at once under Agg), and the radio and check
buttons would draw the canvas, or blit their own axes where it can.  Controls moved
by the program (a preset) have their ``eventson`` switched off while they move.
"""

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from dnnkit import compat, plotting, toydata, training

LIMIT = 5.0  # the map shows the square [-LIMIT, LIMIT]^2
GRID_SIZE = 60  # the map's probability is computed on GRID_SIZE x GRID_SIZE points
NODE_MAPS = 8  # the node maps of one hidden layer of at most this many nodes
FRAME_INTERVAL_MS = 10  # the pause between two epochs while it plays
ERASE_RADIUS = 0.4  # a click erases the nearest point within this distance
CLASS_COLORS = np.array([[0.1, 0.25, 0.75, 1.0], [0.8, 0.1, 0.05, 1.0]])  # blue 0, red 1
MARKERS = {"train": ("o", "training"), "validation": ("^", "validation"), "test": ("s", "test")}
CLICK_ACTIONS = ("class 0 (blue)", "class 1 (red)", "erase")
DIVERGED = "training diverged: lower the learning rate (the loss is not a number)."
NEED_POINTS = (f"Your points: at least {toydata.MIN_OWN_POINTS} of both classes are needed "
               f"to train. Click on the map: left adds the class chosen under it, right "
               f"adds class 1.")


@dataclass(frozen=True)
class Lesson:
    """What the window takes from playground.py: its functions and its choices."""

    make_points: Callable       # (settings, seed) -> (x, y), a built-in data set in random order
    split: Callable             # (count) -> {"train": slice, "validation": slice, "test": slice}
    input_features: Callable    # (x, names) -> the network's inputs, float32
    build_network: Callable     # (settings, seed) -> a compiled Keras model
    training_batches: Callable  # (features, y, parts, batch_size, seed) -> (train, validation)
    train_epochs: Callable      # (model, batches, epoch, count) -> the history of these epochs
    keras_code: Callable        # (settings, data_seed, weight_seed, epochs, count, points_file, note)
    describe: Callable          # (settings) -> one line
    features: dict              # name -> label of each input feature
    activations: tuple
    learning_rates: tuple
    l2_strengths: tuple
    max_layers: int
    max_nodes: int
    max_batch_size: int
    points_range: tuple         # (fewest, most) points of a built-in data set
    defaults: dict
    presets: dict               # name -> {"settings", "epochs", "description"}
    own_points: str             # the name of the data set of your own points


class Playground:
    """The window: the map, the loss curves, the node maps, and the controls.

    ``settings`` are the network's and the data's settings (playground.py's
    ``DEFAULTS``); ``seed`` draws the points and the first initial weights;
    ``own_points`` = ``(x, y)`` in random order (from ``--data``), or None.
    """

    def __init__(self, lesson, settings, *, seed, preset=None, own_points=None,
                 outdir="figures", epochs=100, notebook=False):
        plt = plotting.pyplot()
        self.lesson = lesson
        self.settings = {**settings, "nodes": list(settings["nodes"])}
        self.data_seed = seed
        self.weight_seed = seed  # Reset: seed + 1, + 2, ...
        self.preset = preset
        self.outdir = Path(outdir)
        self.default_epochs = epochs  # of the exported code before any training
        self.rng = np.random.default_rng(seed)  # where a clicked point goes in the random order
        own_x, own_y = own_points if own_points is not None else (np.zeros((0, 2)), np.zeros(0))
        self.own_x = np.asarray(own_x, dtype="float32")
        self.own_y = np.asarray(own_y, dtype="float32")
        # The points shown and trained on, and the network with its training.
        self.x, self.y, self.parts = None, None, None
        self.model, self.node_model, self.inputs, self.batches = None, None, None, None
        self.epoch, self.history, self.diagnosis = 0, {}, None
        self.test_accuracy, self.diverged = None, False
        self.playing, self.animation = False, None
        self.message = ""
        self.code_path, self.points_path = None, None
        grid_values = np.linspace(-LIMIT, LIMIT, GRID_SIZE, dtype="float32")
        self.grid = np.column_stack([a.ravel() for a in np.meshgrid(grid_values, grid_values)])

        # The figure: left the controls, in the middle the map, right the loss curves and
        # the state of training, below the hidden nodes' maps.
        self.fig = plt.figure(figsize=(13.5, 7.6))
        if notebook:
            # A notebook would show the figure under this cell, half built, and close it;
            # it is shown under the last cell instead, where it is saved.  (Not when the
            # figure is the window: ipympl's, %matplotlib widget, in the cell.)
            plt.close(self.fig)
        try:
            self.fig.canvas.manager.set_window_title("Playground: a small Keras network, live")
        except AttributeError:  # a canvas without a window
            pass
        # The sliders first: a new slider draws the figure (matplotlib's Slider sets its value
        # and asks for a drawing), which, on a canvas that draws at once (Agg, a notebook's
        # inline backend), costs a drawing of everything made before it.
        self.sliders = self._make_sliders()
        self.map_axes, self.probability_image, self.scatters, self.map_legend = self._make_map()
        (self.loss_axes, self.training_line, self.validation_line, self.best_line,
         self.best_marker) = self._make_loss_axes()
        self.info_axes = self.fig.add_axes([0.655, 0.235, 0.335, 0.32])
        self.info_axes.set_axis_off()
        self.status_text = self.info_axes.text(0.02, 1.0, "", fontsize=9, va="top",
                                               family="monospace", clip_on=True)
        self.description_text = self.info_axes.text(0.02, 0.68, "", fontsize=8, va="top",
                                                     clip_on=True)
        self.node_axes, self.node_images = self._make_node_maps()
        # Outside every animated axes: a frame redraws those from a picture kept earlier.
        self.node_note = self.fig.text(0.34, 0.205, "", fontsize=9)

        # The controls, each with its handler.
        self.buttons = {}
        for name, label, left, width, handler in (
                ("play", "Play", 0.015, 0.05, self.on_play),
                ("step", "Step", 0.07, 0.05, self.on_step),
                ("reset", "Reset", 0.125, 0.05, self.on_reset),
                ("preset", "Next preset", 0.18, 0.07, self.on_next_preset),
                ("code", "Code", 0.255, 0.05, self.on_code),
                ("clear", "Clear points", 0.45, 0.08, self.on_clear_points),
                ("save", "Save points", 0.54, 0.08, self.on_save_points)):
            bottom = 0.93 if left < 0.3 else 0.285
            self.buttons[name] = self._button([left, bottom, width, 0.045], label, handler)
        self.dataset_radio = self._radio([0.015, 0.69, 0.085, 0.17], "data set",
                                         (*toydata.NAMES, lesson.own_points),
                                         self.settings["dataset"], self.on_dataset)
        self.activation_radio = self._radio([0.015, 0.41, 0.085, 0.23], "activation",
                                            lesson.activations, self.settings["activation"],
                                            self.on_activation)
        self.click_radio = self._radio([0.34, 0.225, 0.1, 0.115], "left click on the map:",
                                       CLICK_ACTIONS, CLICK_ACTIONS[0], None)
        self.fig.text(0.45, 0.245, "right click: class 1", fontsize=8)
        self.feature_checks = self._make_feature_checks()
        self.fig.canvas.mpl_connect("button_press_event", self.on_map_click)

        self._new_points()
        self._new_network()
        self._update()

    # ------------------------------------------------------------------
    # Building the figure
    # ------------------------------------------------------------------
    def _make_map(self):
        from matplotlib.colors import ListedColormap
        from matplotlib.lines import Line2D

        ax = self.fig.add_axes([0.34, 0.43, 0.28, 0.5])
        # coolwarm, faded towards white as with alpha 0.6 but opaque: a frame draws the new
        # map over the old one, which must not shine through.
        faded = ListedColormap(0.4 + 0.6 * plotting.pyplot().get_cmap("coolwarm")(
            np.linspace(0, 1, 256))[:, :3])
        image = ax.imshow(np.full((GRID_SIZE, GRID_SIZE), 0.5), origin="lower",
                          extent=(-LIMIT, LIMIT, -LIMIT, LIMIT), cmap=faded, vmin=0, vmax=1,
                          interpolation="bilinear")
        scatters = {part: ax.scatter(np.zeros(0), np.zeros(0), s=14, marker=marker,
                                     linewidths=0.6)
                    for part, (marker, _) in MARKERS.items()}
        ax.set_xlim(-LIMIT, LIMIT)
        ax.set_ylim(-LIMIT, LIMIT)
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        ax.set_title("probability of class 1 (red) and the points", fontsize=10)
        legend = ax.legend(handles=[Line2D([], [], marker=marker, linestyle="none",
                                           color="black", label=label,
                                           markerfacecolor="white" if part == "test" else "grey")
                                    for part, (marker, label) in MARKERS.items()],
                           loc="upper left", fontsize=7, framealpha=0.7)
        return ax, image, scatters, legend

    def _make_loss_axes(self):
        ax = self.fig.add_axes([0.69, 0.62, 0.29, 0.31])
        training_line, = ax.plot([], [], "o-", markersize=2, label="training loss")
        validation_line, = ax.plot([], [], "s--", markersize=2, label="validation loss")
        # The best epoch (lowest validation loss) marked as in the other scripts' curves.
        best_line = ax.axvline(1, color="grey", linestyle=":", label="best epoch")
        best_marker, = ax.plot([], [], "*", color="black", markersize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.set_xlim(0.5, 10.5)
        ax.set_ylim(0, 1)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
        return ax, training_line, validation_line, best_line, best_marker

    def _make_node_maps(self):
        axes, images = [], []
        for index in range(NODE_MAPS):
            ax = self.fig.add_axes([0.34 + 0.0805 * index, 0.04, 0.075, 0.135])
            images.append(ax.imshow(np.zeros((GRID_SIZE, GRID_SIZE)), origin="lower",
                                    extent=(-LIMIT, LIMIT, -LIMIT, LIMIT), cmap="PuOr_r",
                                    interpolation="bilinear", vmin=-1, vmax=1))
            ax.set_xticks([])
            ax.set_yticks([])
            # No frame: the image, drawn anew over it in every frame, would cover half of it;
            # a node that is not there is a blank map, white on white.
            ax.set_frame_on(False)
            axes.append(ax)
        return axes, images

    def _button(self, rectangle, label, handler):
        from matplotlib.widgets import Button

        button = Button(self.fig.add_axes(rectangle), label)
        button.label.set_fontsize(9)
        button.on_clicked(handler)
        return button

    def _titled_axes(self, rectangle, title):
        ax = self.fig.add_axes(rectangle)
        ax.set_title(title, fontsize=9, loc="left")
        return ax

    def _radio(self, rectangle, title, labels, selected, handler):
        from matplotlib.widgets import RadioButtons

        radio = RadioButtons(self._titled_axes(rectangle, title), labels,
                             active=list(labels).index(selected))
        for label in radio.labels:
            label.set_fontsize(9)
        if handler is not None:
            radio.on_clicked(handler)
            radio.drawon = False  # the handler draws the figure
        return radio

    def _make_feature_checks(self):
        from matplotlib.widgets import CheckButtons

        names = list(self.lesson.features)
        checks = CheckButtons(self._titled_axes([0.015, 0.07, 0.085, 0.28], "input features"),
                              [self.lesson.features[name] for name in names],
                              [name in self.settings["features"] for name in names])
        for label in checks.labels:
            label.set_fontsize(9)
        checks.on_clicked(self.on_features)
        checks.drawon = False  # the handler draws the figure
        return checks

    def _make_sliders(self):
        from matplotlib.widgets import Slider

        lesson, settings = self.lesson, self.settings
        fewest, most = lesson.points_range
        rows = [("noise", "noise", 0.0, 1.0, settings["noise"], 0.05),
                ("points", "points", fewest, most, settings["points"], 50),
                ("layers", "hidden layers", 0, lesson.max_layers, settings["layers"], 1)]
        rows += [(f"nodes_{layer}", f"nodes in layer {layer + 1}", 1, lesson.max_nodes,
                  settings["nodes"][layer], 1) for layer in range(lesson.max_layers)]
        # L2 and the learning rate: the slider runs over the index of the list of values.
        rows += [("dropout", "Dropout rate", 0.0, 0.95, settings["dropout"], 0.05),
                 ("l2", "L2 strength", 0, len(lesson.l2_strengths) - 1,
                  lesson.l2_strengths.index(settings["l2"]), 1),
                 ("learning_rate", "learning rate", 0, len(lesson.learning_rates) - 1,
                  lesson.learning_rates.index(settings["learning_rate"]), 1),
                 ("batch_size", "batch size", 1, lesson.max_batch_size, settings["batch_size"], 1)]
        sliders = {}
        for row, (name, label, low, high, value, step) in enumerate(rows):
            ax = self.fig.add_axes([0.205, 0.84 - 0.062 * row, 0.075, 0.03])
            slider = Slider(ax, label, low, high, valinit=value, valstep=step)
            slider.label.set_fontsize(9)
            slider.valtext.set_fontsize(9)
            slider.on_changed(lambda value, name=name: self.on_slider(name, value))
            slider.drawon = False  # the handler draws the figure
            sliders[name] = slider
        for name in ("l2", "learning_rate"):
            self._show_choice(sliders[name], name)
        return sliders

    def _show_choice(self, slider, name):
        """A slider over the index of a list of values shows the value, not its index."""
        slider.valtext.set_text(f"{self._choice(name, slider.val):g}")

    def _choice(self, name, index):
        values = self.lesson.l2_strengths if name == "l2" else self.lesson.learning_rates
        return values[int(round(index))]

    # ------------------------------------------------------------------
    # The points, the network, training
    # ------------------------------------------------------------------
    @property
    def own(self):
        """True while the data set is your own points."""
        return self.settings["dataset"] == self.lesson.own_points

    def _new_points(self):
        """The points of the data set chosen: a built-in one drawn anew, or yours."""
        if self.own:
            self.x, self.y = self.own_x, self.own_y
        else:
            self.x, self.y = self.lesson.make_points(self.settings, self.data_seed)
        self.parts = self.lesson.split(len(self.y))
        for part, scatter in self.scatters.items():
            part_x, part_y = self.x[self.parts[part]], self.y[self.parts[part]]
            colors = CLASS_COLORS[part_y.astype(int)]
            scatter.set_offsets(part_x.reshape(-1, 2))
            if part == "test":  # open squares, in the class's colour
                scatter.set_facecolor("none")
                scatter.set_edgecolor(colors)
            else:
                scatter.set_facecolor(colors)
                scatter.set_edgecolor("white")

    def _trainable(self):
        return len(self.y) >= toydata.MIN_OWN_POINTS and len(np.unique(self.y)) == 2

    def _new_network(self):
        """A new network from ``weight_seed`` on the points: epoch 0."""
        keras = compat.keras()
        self.model = self.lesson.build_network(self.settings, self.weight_seed)
        self.epoch, self.history, self.diagnosis, self.diverged = 0, {}, None, False
        # A second model that shares the first hidden layer: every node's output, for the maps.
        names = [layer.name for layer in self.model.layers]
        hidden = "hidden_1_leaky" if "hidden_1_leaky" in names else "hidden_1"
        small = self.settings["layers"] == 1 and self.settings["nodes"][0] <= NODE_MAPS
        self.node_model = (keras.Model(self.model.inputs[0], self.model.get_layer(hidden).output)
                           if small else None)
        self._new_batches()

    def _new_batches(self):
        """The network's inputs and the training and validation batches of the points."""
        self.inputs = self.lesson.input_features(self.x.reshape(-1, 2), self.settings["features"])
        self.batches = (self.lesson.training_batches(self.inputs, self.y, self.parts,
                                                     self.settings["batch_size"],
                                                     self.weight_seed)
                        if self._trainable() else None)
        self._measure_test_accuracy()

    def _measure_test_accuracy(self):
        test = self.parts["test"]
        if len(self.y[test]) == 0:
            self.test_accuracy = None
            return
        probability = self.model(self.inputs[test], training=False).numpy()[:, 0]
        self.test_accuracy = float(np.mean((probability > 0.5) == self.y[test]))

    def train(self, count=1):
        """Train ``count`` epochs (one call of the lesson's ``train_epochs``); a loss that is
        not a finite number stops it with :data:`DIVERGED`."""
        if self.batches is None:
            self.message = NEED_POINTS
            return
        history = self.lesson.train_epochs(self.model, self.batches, self.epoch, count)
        for key, values in history.items():
            self.history.setdefault(key, []).extend(float(value) for value in values)
        self.epoch += count
        self._measure_test_accuracy()
        self.diagnosis = training.diagnose(self.history)
        if not np.all(np.isfinite(self.history["loss"] + self.history["val_loss"])):
            self.diverged = True
            self.message = DIVERGED

    # ------------------------------------------------------------------
    # Drawing
    # ------------------------------------------------------------------
    def animated_artists(self):
        """The artists that change every epoch: what a frame draws anew."""
        return [self.probability_image, *self.scatters.values(), self.map_legend,
                self.training_line, self.validation_line, self.best_line, self.best_marker,
                self.status_text, self.description_text, *self.node_images]

    def _update(self):
        """Bring the artists up to date; True if the loss axes' limits changed."""
        settings = self.settings
        grid_inputs = self.lesson.input_features(self.grid, settings["features"])
        probability = self.model(grid_inputs, training=False).numpy()
        self.probability_image.set_data(np.nan_to_num(probability, nan=0.5)
                                        .reshape(GRID_SIZE, GRID_SIZE))
        epochs = np.arange(1, self.epoch + 1)
        loss, val_loss = self.history.get("loss", []), self.history.get("val_loss", [])
        self.training_line.set_data(epochs, loss)
        self.validation_line.set_data(epochs, val_loss)
        diagnosis = self.diagnosis
        best = diagnosis is not None and diagnosis.best_epoch is not None  # none if diverged
        self.best_line.set_visible(best)
        self.best_marker.set_visible(best)
        if best:
            self.best_line.set_xdata([diagnosis.best_epoch, diagnosis.best_epoch])
            self.best_marker.set_data([diagnosis.best_epoch], [val_loss[diagnosis.best_epoch - 1]])
        # The loss axes keep their limits while the curves fit in (a change of limits draws
        # the whole figure): the epochs double, the loss starts at 0.  Losses that are not
        # finite (diverged) are left out.
        limits_changed = False
        right = 10 * 2 ** int(np.ceil(np.log2(max(self.epoch, 10) / 10))) + 0.5
        if right != self.loss_axes.get_xlim()[1]:
            self.loss_axes.set_xlim(0.5, right)
            limits_changed = True
        finite = [value for value in loss + val_loss if np.isfinite(value)]
        highest = max(finite, default=0.5)
        top = self.loss_axes.get_ylim()[1]
        if not 0.6 * top < highest * 1.1 <= top:
            self.loss_axes.set_ylim(0, highest * 1.2 if highest > 0 else 1)
            limits_changed = True
        self.status_text.set_text(self._status())
        # The verdict in short, with its numbers (the whole sentence is printed at the end).
        verdict = "Verdict: " + diagnosis.summary() if diagnosis is not None else ""
        preset = (f"Preset {self.preset}: {self.lesson.presets[self.preset]['description']}"
                  if self.preset else "")
        self.description_text.set_text("\n".join(textwrap.fill(text, 66) for text in
                                                 (self.message, verdict, preset) if text))
        self._update_node_maps(grid_inputs)
        return limits_changed

    def _status(self):
        accuracy = "-" if self.test_accuracy is None else f"{self.test_accuracy:.3f}"
        counts = ", ".join(f"{part} {len(self.y[self.parts[part]])}" for part in self.parts)
        lines = [f"Epoch {self.epoch}"]
        if self.epoch:
            lines.append(f"accuracy  training {self.history['accuracy'][-1]:.3f}  "
                         f"validation {self.history['val_accuracy'][-1]:.3f}")
            lines.append(f"          test {accuracy}")
        else:
            lines += [f"accuracy  test {accuracy} (initial weights)", ""]
        lines.append(f"points: {counts}")
        lines.append(f"initial weights: seed {self.weight_seed}")
        return "\n".join(lines)

    def _update_node_maps(self, grid_inputs):
        if self.node_model is None:
            self.node_note.set_text("Hidden nodes: each node's map is shown for one hidden "
                                    "layer of at most 8 nodes.")
            outputs = np.zeros((len(grid_inputs), 0))
        else:
            self.node_note.set_text("Hidden nodes: the output of each node of the hidden "
                                    "layer (orange high, purple low)")
            outputs = self.node_model(grid_inputs, training=False).numpy()
        for index, (ax, image) in enumerate(zip(self.node_axes, self.node_images)):
            # A node that is not there: a blank map (an opaque one: see the module's doc).
            shown = index < outputs.shape[1]
            values = np.nan_to_num(outputs[:, index]) if shown else np.zeros(len(grid_inputs))
            image.set_data(values.reshape(GRID_SIZE, GRID_SIZE))
            low, high = (float(values.min()), float(values.max())) if shown else (-1.0, 1.0)
            image.set_clim(low, high if high > low else low + 1e-6)
            ax.set_title(f"node {index + 1}" if shown else "", fontsize=8)

    def draw(self):
        """Bring everything up to date and draw the whole figure (after a change)."""
        self._update()
        # While it plays, the frames draw them; where the canvas cannot blit (ipympl in a
        # notebook), FuncAnimation draws the whole figure instead, with them in it.
        for artist in self.animated_artists():
            artist.set_animated(self.playing and self.fig.canvas.supports_blit)
        if self.playing:
            self.fig.canvas.draw()  # now: the next frame keeps this picture of the rest
        else:
            self.fig.canvas.draw_idle()

    def frame(self, number):
        """One frame while it plays (FuncAnimation calls it): train one epoch, return the
        artists to draw anew."""
        if self.playing:
            self.train(1)
            if self.diverged or self.batches is None:  # nothing more to train
                self._stop_playing()
        elif self.animation is not None:  # a resized window restarts the animation's timer
            self.animation.event_source.stop()
        if not self.playing:
            # No artist to draw anew: FuncAnimation draws the whole figure instead, with
            # every artist in it (the new label of the Play button too).
            self._update()
            for artist in self.animated_artists():
                artist.set_animated(False)
            return []
        if self._update():  # new limits of the loss axes: the whole figure, now
            self.fig.canvas.draw()
        return self.animated_artists()

    def _first_frame(self):
        """FuncAnimation's ``init_func``: the artists that frames draw (none while paused)."""
        return self.animated_artists() if self.playing else []

    def _stop_playing(self):
        self.playing = False
        self.buttons["play"].label.set_text("Play")
        if self.animation is not None:
            self.animation.pause()

    def final_figure(self):
        """The figure brought up to date, every artist in it: to save (or show in a notebook)."""
        self._update()
        for artist in self.animated_artists():
            artist.set_animated(False)
        return self.fig

    # ------------------------------------------------------------------
    # Handlers, one per control
    # ------------------------------------------------------------------
    def on_play(self, event=None):
        """Play: one epoch per frame until Pause (or until training diverges)."""
        if self.playing:
            self._stop_playing()
            self.draw()
            return
        if self.batches is None:
            self.message = NEED_POINTS
            self.draw()
            return
        from matplotlib.animation import FuncAnimation

        self.playing = True
        self.buttons["play"].label.set_text("Pause")
        if self.animation is None:
            self.animation = FuncAnimation(self.fig, self.frame,
                                           init_func=self._first_frame,
                                           interval=FRAME_INTERVAL_MS, blit=True,
                                           cache_frame_data=False)
        else:
            self.animation.resume()
        self.draw()  # the picture the frames draw on, without the animated artists

    def on_step(self, event=None):
        """Step: train one epoch."""
        self.train(1)
        self.draw()

    def on_reset(self, event=None):
        """Reset: new initial weights (the next seed) for the same points, epoch 0."""
        self.weight_seed += 1
        self._new_network()
        self.message = f"Reset: new initial weights (seed {self.weight_seed}), epoch 0."
        print(self.message)
        self.draw()

    def on_next_preset(self, event=None):
        names = list(self.lesson.presets)
        following = names[(names.index(self.preset) + 1) % len(names)] if self.preset else names[0]
        self.apply_preset(following)

    def apply_preset(self, name):
        """Move every control to the preset's settings; one new network."""
        self.settings = {**self.lesson.defaults, "nodes": list(self.lesson.defaults["nodes"]),
                         **self.lesson.presets[name]["settings"]}
        self.preset = name
        self._set_controls()
        self._rebuild(f"preset {name}", new_points=True)
        print(f"Preset {name}: {self.lesson.presets[name]['description']}")

    def _set_controls(self):
        """Move every control to ``self.settings``, its callbacks and drawing switched off."""
        settings = self.settings
        widgets = [self.dataset_radio, self.activation_radio, self.feature_checks,
                   *self.sliders.values()]
        for widget in widgets:
            widget.eventson = False
        self.dataset_radio.set_active([label.get_text() for label in self.dataset_radio.labels]
                                      .index(settings["dataset"]))
        self.activation_radio.set_active(list(self.lesson.activations).index(settings["activation"]))
        for index, (name, ticked) in enumerate(zip(self.lesson.features,
                                                   self.feature_checks.get_status())):
            if ticked != (name in settings["features"]):
                self.feature_checks.set_active(index)
        for name in ("noise", "points", "layers", "dropout", "batch_size"):
            self.sliders[name].set_val(settings[name])
        for layer in range(self.lesson.max_layers):
            self.sliders[f"nodes_{layer}"].set_val(settings["nodes"][layer])
        self.sliders["l2"].set_val(self.lesson.l2_strengths.index(settings["l2"]))
        self.sliders["learning_rate"].set_val(
            self.lesson.learning_rates.index(settings["learning_rate"]))
        for name in ("l2", "learning_rate"):
            self._show_choice(self.sliders[name], name)
        for widget in widgets:
            widget.eventson = True

    def _rebuild(self, change, new_points=False):
        if new_points:
            self._new_points()
        self._new_network()
        self.message = f"Rebuilt the network ({change}): epoch 0."
        print(f"Rebuilt the network ({change}): {self.lesson.describe(self.settings)}; epoch 0.")
        self.draw()

    def _change(self, name, value):
        old = self.settings[name]
        if value == old:  # nothing to rebuild: the control is drawn where it stopped
            self.fig.canvas.draw_idle()
            return
        self.settings[name] = value
        self._rebuild(f"{name.replace('_', ' ')} {old} -> {value}",
                      new_points=name in ("dataset", "points", "noise"))

    def on_dataset(self, label):
        self._change("dataset", label)

    def on_activation(self, label):
        self._change("activation", label)

    def on_features(self, label):
        chosen = [name for name, ticked in zip(self.lesson.features,
                                               self.feature_checks.get_status()) if ticked]
        if not chosen:  # the network needs at least one input
            print("The network needs at least one input feature: x1 stays ticked.")
            self.feature_checks.eventson = False
            self.feature_checks.set_active(0)
            self.feature_checks.eventson = True
            chosen = [next(iter(self.lesson.features))]
        self._change("features", chosen)

    def on_slider(self, name, value):
        if name in ("l2", "learning_rate"):
            self._show_choice(self.sliders[name], name)
            value = self._choice(name, value)
        elif name in ("points", "layers", "batch_size") or name.startswith("nodes"):
            value = int(round(value))
        else:
            value = round(float(value), 2)
        if name.startswith("nodes"):
            layer = int(name.split("_")[1])
            nodes = list(self.settings["nodes"])
            nodes[layer] = value
            if layer >= self.settings["layers"]:  # a layer not in the network: no rebuild
                self.settings["nodes"] = nodes
                self.fig.canvas.draw_idle()
                return
            name, value = "nodes", nodes
        self._change(name, value)

    def on_code(self, event=None):
        self.save_code()

    def save_code(self):
        """Print the network's Keras code and save it (your points beside it); its path."""
        path = self._free_path("playground_network", ".py")
        points_file = None
        if self.own:
            points_file = f"{path.stem}_points.csv"
            toydata.save_points(path.with_name(points_file), self.x, self.y)
        accuracy = "-" if self.test_accuracy is None else f"{self.test_accuracy:.4f}"
        note = (f"Written by playground.py at epoch {self.epoch} (test accuracy {accuracy} "
                f"there).  ")
        code = self.lesson.keras_code(self.settings, self.data_seed, self.weight_seed,
                                      self.epoch or self.default_epochs, len(self.y),
                                      points_file=points_file, note=note)
        code = code.replace("{path}", str(path))
        print(code)
        path.write_text(code, encoding="utf-8")
        print(f"Saved {path}" + (f" and {points_file}" if points_file else ""))
        self.code_path = path
        return path

    def _free_path(self, stem, suffix):
        """``outdir/stem.suffix``, or ``stem_2``, ``stem_3`` ...: never over an earlier one."""
        path, number = self.outdir / f"{stem}{suffix}", 1
        while path.exists():
            number += 1
            path = self.outdir / f"{stem}_{number}{suffix}"
        return path

    def on_save_points(self, event=None):
        self.save_points()

    def save_points(self):
        """Save the points shown as CSV (``x1,x2,label``); its path."""
        path = self._free_path("playground_points", ".csv")
        toydata.save_points(path, self.x, self.y)
        self.points_path = path
        self.message = f"Saved {len(self.y)} points to {path}: python playground.py --data {path}"
        print(self.message)
        self.draw()
        return path

    def on_clear_points(self, event=None):
        self.own_x, self.own_y = np.zeros((0, 2), dtype="float32"), np.zeros(0, dtype="float32")
        self._to_own_points()
        self._points_edited("Cleared your points. " + NEED_POINTS)

    def _to_own_points(self):
        """Make your points the data set, its radio button too (without a rebuild)."""
        if not self.own:
            self.settings["dataset"] = self.lesson.own_points
            self.dataset_radio.eventson = False
            self.dataset_radio.set_active(len(self.dataset_radio.labels) - 1)
            self.dataset_radio.eventson = True

    def on_map_click(self, event):
        """A click on the map: add a point of a class, or erase the nearest point."""
        toolbar = getattr(self.fig.canvas, "toolbar", None)
        if event.inaxes is not self.map_axes or event.xdata is None or (
                toolbar is not None and toolbar.mode):  # zooming or panning
            return
        action = CLICK_ACTIONS[1] if event.button == 3 else self.click_radio.value_selected
        if not self.own:  # the first click: your points start from the points shown
            self.own_x, self.own_y = self.x.copy(), self.y.copy()
            first = f"Your points: the {self.settings['dataset']} points to start from. "
            self._to_own_points()
        else:
            first = ""
        point = np.array([event.xdata, event.ydata], dtype="float32")
        if action == "erase":
            distances = np.hypot(*(self.own_x - point).T) if len(self.own_y) else np.zeros(0)
            if not len(distances) or distances.min() > ERASE_RADIUS:
                self._points_edited(first + "No point there to erase.")
                return
            nearest = int(distances.argmin())
            self.own_x = np.delete(self.own_x, nearest, axis=0)
            self.own_y = np.delete(self.own_y, nearest)
            self._points_edited(first + f"Erased the point at ({point[0]:.1f}, {point[1]:.1f}).")
            return
        label = float(CLICK_ACTIONS.index(action))
        # A new point goes to a random place in the random order, so that it falls into
        # the training, validation or test points as 60:20:20.
        place = int(self.rng.integers(0, len(self.own_y) + 1))
        self.own_x = np.insert(self.own_x, place, point, axis=0)
        self.own_y = np.insert(self.own_y, place, label)
        self._points_edited(first + f"Added a point of class {int(label)} at "
                                    f"({point[0]:.1f}, {point[1]:.1f}).")

    def _points_edited(self, message):
        """Your points changed: the network goes on training on them (no new network)."""
        self._new_points()
        self._new_batches()
        self.message = message + (f" {len(self.y)} points." if self._trainable() else
                                  f" {len(self.y)} points: not enough to train.")
        self.draw()
