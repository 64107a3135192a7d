"""Stand-in for the demos branch's ``dnnkit/saved.py`` (issue 21, section 1): ``load_model`` only.

drawDigit.py is written against the interface in the helpers' notes
(``saved.load_model(script, models_dir)`` -> ``(model, info)``, a one-line
``UserError`` when there is none).  When the demos branch is merged, its
module replaces this file entirely.
"""

import json
from pathlib import Path

from dnnkit.errors import UserError


def load_model(script, models_dir="models"):
    """The network ``script`` saved in ``models_dir`` and its JSON, or a one-line UserError."""
    from dnnkit import compat

    keras = compat.keras()
    folder = Path(models_dir)
    # Keras 3 reads its own .keras format, Keras 2 (TensorFlow 2.4) its .h5.
    path = folder / (f"{script}.keras" if hasattr(keras, "version") else f"{script}.h5")
    if not path.is_file():
        raise UserError(f"no saved network {path}: train one with python {script}.py")
    try:
        model = keras.models.load_model(path)
    except (OSError, ValueError) as error:
        raise UserError(f"cannot read {path} ({error}): train it again with "
                        f"python {script}.py") from None
    info_path = folder / f"{script}.json"
    info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.is_file() else {}
    return model, info
