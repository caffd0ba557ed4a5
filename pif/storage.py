"""Static files storage for production: whitenoise's hashed, compressed files, with two changes.

- viewflow's bundled roboto-fontface.css names font files (Roboto-Thin.woff2 and others) that its package does not
  ship; the strict storage then fails the whole `collectstatic`. A reference to a file that does not exist is left
  as it is written (the browser's request 404s, as it would without hashing); every other file is hashed.
- whitenoise compresses every file again on every `collectstatic` (gzip and Brotli at its best: minutes of CPU
  for viewflow's files). A file whose compressed copies are newer than itself is left as it is: a hashed name
  changes with its content, and collectstatic copies an unhashed file again only when it changed. `make prod`
  runs collectstatic at each start; the first one compresses everything."""

import os

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def hashed_name(self, name, content=None, filename=None):
        try:
            return super().hashed_name(name, content, filename)
        except ValueError:  # whitenoise's MissingFileError: the referenced file is not among the static files
            if content is None:
                return name
            raise

    def compress_files(self, paths):
        yield from super().compress_files([path for path in paths if not self._compressed_is_fresh(path)])

    def _compressed_is_fresh(self, path: str) -> bool:
        full = self.path(path)
        try:
            source = os.stat(full).st_mtime
        except OSError:
            return False
        copies = [full + ".gz", full + ".br"]
        found = [os.stat(copy).st_mtime for copy in copies if os.path.exists(copy)]
        return bool(found) and len(found) == len(copies) and min(found) >= source
