"""A digest's HTML as one file a browser opens: the charts inlined as data: URIs.

A mail names its images by Content-ID, which only a mail client resolves; a
browser opening the HTML from disk needs the bytes in the page. This is what
``social-care digest --html FILE`` writes, so a manager can look at the digest
before the first one is sent.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from social_care.mail import Mail


def inline_images(mail: Mail) -> str:
    """``mail``'s HTML with every ``cid:`` image replaced by its PNG as a data: URI."""
    page = mail.html
    for image in mail.images:
        data = base64.b64encode(image.png).decode("ascii")
        page = page.replace(f'"cid:{html.escape(image.content_id)}"', f'"data:image/png;base64,{data}"')
    return page


def write_preview(mail: Mail, path: Path) -> Path:
    """Write ``mail``'s HTML with its images inlined to ``path``; the path written."""
    path.write_text(inline_images(mail), encoding="utf-8")
    return path
