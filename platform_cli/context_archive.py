"""A build context as Docker would send it: `.dockerignore` applied, packed into a reproducible zip.

The same files (paths, bytes, executable bit) always give the same zip bytes and the same content hash,
so the content hash can serve as the image tag: an unchanged folder maps to an image that already exists.

The `.dockerignore` matcher is written here rather than taken from `pathspec` (already installed): its
gitignore patterns match an unanchored name at any depth (`*.log` leaves out `sub/a.log` and `foo` leaves
out `sub/foo/x`; Docker keeps both, its patterns are relative to the context root). The PyPI packages
that claim Docker's rules are a 2019 0.1 release (`ignore-file`) or a first 0.1 release
(`e2b-dockerfile-utils`); the tests pin moby's edge cases (`!` re-include, `**`, leading `/`) instead.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

DOCKERFILE = "Dockerfile"
DOCKERIGNORE = ".dockerignore"
# Docker sends these even when .dockerignore excludes them: the builder needs them.
ALWAYS_SENT = frozenset({DOCKERFILE, DOCKERIGNORE})

# 1980-01-01 is the earliest time a zip entry can hold; any fixed value makes the archive reproducible.
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
EXECUTABLE_MODE = 0o755
SYMLINK_MODE = 0o777
ZIP_UNIX_SYSTEM = 3  # so unzip honours the permission bits in external_attr
COMPRESS_LEVEL = 6
READ_CHUNK = 1024 * 1024
TAG_HASH_LENGTH = 16


class ContextError(Exception):
    """The folder cannot be packed as a build context; the message names the file and the fix."""


# --- .dockerignore -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IgnorePattern:
    """One `.dockerignore` line, cleaned as Docker cleans it and compiled to an anchored regex."""

    text: str
    exclusion: bool
    regex: re.Pattern[str]

    def matches(self, path: str) -> bool:
        return self.regex.fullmatch(path) is not None


def _clean_pattern(pattern: str) -> str:
    """Go's filepath.Clean, then a leading `/` dropped: patterns are relative to the context root."""
    collapsed = re.sub(r"/+", "/", pattern)
    cleaned = os.path.normpath(collapsed) if collapsed else collapsed
    cleaned = cleaned.replace(os.sep, "/")
    if len(cleaned) > 1 and cleaned.startswith("/"):
        cleaned = cleaned[1:]
    return cleaned


def _character_class(pattern: str, start: int, *, line: str) -> tuple[str, int]:
    """The class that opens just before `start`, as a regex, and the index just after its `]`."""
    first_member = start + 1 if start < len(pattern) and pattern[start] in "!^" else start
    end = pattern.find("]", first_member + 1 if first_member < len(pattern) else first_member)
    if end == -1:
        raise ContextError(f"{DOCKERIGNORE}: unclosed '[' in pattern {line!r}")
    members = pattern[start:end]
    if members.startswith("!"):  # filepath.Match spells negation [^...]; accept [!...] as well
        members = "^" + members[1:]
    return "[" + members.replace("\\", "\\\\").replace("[", "\\[") + "]", end + 1


def _pattern_regex(pattern: str, *, line: str) -> re.Pattern[str]:
    """Translate a pattern the way moby's patternmatcher does.

    `*` matches within one path segment, `?` one character other than `/`, `**` any number of segments
    (including none), `[...]` a character class, and `\\` escapes the next character.
    """
    regex = ""
    index = 0
    length = len(pattern)
    while index < length:
        char = pattern[index]
        index += 1
        if char == "*":
            if index < length and pattern[index] == "*":
                index += 1
                if index < length and pattern[index] == "/":
                    index += 1
                regex += ".*" if index == length else "(?:.*/)?"
            else:
                regex += "[^/]*"
        elif char == "?":
            regex += "[^/]"
        elif char == "\\":
            if index < length:
                regex += re.escape(pattern[index])
                index += 1
            else:
                regex += re.escape("\\")
        elif char == "[":
            class_regex, index = _character_class(pattern, index, line=line)
            regex += class_regex
        else:
            regex += re.escape(char)
    return re.compile(regex, re.DOTALL)


