#!/usr/bin/env python3
"""Writes the hostile model and image fixtures of issue 13 (the NPZ/CSV ones come from
`make_data_fixtures.py --hostile`). Needs numpy and Pillow; no torch.

- tests/fixtures/images/gray16.png     a 16-bit grayscale PNG (decoded to 8-bit RGB)
- tests/fixtures/images/cmyk.jpg       a CMYK JPEG (decoded to RGB)
(tests/fixtures/images/jpeg_bomb.jpg is not written here: the image_decode fuzz target found it)
- tests/fixtures/models/hostile_pickle a tiny32 config with a `pytorch_model.bin` whose
                                       pickle REDUCEs os.system: it must be refused and
                                       nothing executed (it would create PICKLE_MARKER).
"""
import os
import pickle
import shutil
import zipfile

import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
PICKLE_MARKER = "/tmp/faceemo_hostile_pickle_ran"


class RunsACommand:
    def __reduce__(self):
        return (os.system, (f"touch {PICKLE_MARKER}",))


def main():
    images = os.path.join(ROOT, "images")
    ramp = (np.arange(40 * 24, dtype=np.uint32).reshape(24, 40) * 68).astype(np.uint16)
    Image.fromarray(ramp).save(os.path.join(images, "gray16.png"))
    cmyk = np.zeros((24, 40, 4), dtype=np.uint8)
    cmyk[..., 0] = np.linspace(0, 255, 40, dtype=np.uint8)
    cmyk[..., 2] = 128
    Image.frombytes("CMYK", (40, 24), cmyk.tobytes()).save(os.path.join(images, "cmyk.jpg"), quality=95)

    folder = os.path.join(ROOT, "models", "hostile_pickle")
    os.makedirs(folder, exist_ok=True)
    for name in ("config.json", "preprocessor_config.json"):
        shutil.copy(os.path.join(ROOT, "models", "tiny32", name), folder)
    payload = pickle.dumps({"vit.embeddings.cls_token": RunsACommand()}, protocol=2)
    with zipfile.ZipFile(os.path.join(folder, "pytorch_model.bin"), "w") as z:
        z.writestr("archive/data.pkl", payload)
        z.writestr("archive/version", "3\n")
    print("hostile fixtures written")


if __name__ == "__main__":
    main()
