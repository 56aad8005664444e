"""Reading the charts back: their size, and the bars an eye would count."""

from __future__ import annotations

import io

from PIL import Image

from social_care.digest import charts


def pixel_size(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as picture:
        return picture.size


def bars_in(png: bytes) -> int:
    """The dark runs along a line just above the hour chart's x axis, right of its y axis: one per bar."""
    with Image.open(io.BytesIO(png)) as picture:
        grey = picture.convert("L")
        width, height = grey.size
        row = height - charts.SCALE * charts.BASELINE - 3
        inside = range(charts.SCALE * charts.LEFT_MARGIN, width)
        dark = [grey.getpixel((x, row)) < 128 for x in inside]  # type: ignore[operator]
    return sum(1 for number, pixel in enumerate(dark) if pixel and (number == 0 or not dark[number - 1]))