def parse_dockerignore(text: str) -> tuple[IgnorePattern, ...]:
    """Docker's reading of `.dockerignore`: `#` comments (only at the very start of a line), blank lines
    skipped, surrounding whitespace trimmed, `!` re-includes what earlier lines excluded."""
    patterns: list[IgnorePattern] = []
    for raw_line in text.removeprefix("\ufeff").splitlines():
        if raw_line.startswith("#"):
            continue
        line = raw_line.strip()
        if not line:
            continue
        exclusion = line.startswith("!")
        body = line[1:].strip() if exclusion else line
        if not body:
            continue
        cleaned = _clean_pattern(body)
        patterns.append(
            IgnorePattern(text=line, exclusion=exclusion, regex=_pattern_regex(cleaned, line=line))
        )
    return tuple(patterns)


@dataclass(frozen=True)
class DockerIgnore:
    """Decides, as Docker does, whether a path of the context is left out."""

    patterns: tuple[IgnorePattern, ...] = ()

    @classmethod
    def from_context(cls, context_dir: Path) -> DockerIgnore:
        ignore_file = context_dir / DOCKERIGNORE
        if not ignore_file.is_file():
            return cls()
        try:
            text = ignore_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ContextError(f"cannot read {ignore_file}: {error}") from error
        return cls(parse_dockerignore(text))

    @property
    def has_exceptions(self) -> bool:
        return any(pattern.exclusion for pattern in self.patterns)

    def is_ignored(self, path: str) -> bool:
        """`path` is relative to the context, with `/` separators.

        The last pattern that matches the path, or one of its parent folders, decides (moby's
        MatchesOrParentMatches): `build` leaves out `build/out/app.bin`, and a later `!build/keep.txt`
        brings that one file back.
        """
        parents = path.split("/")[:-1]
        ignored = False
        for pattern in self.patterns:
            # An exclusion can only change a path already left out, and vice versa.
            if pattern.exclusion != ignored:
                continue
            matched = pattern.matches(path) or any(
                pattern.matches("/".join(parents[: depth + 1])) for depth in range(len(parents))
            )
            if matched:
                ignored = not pattern.exclusion
        return ignored


# --- walking and packing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ContextEntry:
    """A file or symbolic link of the context, by its path relative to the context root."""

    path: str
    absolute_path: Path
    mode: int
    is_symlink: bool


def _entry(context_dir: Path, relative: str) -> ContextEntry | None:
    absolute = context_dir / relative
    info = absolute.lstat()
    if stat.S_ISLNK(info.st_mode):
        return ContextEntry(relative, absolute, SYMLINK_MODE, is_symlink=True)
    if stat.S_ISREG(info.st_mode):
        mode = EXECUTABLE_MODE if info.st_mode & stat.S_IXUSR else FILE_MODE
        return ContextEntry(relative, absolute, mode, is_symlink=False)
    return None  # sockets, pipes, devices: nothing a Dockerfile can COPY


def list_context(
    context_dir: Path, ignore: DockerIgnore | None = None, *, dockerfile: str = DOCKERFILE
) -> tuple[ContextEntry, ...]:
    """The files and symbolic links Docker would send from `context_dir`, sorted by path.

    Symbolic links are sent as links (never followed), as Docker sends them. Empty folders are not sent.
    The Dockerfile (`dockerfile`, relative to the context) and `.dockerignore` are sent even when ignored.
    """
    rules = DockerIgnore.from_context(context_dir) if ignore is None else ignore
    always_sent = ALWAYS_SENT | {dockerfile}
    entries: list[ContextEntry] = []
    for folder, dir_names, file_names in os.walk(context_dir, onerror=_raise_walk_error):
        relative_folder = Path(folder).relative_to(context_dir).as_posix()
        prefix = "" if relative_folder == "." else f"{relative_folder}/"
        kept_dirs: list[str] = []
        for name in sorted(dir_names):
            relative = prefix + name
            if (Path(folder) / name).is_symlink():
                file_names.append(name)
            # Without `!` lines nothing below an ignored folder comes back (but the Dockerfile): skip it.
            elif (
                rules.has_exceptions
                or not rules.is_ignored(relative)
                or dockerfile.startswith(f"{relative}/")
            ):
                kept_dirs.append(name)
        dir_names[:] = kept_dirs
        for name in file_names:
            relative = prefix + name
            if relative not in always_sent and rules.is_ignored(relative):
                continue
            entry = _entry(context_dir, relative)
            if entry is not None:
                entries.append(entry)
    return tuple(sorted(entries, key=lambda entry: entry.path.encode("utf-8")))


