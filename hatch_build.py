"""Build hook: compile the matching core's C kernels (src/market/reconcile/_speedups.c).

They are optional. Without a C compiler and the Python headers the package installs without them
and runs the pure-Python reference implementation (same results, slower); set
``MARKET_BUILD_REQUIRE_SPEEDUPS=1`` to make a failed compile fail the install instead (CI does).

An editable install (``pip install -e``, what ``make install`` does) builds the extension in place
next to its source, where the import finds it; a wheel carries it at the same path. The module
records a hash of its source, and a test refuses a stale build (``make install`` rebuilds).
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("src/market/reconcile/_speedups.c")
MODULE_DIR = "market/reconcile"


def source_hash(source: Path) -> str:
    """The first 16 hex digits of the source's SHA-256 (the same function as the stale-build test)."""
    return hashlib.sha256(source.read_bytes()).hexdigest()[:16]


def compile_extension(source: Path, target: Path) -> None:
    """Compile ``source`` into the shared library ``target`` (``$CC``, else the compiler Python was built with)."""
    compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    include = sysconfig.get_paths()["include"]
    command = [
        *compiler,
        "-shared",
        "-fPIC",
        "-O2",
        "-Wall",
        f"-I{include}",
        f'-DMARKET_SOURCE_HASH="{source_hash(source)}"',
        str(source),
        "-o",
        str(target),
    ]
    subprocess.run(command, check=True)  # noqa: S603 - our own compiler command line


class SpeedupsBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        source = root / SOURCE
        name = "_speedups" + (sysconfig.get_config_var("EXT_SUFFIX") or ".so")
        if version == "editable":
            target = source.with_name(name)
        else:
            target = Path(tempfile.mkdtemp(prefix="market-speedups-")) / name
        try:
            compile_extension(source, target)
        except (OSError, subprocess.CalledProcessError) as error:
            if os.environ.get("MARKET_BUILD_REQUIRE_SPEEDUPS") == "1":
                raise
            self.app.display_warning(f"market: C kernels not built ({error}); using the pure-Python matching core")
            return
        if version != "editable":
            build_data["force_include"][str(target)] = f"{MODULE_DIR}/{name}"
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
