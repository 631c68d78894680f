"""Files attached to a referral: checked from their content before anything keeps or sends them.

A clinician attaches scanned letters, results and photographs. The hospital opens whatever arrives, so
what a file *is* is decided from its first bytes (its signature), never from its name or the type the
browser claims: an executable renamed `results.pdf` is refused, and a PNG named `scan.pdf` is kept as
the PNG it is, renamed `scan.png`. Each accepted type is also checked to be whole (a PDF ends with
`%%EOF`, a PNG has its header and end chunks, a JPEG its start and end markers), so a file cut short by
a broken upload is refused here rather than found unreadable by the hospital.

Only PDF, PNG and JPEG are accepted: every browser shows them inline and every hospital system takes
them. TIFF (scanners and faxes), GIF, HEIC (iPhone photos), BMP, WebP and Word documents are recognised
and refused with a message that says what to do instead, since a hospital clinician's browser cannot show
most of them and a Word document can carry macros.

Pure functions over plain values: no database, no Django models.
"""

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from carebridge.core.errors import Invalid

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
# All of a referral's attachments together. The referral email carries them base64-encoded (a third
# larger again), beside the letter, and many mail servers refuse a message over 25 MB: 15 MB of files
# is about 21 MB on the wire, which fits.
MAX_TOTAL_ATTACHMENT_BYTES = 15 * 1024 * 1024
MAX_ATTACHMENTS = 10
# Long enough for any name a person gives a file; short enough for a Content-Disposition header, an
# email client's attachment list and the filename column.
MAX_FILENAME_CHARS = 100

ACCEPTED = {"application/pdf": "PDF", "image/png": "PNG image", "image/jpeg": "JPEG image"}
_EXTENSION = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
# Extensions a stored name may keep for its type (a camera's .jpeg stays .jpeg).
_KEPT_EXTENSIONS = {"application/pdf": {"pdf"}, "image/png": {"png"}, "image/jpeg": {"jpg", "jpeg"}}
# Extensions that name a file type, and so are replaced by the real type's. Any other last part of a
# name ("bloods 12.05.26", "Dr. Smith") is part of the name, and the real extension goes after it.
_TYPE_EXTENSIONS = frozenset(
    {
        *("pdf", "png", "jpg", "jpeg", "jpe", "jfif", "gif", "tif", "tiff", "bmp", "webp", "heic", "heif"),
        *("doc", "docx", "odt", "rtf", "txt", "xls", "xlsx", "csv", "zip", "html", "htm", "xml", "eml"),
        *("exe", "com", "bat", "cmd", "msi", "dll", "scr", "sh", "bin", "elf", "js", "vbs", "ps1", "py"),
    }
)

_PDF_HEADER = re.compile(rb"%PDF-\d\.\d")
# Readers look for the end-of-file marker in the last kilobyte (the PDF reference's own allowance).
_PDF_TAIL_BYTES = 1024
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_HEADER_CHUNK = b"\x00\x00\x00\x0dIHDR"  # the first chunk, always 13 bytes long
_PNG_END_CHUNK = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_JPEG_START = b"\xff\xd8\xff"
_JPEG_END = b"\xff\xd9"