def _raise_walk_error(error: OSError) -> None:
    raise ContextError(
        f"cannot read {error.filename}: {error.strerror}; fix its permissions or add it to {DOCKERIGNORE}"
    ) from error


@dataclass(frozen=True)
class PackedContext:
    """What was packed: the entries, their total size and the content hash of paths, modes and bytes."""

    files: tuple[str, ...]
    total_bytes: int
    content_hash: str

    @property
    def default_tag(self) -> str:
        return f"sha-{self.content_hash[:TAG_HASH_LENGTH]}"


def _add_entry(archive: zipfile.ZipFile, entry: ContextEntry, digest: hashlib._Hash) -> int:
    """Write one entry with its normalized metadata, feed it to the content hash, return its size."""
    link_target = str(entry.absolute_path.readlink()).encode("utf-8") if entry.is_symlink else None
    size = len(link_target) if link_target is not None else entry.absolute_path.stat().st_size
    kind = stat.S_IFLNK if entry.is_symlink else stat.S_IFREG
    info = zipfile.ZipInfo(entry.path, date_time=FIXED_ZIP_TIME)
    info.create_system = ZIP_UNIX_SYSTEM
    info.external_attr = (kind | entry.mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    info.file_size = size
    digest.update(f"{entry.path}\0{kind | entry.mode:o}\0{size}\0".encode())
    written = 0
    with archive.open(info, "w", force_zip64=size > zipfile.ZIP64_LIMIT) as target:
        if link_target is not None:
            target.write(link_target)
            digest.update(link_target)
            written = len(link_target)
        else:
            with entry.absolute_path.open("rb") as source:
                while chunk := source.read(READ_CHUNK):
                    target.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
    if written != size:
        raise ContextError(f"{entry.absolute_path} changed while it was being packed; run again")
    return size


def pack_context(context_dir: Path, destination: IO[bytes], *, dockerfile: str = DOCKERFILE) -> PackedContext:
    """Write the context as a zip to `destination` and hash it, in one pass over the files.

    Entries are sorted, stamped with a fixed time and normalized permissions (0644, 0755 for executables,
    links as links), so equal content gives equal bytes. The hash covers each entry's path, kind and mode,
    length and bytes, so renaming a file or making it executable changes the tag too.
    """
    entries = list_context(context_dir, dockerfile=dockerfile)
    digest = hashlib.sha256()
    total_bytes = 0
    with zipfile.ZipFile(
        destination, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
    ) as zf:
        for entry in entries:
            try:
                total_bytes += _add_entry(zf, entry, digest)
            except OSError as error:
                raise ContextError(
                    f"cannot read {entry.absolute_path}: {error.strerror or error}; fix its permissions "
                    f"or add it to {DOCKERIGNORE}"
                ) from error
    return PackedContext(
        files=tuple(entry.path for entry in entries), total_bytes=total_bytes, content_hash=digest.hexdigest()
    )


def require_dockerfile(context_dir: Path, dockerfile: str = DOCKERFILE) -> None:
    """Fail before anything is packed or uploaded unless `context_dir` is a folder with the Dockerfile
    (`dockerfile`, relative to it: the build only sees the uploaded folder)."""
    if not context_dir.exists():
        raise ContextError(f"{context_dir} does not exist: pass the folder that holds the Dockerfile")
    if not context_dir.is_dir():
        raise ContextError(f"{context_dir} is not a folder: pass the folder that holds the Dockerfile")
    if not (context_dir / dockerfile).is_file():
        if dockerfile != DOCKERFILE:
            raise ContextError(
                f"--file {dockerfile}: no such file in {context_dir}; --file is a path inside PATH (the "
                "build context is all the build sees)"
            )
        raise ContextError(
            f"no {DOCKERFILE} in {context_dir}: build-image builds PATH/{DOCKERFILE}; pass the folder that "
            "holds it (the whole folder is the build context), or --file with its path inside PATH"
        )


def describe_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
