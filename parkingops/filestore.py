"""The jobs' files kept in the database (``FILE_STORAGE=database``): every host reads them.

Exports are written by a worker and downloaded through whichever web host the load balancer
picks; an import's upload is written by a web host and read by a worker. On one machine
``MEDIA_ROOT`` serves both; on several, either ``MEDIA_ROOT`` is a directory they all mount, or
the files live here, in the database they already share (no other server to run).

A file is one ``StoredFile`` row and its content in ``StoredFileChunk`` rows of ``CHUNK_SIZE``
bytes (the last one shorter), written in one transaction and read one chunk at a time: a
150 MB export is never held in memory whole, by the worker writing it or the host serving it.
"""

import io

from django.core.files.base import File
from django.core.files.storage import Storage
from django.db import DEFAULT_DB_ALIAS, IntegrityError, models, transaction
from django.utils.deconstruct import deconstructible

CHUNK_SIZE = 1024 * 1024


class StoredFile(models.Model):
    """A file of the database storage, by its storage name (``jobs/out/2026/12/orders.csv``)."""

    name = models.CharField(max_length=300, unique=True)
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class StoredFileChunk(models.Model):
    """``CHUNK_SIZE`` bytes of a stored file, the ``number``-th from its start."""

    # The unique (file, number) is the index that finds a file's chunks: no second one.
    file = models.ForeignKey(
        StoredFile, on_delete=models.CASCADE, related_name="chunks", db_index=False
    )
    number = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["file", "number"], name="stored_file_chunk_once")
        ]

    def __str__(self) -> str:
        return f"{self.file_id} #{self.number}"


def _exact_chunks(content: File, size: int):
    """``content`` in pieces of exactly ``size`` bytes (the last one shorter): a chunk's
    number then tells where it starts, so a reader can seek."""
    pending = bytearray()
    for piece in content.chunks(size):
        pending += piece
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    if pending:
        yield bytes(pending)


class _ChunkReader(io.RawIOBase):
    """A stored file as a seekable binary stream, reading one chunk at a time."""

    def __init__(self, stored: StoredFile, chunk_size: int, using: str):
        super().__init__()
        self._stored, self._chunk_size, self._using = stored, chunk_size, using
        self._position = 0
        self._chunk_number: int | None = None
        self._chunk = memoryview(b"")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        start = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._stored.size}
        position = start[whence] + offset
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        self._position = position
        return position

    def readinto(self, buffer) -> int:
        number, offset = divmod(self._position, self._chunk_size)
        if number != self._chunk_number:
            data = (
                StoredFileChunk.objects.using(self._using)
                .filter(file=self._stored, number=number)
                .values_list("data", flat=True)
                .first()
            )
            self._chunk_number, self._chunk = number, memoryview(bytes(data or b""))
        count = max(0, min(len(buffer), len(self._chunk) - offset))
        buffer[:count] = self._chunk[offset : offset + count]
        self._position += count
        return count


@deconstructible(path="parkingops.filestore.DatabaseStorage")
class DatabaseStorage(Storage):
    """Django's storage API over ``StoredFile`` rows of the default database.

    Always the default (primary) database: a file is read right after it was written (an
    export's download, an import's worker), which a lagging replica may not have yet. Files are
    served only through the views that check who may have them, so there is no ``url()``.
    """

    def __init__(self, chunk_size: int = CHUNK_SIZE, using: str = DEFAULT_DB_ALIAS):
        self.chunk_size, self.using = chunk_size, using

    def _files(self):
        return StoredFile.objects.using(self.using)

    def _open(self, name: str, mode: str = "rb") -> File:
        if set(mode) - {"r", "b"}:
            raise ValueError(f"files in the database are read-only once saved, not {mode!r}")
        stored = self._files().filter(name=name).first()
        if stored is None:
            raise FileNotFoundError(f"no stored file {name!r}")
        reader = io.BufferedReader(_ChunkReader(stored, self.chunk_size, self.using))
        return File(reader, name=name)

    def _save(self, name: str, content: File) -> str:
        # Two workers may pick the same free name at once (two exports of one list): the
        # unique name decides, and the loser takes another free name.
        while True:
            try:
                with transaction.atomic(using=self.using):
                    stored = self._files().create(name=name)
                    size = 0
                    for number, data in enumerate(_exact_chunks(content, self.chunk_size)):
                        StoredFileChunk.objects.using(self.using).create(
                            file=stored, number=number, data=data
                        )
                        size += len(data)
                    self._files().filter(pk=stored.pk).update(size=size)
                return name
            except IntegrityError:
                if not self.exists(name):
                    raise
                name = self.get_available_name(
                    name, max_length=StoredFile._meta.get_field("name").max_length
                )

    def delete(self, name: str) -> None:
        self._files().filter(name=name).delete()

    def exists(self, name: str) -> bool:
        return self._files().filter(name=name).exists()

    def size(self, name: str) -> int:
        stored = self._files().filter(name=name).values_list("size", flat=True).first()
        if stored is None:
            raise FileNotFoundError(f"no stored file {name!r}")
        return stored

    def url(self, name: str) -> str:
        raise NotImplementedError("stored files are served by the views that check access")
