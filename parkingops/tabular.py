"""What every spreadsheet-bound file shares: formula-safe text cells and the CSV download."""

from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

BOM = "\ufeff"
# What makes Excel, LibreOffice or Google Sheets treat a cell as a formula (OWASP "CSV
# injection"), including the full-width forms that Chinese input methods produce.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def escape_formula(text: str) -> str:
    """Return ``text`` prefixed with ``'`` when a spreadsheet would run it as a formula."""
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def csv_response(pieces: Iterator[str], filename: str) -> StreamingHttpResponse:
    """Stream CSV text as a download (RFC 6266/5987 file name, never cached)."""
    response = StreamingHttpResponse(pieces, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response