# Types people often try to attach, named so the message can say what to do.
_RECOGNISED_REFUSED = (
    (lambda c: c.startswith((b"II*\x00", b"MM\x00*")), "a TIFF image"),
    (lambda c: c.startswith((b"GIF87a", b"GIF89a")), "a GIF image"),
    (lambda c: c[4:8] == b"ftyp" and c[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heif"), "a HEIC photo"),
    (lambda c: c.startswith(b"BM") and int.from_bytes(c[2:6], "little") == len(c), "a BMP image"),
    (lambda c: c.startswith(b"RIFF") and c[8:12] == b"WEBP", "a WebP image"),
    (lambda c: c.startswith(b"PK\x03\x04") and b"word/" in c[:65536], "a Word document"),
    (lambda c: c.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "an older Office document"),
)


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: the name its sender gave it, and its bytes."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class CheckedAttachment:
    """A file that may be kept and sent: its cleaned name with the extension of its real type."""

    filename: str
    content_type: str
    content: bytes
    size: int
    sha256: str


def _refuse(message: str) -> Invalid:
    return Invalid(message, fields={"attachments": message})


def _megabytes(size: int) -> str:
    """Rounded up, so a file just over the limit never reads as exactly the limit."""
    return f"{math.ceil(size * 10 / (1024 * 1024)) / 10:.1f} MB"


def _shown_name(filename: str) -> str:
    """The name as the sender would recognise it in a message: without its folders or control characters."""
    base = re.split(r"[/\\]", filename or "")[-1]
    shown = "".join(char for char in base if unicodedata.category(char)[0] != "C").strip()
    return shown[:MAX_FILENAME_CHARS] or "The file"


def stored_filename(filename: str, content_type: str) -> str:
    """A safe name to keep and send the file under: no folders, no control or invisible characters
    (a right-to-left override can make `gpj.exe` read as `exe.jpg`), none of the characters file systems
    and headers refuse, at most MAX_FILENAME_CHARS long, ending in the extension of its real type."""
    base = unicodedata.normalize("NFC", re.split(r"[/\\]", filename or "")[-1])
    # Control (Cc), format (Cf: bidirectional overrides, zero-width) and unassigned characters go.
    base = "".join(char for char in base if unicodedata.category(char)[0] != "C")
    base = re.sub(r'[<>:"|?*]', "_", base)
    base = re.sub(r"\s+", " ", base).strip()
    stem, dot, extension = base.rpartition(".")
    if not dot:
        stem, extension = base, ""
    elif extension.lower() in _KEPT_EXTENSIONS[content_type]:
        extension = extension.lower()
    elif extension.lower() in _TYPE_EXTENSIONS:
        extension = _EXTENSION[content_type]
    else:
        stem, extension = base, ""
    if not extension:
        extension = _EXTENSION[content_type]
    stem = stem.strip(" .") or "attachment"
    return f"{stem[: MAX_FILENAME_CHARS - len(extension) - 1].rstrip(' .')}.{extension}"


def _content_type(content: bytes) -> str | None:
    """The accepted type the content's signature shows, or None."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(_PNG_SIGNATURE):
        return "image/png"
    if content.startswith(_JPEG_START):
        return "image/jpeg"
    return None


def _is_whole(content: bytes, content_type: str) -> bool:
    """Whether the file has the structure of its type from start to end, not only its first bytes."""
    if content_type == "application/pdf":
        return bool(_PDF_HEADER.match(content)) and b"obj" in content and b"%%EOF" in content[-_PDF_TAIL_BYTES:]
    if content_type == "image/png":
        return content[8:16] == _PNG_HEADER_CHUNK and content.rfind(_PNG_END_CHUNK) > 16
    # A JPEG's end marker need not be its last bytes: phones append their own data after it.
    return content.rfind(_JPEG_END) > len(_JPEG_START)


def checked_upload(upload: Upload) -> CheckedAttachment:
    """The upload, checked and renamed; Invalid (fields={"attachments": ...}) naming the file if refused."""
    name = _shown_name(upload.filename)
    content = upload.content
    if not content:
        raise _refuse(f"{name} is empty: attach the file again, or a copy that opens on your computer.")
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise _refuse(
            f"{name} is {_megabytes(len(content))}; attachments can be at most "
            f"{MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB. Scan it at a lower resolution, or split it."
        )
    content_type = _content_type(content)
    if content_type is None:
        recognised = next((words for matches, words in _RECOGNISED_REFUSED if matches(content)), None)
        if recognised:
            raise _refuse(f"{name} is {recognised}, which cannot be attached: save it as a PDF, PNG or JPEG.")
        raise _refuse(f"{name} is not a PDF or an image: attach a PDF, PNG or JPEG.")
    if not _is_whole(content, content_type):
        raise _refuse(
            f"{name} is not a complete {ACCEPTED[content_type]}: it may be damaged or cut short. "
            "Check it opens on your computer, then attach it again."
        )
    return CheckedAttachment(
        filename=stored_filename(upload.filename, content_type),
        content_type=content_type,
        content=content,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _distinct_name(filename: str, taken: set[str]) -> str:
    """`filename`, or `name (2).ext` and so on when another attachment already has that name."""
    if filename.lower() not in taken:
        return filename
    stem, _, extension = filename.rpartition(".")
    number = 2
    while f"{stem} ({number}).{extension}".lower() in taken:
        number += 1
    return f"{stem} ({number}).{extension}"


def checked_uploads(uploads: Iterable[Upload], max_files: int = MAX_ATTACHMENTS) -> list[CheckedAttachment]:
    """Several uploads checked together, in the order given.

    Every file's problem is named at once (the sender must choose the files again after a refusal, so
    one refusal per attempt would waste their time). The same content attached twice is kept once; two
    different files with the same name are told apart as `scan.pdf` and `scan (2).pdf`.
    """
    uploads = list(uploads)
    if len(uploads) > max_files:
        raise _refuse(f"A referral can carry at most {max_files} attachments; {len(uploads)} were attached.")
    problems: list[str] = []
    checked: list[CheckedAttachment] = []
    for upload in uploads:
        try:
            checked.append(checked_upload(upload))
        except Invalid as refusal:
            problems.append(refusal.message)
    if problems:
        raise _refuse(" ".join(problems))
    return _without_repeats(checked)


def _without_repeats(checked: Sequence[CheckedAttachment]) -> list[CheckedAttachment]:
    kept: list[CheckedAttachment] = []
    seen_content: set[str] = set()
    taken_names: set[str] = set()
    for attachment in checked:
        if attachment.sha256 in seen_content:
            continue
        seen_content.add(attachment.sha256)
        filename = _distinct_name(attachment.filename, taken_names)
        taken_names.add(filename.lower())
        kept.append(replace(attachment, filename=filename))
    total = sum(attachment.size for attachment in kept)
    if total > MAX_TOTAL_ATTACHMENT_BYTES:
        raise _refuse(
            f"The attachments come to {_megabytes(total)}; together they can be at most "
            f"{MAX_TOTAL_ATTACHMENT_BYTES // (1024 * 1024)} MB, so the referral email can be delivered. "
            "Leave out what the hospital does not need, or scan at a lower resolution."
        )
    return kept
