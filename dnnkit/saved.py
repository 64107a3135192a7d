"""Trained networks kept on disk, and shown again in seconds (``--pretrained``).

After ``model.fit``, a model script calls :func:`save`: in ``--models-dir``
(``models/`` by default) ``<script>.keras`` (Keras 3) or ``<script>.h5``
(Keras 2, TensorFlow 2.4) holds the full trained model, and ``<script>.json``
its training history and how it was made (date, epochs, TensorFlow and Keras
versions, data, options, training time).  With ``--pretrained`` the script
calls :func:`load_weights` instead of ``model.fit``: it checks that the saved
network is the one the script has just built, copies its weights into the
script's model and returns the saved history, and the script goes on as
after training.  :func:`load_model` gives the saved model itself (the
drawing pad uses it).

Why the full model, not the weights only: the file carries its own
architecture, so a file that does not fit the network the script builds
(another script's, other ``--hidden-nodes`` or ``--dropout``) is recognized
layer by layer and named in one line, instead of failing in Keras with a
shape error or, worse, loading silently.  Why ``.keras`` or ``.h5``: each
Keras saves in the one-file format it reads back itself
(:func:`dnnkit.compat.model_file_suffix`); a network saved by TensorFlow 2.4
is used by 2.4, one saved by Keras 3 by Keras 3, and the other one is told
to train its own.

Nothing saved is lost: both files are written under temporary names in the
same folder and renamed into place only when complete (an interrupted save
leaves the previous files whole), and only after a training that finished.  The
JSON holds the model file's SHA-256, so a damaged model file, or one whose
JSON belongs to another training, is recognized.
"""

import datetime
import hashlib
import json
import os
import shlex
import sys
import tempfile
from pathlib import Path

from dnnkit import compat, runtime
from dnnkit.errors import UserError

DEFAULT_MODELS_DIR = runtime.DEFAULT_MODELS_DIR
#: Options that say where things go or how they are shown, not how the network was trained.
OUTPUT_OPTIONS = ("outdir", "no_show", "models_dir", "pretrained", "live", "cpu", "data_dir",
                  "no_sample", "data_source")
#: What decides whether a saved layer is the layer the script builds (besides its type and
#: the shapes of its weights).
LAYER_SETTINGS = ("units", "activation", "rate", "filters", "kernel_size", "strides", "padding",
                  "pool_size", "use_bias")


def model_path(script, models_dir=DEFAULT_MODELS_DIR):
    """The file of ``script``'s network that this Keras writes and reads."""
    return Path(models_dir) / f"{script}{compat.model_file_suffix()}"


def info_path(script, models_dir=DEFAULT_MODELS_DIR):
    """The JSON file beside it: history, date, versions, data, options."""
    return Path(models_dir) / f"{script}.json"


def training_command(script, models_dir=DEFAULT_MODELS_DIR):
    """The command that trains ``script``'s network: its options given now, without --pretrained.

    Without a command line of its own (a notebook, the drawing pad), it is
    ``python script.py`` with ``--models-dir`` where that is not the default.
    """
    if Path(sys.argv[0]).stem == script and not runtime.launched_as_notebook_kernel():
        given = [word for word in sys.argv[1:] if not (
            len(word) > 3 and ("--pretrained".startswith(word) or "--live".startswith(word)))]
    else:
        given = [] if str(models_dir) == DEFAULT_MODELS_DIR else ["--models-dir", str(models_dir)]
    return " ".join(shlex.quote(word) for word in ["python", f"{script}.py", *given])


