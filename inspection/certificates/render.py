"""HTML to PDF with WeasyPrint: a pure function of the HTML, with one font configuration, one pre-parsed
stylesheet and one image cache per process (built once, warmed when a worker process starts).

Rendering never touches the network or the file system beyond the shipped fonts and certificate styles:
`RestrictedFetcher` refuses every other URL, so a value typed by an importer can't make the renderer read a
file or call a server."""

import functools
import gc
import threading
from pathlib import Path

from django.conf import settings
from weasyprint import CSS, HTML, URLFetcher
from weasyprint.text.fonts import FontConfiguration

STYLE_DIR = Path(settings.BASE_DIR) / "static" / "certificates"
FONT_DIR = Path(settings.BASE_DIR) / "static" / "fonts"
ALLOWED_DIRS = (STYLE_DIR.resolve(), FONT_DIR.resolve())


class RestrictedFetcher(URLFetcher):
    """`data:` URLs (the QR code) and files inside the fonts and certificate-style folders; nothing else."""

    def __init__(self):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False, timeout=1)

    def fetch(self, url, headers=None):
        if url.startswith("file:"):
            from urllib.request import url2pathname

            path = Path(url2pathname(url.split("?")[0].removeprefix("file:"))).resolve()
            if not any(path.is_relative_to(folder) for folder in ALLOWED_DIRS):
                raise ValueError(f"URL outside the certificate folders refused: {url}")
        return super().fetch(url, headers)


class _Machinery:
    """What every render shares within a process. WeasyPrint's objects are not documented as thread-safe,
    so renders in one process take turns (Celery's prefork pool runs one task per process anyway)."""

    def __init__(self):
        self.fetcher = RestrictedFetcher()
        self.font_config = FontConfiguration()
        self.stylesheet = CSS(
            filename=str(STYLE_DIR / "certificate.css"), font_config=self.font_config, url_fetcher=self.fetcher
        )
        self.cache = {}
        self.lock = threading.Lock()


@functools.cache
def _machinery() -> _Machinery:
    return _Machinery()


def render_pdf(html: str) -> bytes:
    """PDF bytes of a certificate's HTML (from `templates/certificates/`).

    The garbage collector is paused during the render: WeasyPrint makes hundreds of thousands of short-lived
    objects, and the collector's passes over them cost about 7 % of the time (bench/README.md). Its garbage
    is collected as usual once the collector is back on."""
    machinery = _machinery()
    with machinery.lock:
        collecting = gc.isenabled()
        gc.disable()
        try:
            document = HTML(string=html, base_url=STYLE_DIR.as_uri() + "/", url_fetcher=machinery.fetcher)
            return document.write_pdf(
                stylesheets=[machinery.stylesheet],
                font_config=machinery.font_config,
                cache=machinery.cache,
                pdf_identifier=None,
            )
        finally:
            if collecting:
                gc.enable()


def warm() -> None:
    """Load fonts and styles now rather than on the first certificate (called when a worker process starts)."""
    render_pdf('<html lang="fr"><body><p>Prêt <i>Ready</i> <b>0123</b></p></body></html>')


def harfbuzz_subsetting_available() -> bool:
    """WeasyPrint subsets fonts with HarfBuzz when `libharfbuzz-subset0` is installed, about four times
    faster than its pure-Python fallback."""
    try:
        from weasyprint.text.ffi import harfbuzz_subset  # noqa: F401
    except (ImportError, OSError, AttributeError):
        return False
    return harfbuzz_subset is not None
