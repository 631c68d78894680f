"""Attachments are judged by their content: size, real type, and whether the file is whole."""

import hashlib
import io

import pytest
from PIL import Image

from carebridge.core.errors import Invalid
from carebridge.referrals.attachments import (
    MAX_ATTACHMENT_BYTES,
    MAX_FILENAME_CHARS,
    MAX_TOTAL_ATTACHMENT_BYTES,
    Upload,
    checked_upload,
    checked_uploads,
)

MB = 1024 * 1024


def _pdf(size: int = 0, marker: bytes = b"") -> bytes:
    """A PDF's structure, padded with a comment to exactly `size` bytes when asked."""
    head = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%" + marker
    tail = b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    padding = max(0, size - len(head) - len(tail))
    return head + b"x" * padding + tail


def _image(kind: str, colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, kind)
    return buffer.getvalue()


def _refusal(upload: Upload) -> str:
    with pytest.raises(Invalid) as refused:
        checked_upload(upload)
    assert refused.value.fields == {"attachments": refused.value.message}
    return refused.value.message


def test_a_pdf_is_accepted_with_its_size_and_digest():
    content = _pdf()
    attachment = checked_upload(Upload("Referral letter.pdf", content))
    assert attachment.filename == "Referral letter.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.content == content
    assert attachment.size == len(content)
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()


def test_exactly_5_mb_is_accepted():
    content = _pdf(MAX_ATTACHMENT_BYTES)
    assert len(content) == 5 * MB
    assert checked_upload(Upload("scan.pdf", content)).size == 5 * MB


def test_one_byte_over_5_mb_is_refused_naming_the_file_and_its_size():
    content = _pdf(MAX_ATTACHMENT_BYTES + 1)
    message = _refusal(Upload("scan.pdf", content))
    # Rounded up: a file over the limit never reads as "5.0 MB".
    assert message.startswith("scan.pdf is 5.1 MB; attachments can be at most 5 MB")


def test_a_large_file_reads_as_its_size():
    assert _refusal(Upload("ct-report.pdf", _pdf(int(6.15 * MB)))).startswith(
        "ct-report.pdf is 6.2 MB; attachments can be at most 5 MB"
    )


@pytest.mark.parametrize(
    "content",
    [
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200,  # Windows executable
        b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200,  # Linux executable
        b"#!/bin/sh\nrm -rf ~\n",  # script
        b"<html><script>alert(1)</script></html>",
    ],
    ids=["windows-exe", "elf", "script", "html"],
)
def test_an_executable_renamed_pdf_is_refused(content):
    message = _refusal(Upload("x.pdf", content))
    assert message == "x.pdf is not a PDF or an image: attach a PDF, PNG or JPEG."


def test_a_png_named_pdf_is_kept_as_the_png_it_is():
    attachment = checked_upload(Upload("scan.pdf", _image("PNG")))
    assert attachment.content_type == "image/png"
    assert attachment.filename == "scan.png"


def test_a_jpeg_keeps_its_jpeg_extension_and_gets_one_if_it_has_none():
    assert checked_upload(Upload("Photo.JPEG", _image("JPEG"))).filename == "Photo.jpeg"
    attachment = checked_upload(Upload("rash on forearm", _image("JPEG")))
    assert (attachment.filename, attachment.content_type) == ("rash on forearm.jpg", "image/jpeg")


def test_a_dotted_name_keeps_its_dots_and_gains_the_real_extension():
    assert checked_upload(Upload("bloods 12.05.26", _pdf())).filename == "bloods 12.05.26.pdf"


def test_an_empty_file_is_refused():
    assert _refusal(Upload("ecg.pdf", b"")).startswith("ecg.pdf is empty")


