"""Trained networks kept in ``--models-dir``, and shown again in seconds (``--pretrained``).

:func:`save` writes ``<script>.keras`` (Keras 3) or ``<script>.h5`` (Keras 2)
and ``<script>.json`` (history, date, versions, data, options, the training
accuracy of the accuracy gap, the model file's SHA-256); :func:`load_weights`
replaces ``model.fit`` with ``--pretrained``.  What does not change once the
network is trained (the history, the training time, the training accuracy) is
stored, so that ``--pretrained`` measures only the test set again.
Why the full model, not the weights only: the file carries its architecture,
so one that does not fit the network the script builds is named in one line
instead of failing with a shape error or loading silently.  Why ``.keras`` or
``.h5``: each Keras saves in the one-file format it reads back itself
(:func:`dnnkit.compat.model_file_suffix`); the other Keras is told to train its own.
"""

import datetime
import hashlib
import json
import os
import shlex
import sys
from pathlib import Path

from dnnkit import compat, runtime
from dnnkit.errors import UserError

#: Options that say where things go or how they are shown, not how the network was trained.
OUTPUT_OPTIONS = ("outdir", "no_show", "models_dir", "pretrained", "live", "cpu", "data_dir",
                  "no_sample", "data_source")
#: What decides whether a saved layer is the one the script builds (with its type and weights).
LAYER_SETTINGS = ("units", "activation", "rate", "filters", "kernel_size", "strides", "padding",
                  "pool_size", "use_bias")


def model_path(script, models_dir):
    """The file of ``script``'s network that this Keras writes and reads."""
    return Path(models_dir) / f"{script}{compat.model_file_suffix()}"


def training_command(script, models_dir):
    """The command that trains ``script``'s network: the options given now, without
    --pretrained and --live; without a command line of its own (notebook, drawing pad),
    ``python script.py`` with ``--models-dir`` where that is not the default."""
    if Path(sys.argv[0]).stem == script and not runtime.launched_as_notebook_kernel():
        given = [word for word in sys.argv[1:] if not (
            len(word) > 3 and ("--pretrained".startswith(word) or "--live".startswith(word)))]
    else:
        given = ([] if str(models_dir) == runtime.DEFAULT_MODELS_DIR
                 else ["--models-dir", str(models_dir)])
    return " ".join(shlex.quote(word) for word in ["python", f"{script}.py", *given])


def save(model, history, script, args, monitor=None, train_accuracy=None):
    """Save ``script``'s trained ``model`` and ``history`` (from ``model.fit``) into
    ``args.models_dir``, with the options of ``args``, the training time of ``monitor`` and
    the ``train_accuracy`` that the script measured after training (for the accuracy gap)."""
    path = model_path(script, args.models_dir)
    record = path.with_suffix(".json")
    history = {key: [float(value) for value in values] for key, values in history.history.items()}
    info = {
        "script": script,
        "model_file": path.name,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "epochs": len(history.get("loss", [])),
        "tensorflow": sys.modules["tensorflow"].__version__,
        "keras": compat.keras_version(),
        "data": getattr(getattr(args, "data_source", None), "line", "Data: unknown")[6:],
        "options": {key: (str(value) if isinstance(value, Path) else value)
                    for key, value in sorted(vars(args).items()) if key not in OUTPUT_OPTIONS},
        "training_seconds": getattr(monitor, "seconds", None),
        "train_accuracy": None if train_accuracy is None else float(train_accuracy),
        "history": history,
    }
    # Written under temporary names (with the suffix Keras 3 needs) and renamed into place
    # when both are complete: an interrupted save leaves the previous files whole.
    temporaries = [target.with_name(f".{target.stem}.{os.getpid()}.tmp{target.suffix}")
                   for target in (path, record)]
    try:
        model.save(str(temporaries[0]))
        info["model_sha256"] = hashlib.sha256(temporaries[0].read_bytes()).hexdigest()
        temporaries[1].write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
        for temporary, target in zip(temporaries, (path, record)):
            os.replace(temporary, target)
    except BaseException:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
        raise
    print(f"Saved the trained network in {path} and its history in {record}: "
          f"show it again in seconds with --pretrained.")


def nothing_saved(script, models_dir, command=None):
    """The :class:`UserError` of ``--pretrained`` where no network of ``script`` is saved."""
    command = command or training_command(script, models_dir)
    return UserError(f"no trained network of {script}.py in {Path(models_dir)}/ "
                     f"(--models-dir): train one first with `{command}`")


def require_saved(script, models_dir):
    """Raise :func:`nothing_saved`'s error unless ``models_dir`` holds a file of ``script``'s
    network (either Keras's model file or its record); the names only, before TensorFlow loads:
    :func:`load_model` checks the files themselves."""
    names = [f"{script}{suffix}" for suffix in (".json", ".keras", ".h5")]
    if not any((Path(models_dir) / name).exists() for name in names):
        raise nothing_saved(script, models_dir)