# ---------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------
def save(model, history, script, args, monitor=None):
    """Save the trained ``model`` and ``history`` (what ``model.fit`` returned) of ``script``.

    Into ``args.models_dir``; ``args`` gives the options and ``monitor``
    (:func:`dnnkit.training.monitor`) the training time.  Prints where.
    """
    models_dir = Path(args.models_dir)
    path, record = model_path(script, models_dir), info_path(script, models_dir)
    options = {key: (str(value) if isinstance(value, Path) else value)
               for key, value in sorted(vars(args).items()) if key not in OUTPUT_OPTIONS}
    history = {key: [float(value) for value in values] for key, values in history.history.items()}
    info = {
        "script": script,
        "model_file": path.name,
        "model_sha256": None,  # below
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "epochs": len(history.get("loss", [])),
        "tensorflow": sys.modules["tensorflow"].__version__,
        "keras": compat.keras_version(),
        "data": getattr(getattr(args, "data_source", None), "line", "Data: unknown")[6:],
        "options": options,
        "training_seconds": getattr(monitor, "seconds", None),
        "epoch_seconds": list(getattr(monitor, "epoch_seconds", [])),
        "history": history,
    }
    # Both files are written under temporary names first and renamed into
    # place only when both are complete: an interrupted save (Ctrl-C, a full
    # disk) leaves the previous network and its record whole.
    temporaries = [_temporary_beside(path), _temporary_beside(record)]
    try:
        model.save(str(temporaries[0]))
        info["model_sha256"] = _sha256(temporaries[0])
        temporaries[1].write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
        mask = os.umask(0)  # read by setting it; set straight back
        os.umask(mask)
        for temporary, target in zip(temporaries, (path, record)):
            os.chmod(temporary, 0o666 & ~mask)
            os.replace(temporary, target)
    except BaseException:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
        raise
    print(f"Saved the trained network in {path} and its history in {record}: "
          f"show it again in seconds with --pretrained.")