def test_a_pdf_cut_short_is_refused():
    whole = _pdf(20_000)
    message = _refusal(Upload("discharge.pdf", whole[: len(whole) // 2]))
    assert message.startswith("discharge.pdf is not a complete PDF")


def test_only_a_signature_is_not_a_file():
    assert _refusal(Upload("a.pdf", b"%PDF-")).startswith("a.pdf is not a complete PDF")
    assert _refusal(Upload("a.png", b"\x89PNG\r\n\x1a\n")).startswith("a.png is not a complete PNG image")
    assert _refusal(Upload("a.jpg", b"\xff\xd8\xff\xe0")).startswith("a.jpg is not a complete JPEG image")


def test_images_cut_short_are_refused():
    png, jpeg = _image("PNG"), _image("JPEG")
    assert _refusal(Upload("a.png", png[:-12])).startswith("a.png is not a complete PNG image")
    assert _refusal(Upload("a.jpg", jpeg[:-2])).startswith("a.jpg is not a complete JPEG image")


@pytest.mark.parametrize(
    "kind, words",
    [("TIFF", "a TIFF image"), ("GIF", "a GIF image"), ("BMP", "a BMP image"), ("WEBP", "a WebP image")],
)
def test_other_image_types_are_refused_saying_what_to_do(kind, words):
    message = _refusal(Upload(f"scan.{kind.lower()}", _image(kind)))
    assert message == f"scan.{kind.lower()} is {words}, which cannot be attached: save it as a PDF, PNG or JPEG."


@pytest.mark.parametrize(
    "given, stored",
    [
        ("C:\\Users\\grace\\Documents\\ecg.pdf", "ecg.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("/home/gp/letters/referral.pdf", "referral.pdf"),
        ("bad\x00name\r\n.pdf", "badname.pdf"),
        # A right-to-left override would show "scan\u202efdp.exe" as "scanexe.pdf".
        ("scan\u202efdp.exe", "scanfdp.pdf"),
        ('what?"<is>this*.pdf', "what___is_this_.pdf"),
        ("", "attachment.pdf"),
        (".pdf", "attachment.pdf"),
    ],
)
def test_the_stored_name_has_no_path_or_control_characters(given, stored):
    assert checked_upload(Upload(given, _pdf())).filename == stored


def test_a_long_name_is_shortened_keeping_its_extension():
    filename = checked_upload(Upload("a" * 300 + ".pdf", _pdf())).filename
    assert len(filename) == MAX_FILENAME_CHARS
    assert filename.endswith("a.pdf")


def test_several_uploads_are_checked_in_order():
    checked = checked_uploads([Upload("letter.pdf", _pdf()), Upload("photo.jpg", _image("JPEG"))])
    assert [(each.filename, each.content_type) for each in checked] == [
        ("letter.pdf", "application/pdf"),
        ("photo.jpg", "image/jpeg"),
    ]


def test_every_bad_file_is_named_in_one_refusal():
    with pytest.raises(Invalid) as refused:
        checked_uploads([Upload("good.pdf", _pdf()), Upload("x.pdf", b"MZ" + b"\0" * 64), Upload("e.png", b"")])
    message = refused.value.fields["attachments"]
    assert "x.pdf is not a PDF or an image" in message
    assert "e.png is empty" in message
    assert "good.pdf" not in message


def test_more_than_the_most_files_are_refused():
    uploads = [Upload(f"{number}.pdf", _pdf(marker=str(number).encode())) for number in range(4)]
    assert len(checked_uploads(uploads, max_files=4)) == 4
    with pytest.raises(Invalid) as refused:
        checked_uploads(uploads, max_files=3)
    assert refused.value.fields["attachments"] == "A referral can carry at most 3 attachments; 4 were attached."


def test_the_files_together_are_limited():
    just_under = [Upload(f"{n}.pdf", _pdf(4 * MB, marker=str(n).encode())) for n in range(3)]
    assert sum(each.size for each in checked_uploads(just_under)) <= MAX_TOTAL_ATTACHMENT_BYTES
    too_many = [Upload(f"{n}.pdf", _pdf(4 * MB, marker=str(n).encode())) for n in range(4)]
    with pytest.raises(Invalid) as refused:
        checked_uploads(too_many)
    assert refused.value.fields["attachments"].startswith(
        "The attachments come to 16.0 MB; together they can be at most 15 MB"
    )


def test_the_same_file_twice_is_kept_once_and_same_names_are_told_apart():
    first, second = _pdf(marker=b"first"), _pdf(marker=b"second")
    checked = checked_uploads(
        [Upload("scan.pdf", first), Upload("copy of scan.pdf", first), Upload("scan.pdf", second)]
    )
    assert [(each.filename, each.content) for each in checked] == [("scan.pdf", first), ("scan (2).pdf", second)]