def load_model(script, models_dir, command=None):
    """``(model, info)``: ``script``'s saved network and its record; :class:`UserError` naming
    ``command`` when none is saved, a file is damaged or foreign, or this Keras cannot read it."""
    command = command or training_command(script, models_dir)
    path = model_path(script, models_dir)
    record = path.with_suffix(".json")
    again = f"train it again with `{command}`"
    if not record.exists() and not path.exists():
        raise nothing_saved(script, models_dir, command)
    try:
        info = json.loads(record.read_text(encoding="utf-8"))
        made_by = f"TensorFlow {info['tensorflow']} (Keras {info['keras']})"
        if not (info["history"]["loss"] and info["date"] and isinstance(info["options"], dict)):
            raise ValueError("incomplete")
    except (OSError, ValueError, KeyError, TypeError):
        raise UserError(f"{record}, the record of the network saved in {Path(models_dir)}/, "
                        f"is missing or damaged: {again}") from None
    if info.get("script") != script:
        raise UserError(f"{record} describes the network of {info.get('script')}.py, not of "
                        f"{script}.py: {again}")
    if info.get("model_file") != path.name:
        raise UserError(f"the network of {script}.py in {Path(models_dir)}/ is "
                        f"{info.get('model_file')}, saved by {made_by}; this Keras "
                        f"{compat.keras_version()} uses only its own {path.name}: {again}")
    if not path.is_file() or \
            hashlib.sha256(path.read_bytes()).hexdigest() != info.get("model_sha256"):
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
    """Instead of ``model.fit``: give ``model`` the weights of the saved network, if it has
    the same layers and training images; print what was loaded and what is stored rather
    than measured now, set ``args``'s training options and ``monitor.seconds`` to the saved
    ones; return ``(history, train_accuracy)``: the saved History and the training accuracy
    measured after training (None in a record saved before it was stored, with a note)."""
    command = training_command(script, args.models_dir)
    saved, info = load_model(script, args.models_dir, command)
    path, options = model_path(script, args.models_dir), info["options"]
    difference = _difference(saved, model)
    if difference:
        raise UserError(f"{path} is not the network {script}.py builds with the options given "
                        f"now ({difference}): train it with `{command}`")
    # The training accuracy is measured on the training images: the network's own.
    count = options.get("max_samples")
    if any(options.get(key) != getattr(args, key, None)
           for key in (("max_samples", "seed") if count else ("max_samples",))):
        subset = f"--max-samples {count} --seed {options.get('seed')}"
        images, show = ((f"a subset of {count} training images ({subset})",
                         f"with `{command} --pretrained {subset}`") if count
                        else ("all training images", "without --max-samples"))
        raise UserError(f"{path} was trained on {images}: show it {show}, or train one on the "
                        f"images chosen now with `{command}`")
    model.set_weights(saved.get_weights())
    seconds = info.get("training_seconds")
    print(f"Loaded the trained network from {path} (--pretrained: no training): trained on "
          f"{info['date']} for {info['epochs']} epoch{'s' if info['epochs'] != 1 else ''}"
          + (f" in {seconds:.0f} s" if seconds else "")
          + f", with TensorFlow {info['tensorflow']} (Keras {info['keras']}).")
    print(f"Its data: {info['data']}" + (f", a subset of {count} training images "
                                         f"(--max-samples)" if count else "") + ".")
    # The script then describes the network it shows, not the options given now.
    differing = sorted(key for key, value in options.items()
                       if key not in OUTPUT_OPTIONS and hasattr(args, key)
                       and getattr(args, key) != value)
    if differing:
        def given(values):
            return " ".join(f"--{key.replace('_', '-')} {values[key]}" for key in differing)

        print(f"Note: it was trained with {given(options)}, not {given(vars(args))} as "
              f"given now; --pretrained shows the saved network as it is.")
    for key in differing:
        setattr(args, key, options[key])
    if monitor is not None and seconds:
        monitor.seconds = seconds
    train_accuracy = info.get("train_accuracy")
    if train_accuracy is None:  # saved before the record kept it (or by drawDigit.py)
        print(f"Note: {path.with_suffix('.json')} stores no training accuracy, so no accuracy "
              f"gap is shown; `{command}` trains a network whose record has it.")
    print("Stored with the network, not measured now: the training curves and their verdict, "
          "the training time" + ("" if train_accuracy is None else
                                 f", the training accuracy {train_accuracy:.4f}")
          + ". Measured now: the test images.")
    history = compat.keras().callbacks.History()
    history.history = info["history"]
    history.epoch = list(range(info["epochs"]))
    return history, train_accuracy


def _difference(saved, built):
    """Where the saved model's layers differ from the built model's, in words; '' if nowhere."""
    def describe(layer):
        config = layer.get_config()
        settings = {key: config.get(key) for key in LAYER_SETTINGS}
        return {"type": type(layer).__name__,
                **json.loads(json.dumps(settings, default=str)),  # tuples as lists
                "weights": [list(weight.shape) for weight in layer.weights]}

    if len(saved.layers) != len(built.layers):
        return f"{len(saved.layers)} layers saved, {len(built.layers)} built"
    for number, (old, new) in enumerate(zip(saved.layers, built.layers), start=1):
        old, new = describe(old), describe(new)
        for key in new:
            if old[key] != new[key]:
                return f"layer {number}, {new['type']}: {key} {old[key]} saved, {new[key]} built"
    return ""
