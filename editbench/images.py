"""Reading, checking and writing images: bytes in, PIL out, with Pillow's bomb protection kept on."""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

from PIL import Image

from editbench.errors import CaseError


def decode_png(data: bytes, what: str) -> Image.Image:
    """Decode image bytes fully into RGB; `what` names the file or case in the error."""
    limit = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise CaseError(
            f"{what}: image refused by the size limit ({exc}); "
            f"images must stay under {limit:,} pixels — downscale the file"
        ) from None
    except Image.UnidentifiedImageError:  # its message names the in-memory buffer, not the file
        raise CaseError(
            f"{what}: not a readable image (its format is none Pillow knows: PNG, JPEG, WebP, "
            "...); replace the file with a valid PNG/JPEG"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise CaseError(
            f"{what}: not a readable image ({exc}); replace the file with a valid PNG/JPEG"
        ) from None
    return image.convert("RGB") if image.mode != "RGB" else image


def read_image_file(path: Path, what: str) -> tuple[Image.Image, bytes]:
    """Load an image file; the error names the case and the path."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CaseError(
            f"{what}: image file {path} does not exist; add it or fix the path in the suite"
        ) from None
    except OSError as exc:
        raise CaseError(f"{what}: cannot read image file {path} ({exc.strerror})") from None
    return decode_png(data, f"{what}: {path}"), data


def encode_png(image: Image.Image) -> bytes:
    """PNG bytes, deterministic for the same pixels (no timestamps, fixed compression)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def thumbnail_jpeg(image: Image.Image, size: int = 160, quality: int = 70) -> bytes:
    """A small JPEG for reports: the longer side at most `size` pixels."""
    thumb = image.copy()
    thumb.thumbnail((size, size))
    buffer = io.BytesIO()
    thumb.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
