"""The page's browser libraries, kept on this machine so the app works without the internet.

A Solara page loads its front end (the Vuetify app, RequireJS, Font Awesome) and the chart
libraries (Vega, Vega-Lite, Vega-Embed) through the server's CDN proxy, which fetches each file
from jsdelivr on first use and keeps it in a cache directory. A classroom, a train or a CI runner
may have no internet, so before serving, ``margins viz`` fills that cache:

- the front-end packages Solara's page template names, at the versions it names, from the npm
  registry with ``npm pack`` (only those missing; skipped with a warning when npm is absent);
- Vega, Vega-Lite and Vega-Embed from the bundle vl-convert ships (a dependency already): one
  script sets ``window.vega``, ``window.vegaLite`` and ``window.vegaEmbed``, and the two others
  hand them to RequireJS, which is how the chart widget asks for them. The bundle is Vega-Lite 6,
  the version Altair writes its specs for.

    ./dev python -m viz.assets        # fill the cache now and print where it is
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: where the widget asks the proxy for each library, relative to the cache directory
FILES = {
    "vega": Path("vega@5/build/vega.min.js"),
    "vega-lite": Path("vega-lite@5/build/vega-lite.min.js"),
    "vega-embed": Path("vega-embed@6/build/vega-embed.min.js"),
}
SNIPPET = """\
window.vega = vega;
window.vegaLite = vegaLite;
window.vegaEmbed = vegaEmbed;
if (typeof define === "function" && define.amd) { define([], function () { return window.vega; }); }
"""
SHIMS = {
    "vega-lite": 'define(["vega"], function () { return window.vegaLite; });\n',
    "vega-embed": 'define(["vega"], function () { return window.vegaEmbed; });\n',
}
MARKER = "chasing-margins-vega.txt"


def _writable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(directory, os.W_OK)


def cache_directory() -> Path:
    """Solara's CDN cache, or a user cache directory when that one cannot be written."""
    from solara.server import settings

    directory = Path(settings.assets.proxy_cache_dir)
    if not _writable(directory):
        directory = (
            Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
            / "chasing-margins"
            / "solara-cdn"
        )
        directory.mkdir(parents=True, exist_ok=True)
        settings.assets.proxy_cache_dir = directory
    return directory


def ensure_vega() -> Path:
    """Seed the CDN cache with Vega, Vega-Lite and Vega-Embed (once per vl-convert version)."""
    import vl_convert

    directory = cache_directory()
    stamp = f"vl-convert {vl_convert.__version__}, scoped\n"
    marker = directory / MARKER
    if (
        marker.exists()
        and marker.read_text() == stamp
        and all((directory / path).exists() for path in FILES.values())
    ):
        return directory
    # in a function, so the bundle's top-level names (``_`` among them) do not replace the
    # page's globals: the chart widget itself uses lodash as ``_``
    bundle = "(function () {\n" + vl_convert.javascript_bundle(SNIPPET) + "\n})();\n"
    for name, path in FILES.items():
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(bundle if name == "vega" else SHIMS[name])
        tmp.replace(target)
    marker.write_text(stamp)
    return directory


# ---------------------------------------------------------------------------------------------
#: ``{{cdn}}/<package>@<version>/`` in Solara's page template
_TEMPLATE_REF = re.compile(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+)@(\d[\w.-]*)/")
_PATH_REF = re.compile(r"^/?((?:@[\w.-]+/)?[\w.-]+)@(\d[\w.-]*)/")


def frontend_packages() -> list[tuple[str, str]]:
    """(package, version) of every front-end package Solara's page loads from the CDN."""
    import solara.server
    import solara.util
    from solara.server import settings

    template = Path(solara.server.__file__).parent / "templates" / "solara.html.j2"
    refs = set(_TEMPLATE_REF.findall(template.read_text()))
    fontawesome = _PATH_REF.match(settings.assets.fontawesome_path)
    if fontawesome:
        refs.add((fontawesome.group(1), fontawesome.group(2)))
    unused = "solara-vuetify-app" if solara.util.IPYVUETIFY_V3 else "solara-vuetify3-app"
    return sorted((name, version) for name, version in refs if not name.endswith(unused))


def _npm_pack(name: str, version: str, target: Path) -> None:
    """Fetch ``name@version`` from the npm registry with npm and unpack it into ``target``."""
    with tempfile.TemporaryDirectory(prefix="margins-npm-") as tmp:
        out = subprocess.run(
            ["npm", "pack", f"{name}@{version}", "--silent", "--pack-destination", tmp],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if out.returncode != 0 or not tarballs:
            raise OSError(
                f"npm pack {name}@{version} failed: "
                + (out.stderr.strip().splitlines() or ["no tarball"])[-1]
            )
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tarballs[0]) as archive:
            archive.extractall(unpacked, filter="data")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.move(unpacked / "package", staging)
        staging.replace(target)


def ensure_frontend(log=None) -> list[str]:
    """Put the front-end packages the page needs into the CDN cache; return what is missing.

    Packages already there are left alone. A package that cannot be fetched (no npm, no
    registry) is reported, and the server's proxy will still try the CDN for it.
    """
    directory = cache_directory()
    missing = []
    for name, version in frontend_packages():
        target = directory / f"{name}@{version}"
        if target.is_dir() and any(target.iterdir()):
            continue
        if shutil.which("npm") is None:
            missing.append(f"{name}@{version} (npm is not installed)")
            continue
        try:
            if log:
                log(f"fetching {name}@{version} with npm")
            _npm_pack(name, version, target)
        except (OSError, subprocess.SubprocessError, tarfile.TarError) as exc:
            missing.append(f"{name}@{version} ({exc})")
    return missing


def ensure_all(log=None) -> list[str]:
    """The front-end packages and the chart libraries; returns what could not be provided."""
    missing = ensure_frontend(log)
    try:
        ensure_vega()
    except (OSError, RuntimeError, ValueError) as exc:
        missing.append(f"vega ({exc})")
    return missing


if __name__ == "__main__":
    problems = ensure_all(log=lambda line: print(line, file=sys.stderr))
    print(cache_directory())
    for problem in problems:
        print(f"missing: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)
