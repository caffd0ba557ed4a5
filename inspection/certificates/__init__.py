"""Certificates as signed PDFs: `documents` (what a certificate says), `render` (HTML to PDF),
`signing` (PAdES), `views` (verify, download, preview, revoke and replace)."""
