"""An HTML template that lets `dvc plots show` / `dvc plots diff` pages open without internet.

    python -m tools.offline_html [FOLDER]        (default: build/vega; `make plots-offline`)

DVC's page loads vega, vega-lite and vega-embed from a CDN, so `dvc_plots/index.html`
is blank on a machine without network access. This fetches the very versions
DVC's renderer asks for (read from `dvc_render`, so they never drift apart) from
the npm registry with `npm pack`, once, into a git-ignored folder, and writes
`FOLDER/offline.html`: DVC's own page with those three scripts inlined. Pass it
as `dvc plots show --html-template FOLDER/offline.html`; the resulting
index.html is self-contained and can be mailed or archived.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from mnist_dvc.core.atomic import write_text
from mnist_dvc.core.errors import ProjectError

DEFAULT_DIR = Path("build/vega")


class PageError(ProjectError):
    """Why the offline template cannot be made, in one line."""

TEMPLATE_NAME = "offline.html"
CDN_SCRIPT = re.compile(r"/npm/(vega(?:-lite|-embed)?)@([0-9][0-9A-Za-z.\-]*)")


def dvc_script_versions() -> dict[str, str]:
    """package -> version of the scripts DVC's vega renderer puts on its page."""
    from dvc_render.vega import VegaRenderer

    versions = dict(CDN_SCRIPT.findall(VegaRenderer.SCRIPTS))
    if set(versions) != {"vega", "vega-lite", "vega-embed"}:
        raise PageError("could not read the vega script versions from dvc_render's page; "
                         "this dvc-render version is not supported by tools.offline_html")
    return versions


def script_path(folder: Path, package: str, version: str) -> Path:
    return folder / f"{package}-{version}.min.js"


def fetch_script(folder: Path, package: str, version: str) -> Path:
    """`build/<package>.min.js` of the npm package, kept once fetched (same version, same file)."""
    target = script_path(folder, package, version)
    if target.is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise PageError("npm not found: install Node.js (which brings npm) to fetch the vega scripts once, "
                         "or view the PNG figures in plots/ instead")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([npm, "pack", f"{package}@{version}", "--pack-destination", tmp, "--silent"],
                              capture_output=True, text=True)
        tarballs = list(Path(tmp).glob("*.tgz"))
        if proc.returncode or len(tarballs) != 1:
            reason = (proc.stderr.strip().splitlines() or ["no tarball"])[-1]
            raise PageError(f"`npm pack {package}@{version}` failed ({reason}); "
                             "check access to the npm registry")
        member = f"package/build/{package}.min.js"
        with tarfile.open(tarballs[0]) as archive:
            try:
                script = archive.extractfile(member)
            except KeyError:
                script = None
            if script is None:
                raise PageError(f"{package}@{version} from npm has no {member}")
            write_text(target, script.read().decode("utf-8"))
    return target


def page_template(scripts: list[str]) -> str:
    """DVC's page with the given scripts inlined where DVC would put its CDN <script> tags.

    DVC fills the template by plain text replacement of `{scripts}`, `{plot_divs}`
    and `{refresh_tag}`; leaving out `{scripts}` keeps the CDN tags off the page.
    A `</script` inside a script would end the tag early, so it is escaped.
    """
    from dvc_render.html import PAGE_HTML

    inline = "\n".join("<script>\n" + text.replace("</script", "<\\/script") + "\n</script>"
                       for text in scripts)
    for placeholder in ("{scripts}", "{plot_divs}", "{refresh_tag}"):
        if placeholder in inline:
            raise PageError(f"a vega script contains the text {placeholder}, which DVC would replace")
    return PAGE_HTML.replace("{scripts}", inline)


def build(folder: Path) -> Path:
    """Fetch what is missing and (re)write FOLDER/offline.html; returns its path."""
    versions = dvc_script_versions()
    # Load order matters: vega-lite needs vega, vega-embed needs both.
    paths = [fetch_script(folder, name, versions[name]) for name in ("vega", "vega-lite", "vega-embed")]
    template = folder / TEMPLATE_NAME
    write_text(template, page_template([path.read_text() for path in paths]))
    return template


def main() -> int:
    if len(sys.argv) > 2:
        raise PageError("usage: python -m tools.offline_html [FOLDER]")
    folder = Path(sys.argv[1]) if len(sys.argv) == 2 else DEFAULT_DIR
    template = build(folder)
    print(f"offline template: {template} (use: dvc plots show --html-template {template})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ProjectError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
