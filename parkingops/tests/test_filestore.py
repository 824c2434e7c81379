"""The jobs' files in the database (FILE_STORAGE=database): written in chunks, read back in
chunks, found by every host; an export downloaded and an import's upload read through it."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.http import FileResponse

from parkingops.filestore import DatabaseStorage, StoredFile, StoredFileChunk
from parkingops.jobs import runner
from parkingops.jobs.models import Job
from parkingops.jobs.testing import run_queued_jobs
from parkingops.tests.test_jobs_runner import count  # noqa: F401 (registers tests.count)

CHUNK = 10
# 2.5 chunks of bytes of every value, so a wrong offset shows.
CONTENT = bytes(range(256))[:25]


@pytest.fixture
def storage(db) -> DatabaseStorage:
    return DatabaseStorage(chunk_size=CHUNK)


def test_a_file_is_kept_in_chunks_and_read_back_whole(storage):
    name = storage.save("jobs/out/2026/12/orders.csv", ContentFile(CONTENT))

    assert name == "jobs/out/2026/12/orders.csv"
    chunks = StoredFileChunk.objects.filter(file__name=name).order_by("number")
    assert [len(chunk.data) for chunk in chunks] == [10, 10, 5]
    assert storage.exists(name) and storage.size(name) == 25
    with storage.open(name) as file:
        assert file.read() == CONTENT


def test_a_file_written_in_uneven_pieces_is_kept_in_whole_chunks(storage):
    class Pieces(ContentFile):
        def chunks(self, chunk_size=None):
            yield from (CONTENT[:3], CONTENT[3:17], CONTENT[17:])

    name = storage.save("in.csv", Pieces(CONTENT))

    assert [len(data) for data in StoredFileChunk.objects.values_list("data", flat=True)] == [
        10,
        10,
        5,
    ]
    assert storage.open(name).read() == CONTENT


def test_a_stored_file_is_read_in_pieces_and_seeks(storage):
    name = storage.save("out.csv", ContentFile(CONTENT))
    file = storage.open(name)

    assert file.read(7) == CONTENT[:7]
    assert file.read(7) == CONTENT[7:14]
    file.seek(18)
    assert file.tell() == 18
    assert file.read() == CONTENT[18:]
    assert file.read() == b""
    file.seek(-3, io.SEEK_END)
    assert file.read() == CONTENT[-3:]


def test_a_download_knows_its_length(storage):
    name = storage.save("out.csv", ContentFile(CONTENT))

    response = FileResponse(storage.open(name), as_attachment=True, filename="out.csv")

    assert response["Content-Length"] == "25"
    assert b"".join(response.streaming_content) == CONTENT


def test_an_empty_file_is_kept_too(storage):
    name = storage.save("empty.csv", ContentFile(b""))

    assert storage.size(name) == 0
    assert storage.open(name).read() == b""


def test_a_taken_name_gets_another_free_one(storage):
    first = storage.save("out.csv", ContentFile(b"first"))
    second = storage.save("out.csv", ContentFile(b"second"))

    assert first == "out.csv" and second != first and second.startswith("out_")
    assert storage.open(first).read() == b"first"
    assert storage.open(second).read() == b"second"


def test_of_two_saves_racing_for_one_name_the_later_takes_another(storage):
    storage.save("out.csv", ContentFile(b"first"))

    # Both found the name free; the other one inserted it first.
    second = storage._save("out.csv", ContentFile(b"second"))

    assert second != "out.csv"
    assert storage.open("out.csv").read() == b"first"
    assert storage.open(second).read() == b"second"


def test_a_deleted_or_unknown_file_is_not_found(storage):
    name = storage.save("out.csv", ContentFile(CONTENT))

    storage.delete(name)

    assert not storage.exists(name)
    assert not StoredFileChunk.objects.exists()
    with pytest.raises(FileNotFoundError):
        storage.open(name)
    with pytest.raises(FileNotFoundError):
        storage.size(name)
    storage.delete(name)  # nothing to delete: no error


def test_a_stored_file_is_never_written_in_place(storage):
    name = storage.save("out.csv", ContentFile(CONTENT))

    with pytest.raises(ValueError, match="read-only"):
        storage.open(name, "wb")


@pytest.mark.django_db(transaction=True)
def test_a_jobs_upload_and_its_export_live_files_in_the_database(client, files_in_the_database):
    clerk = User.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(clerk)
    job = runner.start_job(
        "tests.count",
        owner=clerk,
        params={"to": 1, "file": True},
        input_file=ContentFile(b"plates"),
    )
    assert StoredFile.objects.get(name=job.input_file.name).size == len(b"plates")

    run_queued_jobs()

    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED
    assert not job.input_file
    assert list(StoredFile.objects.values_list("name", flat=True)) == [job.file.name]
    answer = client.get(f"/admin/parkingops/job/{job.pk}/download/")
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == b"a,b\n"
