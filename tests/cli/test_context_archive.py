"""The build context: Docker's .dockerignore semantics, and a reproducible zip whose hash is the tag."""

from __future__ import annotations

import io
import os
import shutil
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest

from platform_cli.context_archive import (
    ContextError,
    DockerIgnore,
    PackedContext,
    list_context,
    pack_context,
    parse_dockerignore,
)


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def sent_paths(root: Path) -> set[str]:
    return {entry.path for entry in list_context(root)}


def pack(root: Path) -> tuple[bytes, PackedContext]:
    buffer = io.BytesIO()
    packed = pack_context(root, buffer)
    return buffer.getvalue(), packed


# --- .dockerignore ---------------------------------------------------------------------------------


def test_dockerignore_patterns_exceptions_and_double_star(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "Dockerfile": "FROM scratch\n",
            ".dockerignore": "\n".join(
                [
                    "# build outputs",
                    "",
                    "*.log",
                    "!keep.log",
                    "**/__pycache__",
                    "/build",
                    "docs/**/*.md",
                    "!docs/**/README.md",
                    "data/",
                    "!data/schema.json",
                    "te?t.txt",
                    "secrets",
                    "  .git  ",
                    "Dockerfile",
                    ".dockerignore",
                ]
            ),
            "app.py": "",
            "app.log": "",
            "keep.log": "",
            "src/run.log": "",  # `*.log` only matches in the context root
            "src/__pycache__/app.cpython-311.pyc": "",
            "__pycache__/top.pyc": "",
            "build/out.bin": "",
            "src/build/kept.txt": "",  # `/build` is anchored to the root
            "docs/guide.md": "",
            "docs/api/v1/endpoints.md": "",
            "docs/api/README.md": "",
            "docs/diagram.png": "",
            "data/big.csv": "",
            "data/raw/part-0.csv": "",
            "data/schema.json": "",
            "test.txt": "",
            "text.txt": "",
            "toast.txt": "",
            "secrets/token": "",
            ".git/HEAD": "",
        },
    )

    assert sent_paths(root) == {
        ".dockerignore",  # sent although ignored, as Docker does
        "Dockerfile",
        "app.py",
        "keep.log",
        "src/run.log",
        "src/build/kept.txt",
        "docs/api/README.md",
        "docs/diagram.png",
        "data/schema.json",
        "toast.txt",
    }


def test_a_later_pattern_can_exclude_again_what_an_exception_brought_back(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "Dockerfile": "",
            ".dockerignore": "models\n!models/*.onnx\nmodels/draft-*\n",
            "models/final.onnx": "",
            "models/draft-2.onnx": "",
            "models/weights.bin": "",
        },
    )

    assert sent_paths(root) == {"Dockerfile", ".dockerignore", "models/final.onnx"}


def test_comment_only_at_line_start_and_whitespace_trimmed() -> None:
    patterns = parse_dockerignore("\ufeff# comment\n  # not a comment\n\n   \n!  /kept \n")

    assert [(pattern.text, pattern.exclusion) for pattern in patterns] == [
        ("# not a comment", False),
        ("!  /kept", True),
    ]
    ignore = DockerIgnore(patterns)
    assert ignore.is_ignored("# not a comment")
    assert not ignore.is_ignored("kept")


@pytest.mark.parametrize(
    ("pattern", "ignored", "kept"),
    [
        ("*", ["a", "dir/b"], []),  # a top-level folder match takes its content along
        ("*/*.py", ["src/a.py"], ["a.py", "src/sub/a.py"]),
        ("**/*.py", ["a.py", "src/a.py", "src/sub/a.py"], ["a.pyc"]),
        ("src/**", ["src/a", "src/sub/b"], ["srcx/a"]),
        ("a/**/b", ["a/b", "a/x/b", "a/x/y/b"], ["a/xb"]),
        ("./src//gen/../tmp", ["src/tmp/x"], ["src/gen/x"]),
        ("file[0-9].txt", ["file1.txt"], ["fileA.txt"]),
        ("file[!0-9].txt", ["fileA.txt"], ["file1.txt"]),
        ("\\*.txt", ["*.txt"], ["a.txt"]),
        ("?.cfg", ["a.cfg"], ["ab.cfg", "dir/a.cfg"]),
    ],
)
def test_pattern_matching(pattern: str, ignored: list[str], kept: list[str]) -> None:
    ignore = DockerIgnore(parse_dockerignore(pattern))

    assert [path for path in ignored if not ignore.is_ignored(path)] == []
    assert [path for path in kept if ignore.is_ignored(path)] == []


def test_unclosed_character_class_names_the_pattern() -> None:
    with pytest.raises(ContextError, match=r"unclosed '\[' in pattern 'file\[0-9\.txt'"):
        parse_dockerignore("file[0-9.txt\n")