def _temporary_beside(path):
    """A new empty file beside ``path`` with the same suffix (Keras 3 needs ``.keras``)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.",
                                         suffix=f".tmp{path.suffix}")
    os.close(handle)
    return Path(temporary)


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------
def load_model(script, models_dir=DEFAULT_MODELS_DIR, command=None):
    """``(model, info)``: ``script``'s saved network and its JSON record as a dict.

    Raises :class:`UserError` with one line that names the command that
    trains it (``command``, by default :func:`training_command`) when no
    network is saved, when this Keras cannot read it (saved by another
    one), or when a file is damaged or does not belong to the other.
    """
    command = command or training_command(script, models_dir)
    path, record = model_path(script, models_dir), info_path(script, models_dir)
    again = f"train it again with `{command}`"
    if not record.exists() and not path.exists():
        raise UserError(f"no trained network of {script}.py in {Path(models_dir)}/ "
                        f"(--models-dir): train one first with `{command}`")
    try:
        info = json.loads(record.read_text(encoding="utf-8"))
        made_by = f"TensorFlow {info['tensorflow']} (Keras {info['keras']})"
        model_file = info["model_file"]
        if not (info["history"]["loss"] and info["date"] and isinstance(info["options"], dict)):
            raise ValueError("incomplete")
    except (OSError, ValueError, KeyError, TypeError):
        raise UserError(f"{record}, the record of the network saved in {Path(models_dir)}/, "
                        f"is missing or damaged: {again}") from None
    if info.get("script") != script:
        raise UserError(f"{record} describes the network of {info.get('script')}.py, not of "
                        f"{script}.py: {again}")
    if model_file != path.name:
        raise UserError(f"the network of {script}.py in {Path(models_dir)}/ is {model_file}, "
                        f"saved by {made_by}; this Keras {compat.keras_version()} uses only "
                        f"its own {path.name}: {again}")
    if not path.is_file() or _sha256(path) != info.get("model_sha256"):
        raise UserError(f"{path} is missing, damaged, or not the network that {record} "
                        f"describes: {again}")
    try:
        model = compat.keras().models.load_model(str(path), compile=False)
    except Exception as error:  # noqa: BLE001 -- whatever keeps this Keras from reading it
        reason = " ".join(str(error).split())[:120]
        raise UserError(f"this Keras {compat.keras_version()} cannot read {path}, saved by "
                        f"{made_by} ({type(error).__name__}: {reason}): {again}") from None
    return model, info


def load_weights(model, script, args, monitor=None):
    """Instead of ``model.fit``: give ``model`` the weights saved by an earlier training.

    The saved network must be the one the script has just built (same
    script, same layers and settings); else one line says so and names the
    command that trains it.  Prints what was loaded, sets the training
    options in ``args`` and the training time of ``monitor`` to the saved
    ones, and returns the saved history as a ``keras.callbacks.History``, as
    ``model.fit`` would.
    """
    command = training_command(script, args.models_dir)
    saved, info = load_model(script, args.models_dir, command)
    path = model_path(script, args.models_dir)
    difference = _difference(saved, model)
    if difference:
        raise UserError(f"{path} is not the network {script}.py builds with the options given "
                        f"now ({difference}): train it with `{command}`")
    _check_same_images(info["options"], args, path, command)
    model.set_weights(saved.get_weights())
    seconds = info.get("training_seconds")
    print(f"Loaded the trained network from {path} (--pretrained: no training): trained on "
          f"{info['date']} for {info['epochs']} epoch{'s' if info['epochs'] != 1 else ''}"
          + (f" in {seconds:.0f} s" if seconds else "")
          + f", with TensorFlow {info['tensorflow']} (Keras {info['keras']}).")
    print(f"Its data: {info['data']}"
          + (f", a subset of {info['options']['max_samples']} training images (--max-samples)"
             if info["options"].get("max_samples") else "") + ".")
    _use_saved_settings(info["options"], args)
    if monitor is not None and seconds:
        monitor.seconds, monitor.epoch_seconds = seconds, list(info.get("epoch_seconds", []))
    history = compat.keras().callbacks.History()
    history.history = info["history"]
    history.epoch = list(range(info["epochs"]))
    history.set_model(model)
    return history


def _difference(saved, built):
    """Where the saved model's layers differ from the built model's, in words; '' if nowhere."""
    def describe(layer):
        config = layer.get_config()
        settings = {key: config[key] for key in LAYER_SETTINGS if key in config}
        settings = json.loads(json.dumps(settings, default=str))  # tuples and lists alike
        shapes = [list(weight.shape) for weight in layer.weights]
        return type(layer).__name__, settings, shapes

    if len(saved.layers) != len(built.layers):
        return f"{len(saved.layers)} layers saved, {len(built.layers)} built"
    for number, (old, new) in enumerate(zip(saved.layers, built.layers), start=1):
        (old_type, old_settings, old_shapes), (new_type, new_settings, new_shapes) = \
            describe(old), describe(new)
        if old_type != new_type:
            return f"layer {number}: {old_type} saved, {new_type} built"
        for key in sorted(set(old_settings) | set(new_settings)):
            if old_settings.get(key) != new_settings.get(key):
                return (f"layer {number}, {new_type}: {key} {old_settings.get(key)} saved, "
                        f"{new_settings.get(key)} built")
        if old_shapes != new_shapes:
            return f"layer {number}, {new_type}: weights {old_shapes} saved, {new_shapes} built"
    return ""


def _check_same_images(saved_options, args, path, command):
    """One line if the network was trained on another subset than ``--max-samples`` picks now.

    The script measures the training accuracy on its training images: they
    must be the ones the network was trained on.
    """
    count = saved_options.get("max_samples")
    keys = ("max_samples", "seed") if count else ("max_samples",)
    if all(saved_options.get(key) == getattr(args, key, None) for key in keys):
        return
    if not count:
        raise UserError(f"{path} was trained on all training images: show it without "
                        f"--max-samples, or train one on the images chosen now with `{command}`")
    subset = f"--max-samples {count} --seed {saved_options.get('seed')}"
    raise UserError(f"{path} was trained on a subset of {count} training images ({subset}): "
                    f"show it with `{command} --pretrained {subset}`, or train one on "
                    f"the images chosen now with `{command}`")


def _use_saved_settings(saved_options, args):
    """Set ``args``'s training options to those of the saved training, with a note if they differ.

    The script then describes the network it shows (its epochs, its early
    stopping), not the options given now, which trained nothing.
    """
    current = {key: value for key, value in vars(args).items() if key not in OUTPUT_OPTIONS}
    differing = sorted(key for key in saved_options
                       if key in current and saved_options[key] != current[key])
    if differing:
        def options(values):
            return " ".join(f"--{key.replace('_', '-')} {values[key]}" for key in differing)

        print(f"Note: it was trained with {options(saved_options)}, not {options(current)} as "
              f"given now; --pretrained shows the saved network as it is.")
    for key in differing:
        setattr(args, key, saved_options[key])