def test_symlinks_are_sent_as_links_and_not_followed(tmp_path: Path) -> None:
    outside = write_tree(tmp_path / "outside", {"secret.txt": "do not send"})
    root = write_tree(tmp_path / "context", {"Dockerfile": "", "real.txt": "x"})
    (root / "link.txt").symlink_to("real.txt")
    (root / "linked-dir").symlink_to(outside, target_is_directory=True)

    archive, packed = pack(root)

    assert set(packed.files) == {"Dockerfile", "real.txt", "link.txt", "linked-dir"}
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert stat.S_ISLNK(zf.getinfo("linked-dir").external_attr >> 16)
        assert zf.read("linked-dir") == str(outside).encode()
        assert zf.read("link.txt") == b"real.txt"


# --- reproducible zip and content hash -------------------------------------------------------------


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    root = write_tree(
        tmp_path / "image",
        {
            "Dockerfile": "FROM python:3.11-slim\nCOPY . /opt/program\n",
            ".dockerignore": "*.log\nnotebooks/\n",
            "serve.py": "print('serving')\n",
            "lib/model.py": "MODEL = 1\n",
            "debug.log": "noise\n",
            "notebooks/scratch.ipynb": "{}\n",
        },
    )
    (root / "serve.py").chmod(0o755)
    return root


def test_zip_holds_the_sent_files_sorted_with_fixed_time_and_permissions(image_folder: Path) -> None:
    archive, packed = pack(image_folder)

    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        infos = zf.infolist()
        assert [info.filename for info in infos] == [
            ".dockerignore",
            "Dockerfile",
            "lib/model.py",
            "serve.py",
        ]
        assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
        modes = {info.filename: stat.S_IMODE(info.external_attr >> 16) for info in infos}
        assert modes == {
            ".dockerignore": 0o644,
            "Dockerfile": 0o644,
            "lib/model.py": 0o644,
            "serve.py": 0o755,
        }
        assert zf.read("lib/model.py") == b"MODEL = 1\n"
    assert packed.files == (".dockerignore", "Dockerfile", "lib/model.py", "serve.py")
    assert packed.total_bytes == sum((image_folder / name).stat().st_size for name in packed.files)
    assert packed.default_tag == f"sha-{packed.content_hash[:16]}"
    assert len(packed.default_tag) == 20


def test_same_content_elsewhere_gives_the_same_bytes_and_tag(image_folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(image_folder, copy)
    # Different times, umask-like permission differences and creation order must not matter.
    os.utime(copy / "lib" / "model.py", (1, 1))
    (copy / "Dockerfile").chmod(0o600)
    (copy / "lib" / "model.py").chmod(0o664)

    first_archive, first = pack(image_folder)
    second_archive, second = pack(copy)

    assert first_archive == second_archive
    assert first.default_tag == second.default_tag


def test_one_changed_byte_changes_the_tag(image_folder: Path) -> None:
    _, before = pack(image_folder)
    (image_folder / "lib" / "model.py").write_text("MODEL = 2\n")
    _, after = pack(image_folder)

    assert after.default_tag != before.default_tag


def test_renaming_or_making_executable_changes_the_tag(image_folder: Path) -> None:
    _, before = pack(image_folder)
    (image_folder / "lib" / "model.py").chmod(0o755)
    _, executable = pack(image_folder)
    (image_folder / "lib" / "model.py").rename(image_folder / "lib" / "model2.py")
    _, renamed = pack(image_folder)

    assert len({before.default_tag, executable.default_tag, renamed.default_tag}) == 3


def test_changes_to_ignored_files_keep_the_tag(image_folder: Path) -> None:
    archive_before, before = pack(image_folder)
    (image_folder / "debug.log").write_text("different noise\n")
    write_tree(image_folder, {"notebooks/new.ipynb": "{}", "trace.log": "more"})
    archive_after, after = pack(image_folder)

    assert after.default_tag == before.default_tag
    assert archive_after == archive_before


def test_unreadable_file_names_the_file_and_the_fix(
    image_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # chmod 000 does not stop root (these tests may run as root), so the read itself is made to fail.
    unreadable = image_folder / "lib" / "model.py"
    real_open = Path.open

    def open_or_refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == unreadable:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_or_refuse)

    with pytest.raises(
        ContextError, match=r"cannot read .*model\.py: Permission denied.*add it to \.dockerignore"
    ):
        pack(image_folder)


def test_a_dockerfile_named_with_file_is_sent_even_where_dockerignore_leaves_its_folder_out(
    tmp_path: Path,
) -> None:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "serve.Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "docker" / "notes.txt").write_text("left out\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / ".dockerignore").write_text("docker\n")

    sent = [entry.path for entry in list_context(tmp_path, dockerfile="docker/serve.Dockerfile")]
    plain = [entry.path for entry in list_context(tmp_path)]

    assert sent == [".dockerignore", "app.py", "docker/serve.Dockerfile"]
    assert plain == [".dockerignore", "app.py"]
