"""Lighthouse scores of the pages a person lands on, against issue 19's targets.

Starts `ftz-kg serve` on loopback, runs Lighthouse (npm, pinned in tests/js; installed by
scripts/install-test-deps) in Debian's chromium with every host but loopback unresolvable, on the
home page and a zone page (/zone/sichuan), in Chinese and English (?lang=), as a phone
(Lighthouse's default: mobile form factor, simulated slow 4G and 4× CPU slowdown) and with the
desktop preset. Prints the four category scores and the audits that cost points, and writes each
run's JSON and HTML report to --out.

Targets (mobile): accessibility, best practices and SEO ≥ 95, performance ≥ 90. Desktop is printed
for comparison. Exits 1 when a mobile score misses its target.

    python benchmarks/lighthouse.py [--out /tmp] [--pages home,zone] [--langs zh,en]
                                    [--form-factors mobile,desktop] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import running_server  # noqa: E402
from tests.test_browser import CHROMIUM, FLAGS  # noqa: E402

LIGHTHOUSE = ROOT / "tests" / "js" / "node_modules" / ".bin" / "lighthouse"
PAGES = {"home": "/", "zone": "/zone/sichuan"}
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGETS = {"performance": 90, "accessibility": 95, "best-practices": 95, "seo": 95}   # mobile, issue 19
# the tests block the network in Playwright; here chromium itself resolves nothing but loopback
CHROME_FLAGS = [*FLAGS, '--host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"']


def run_lighthouse(url: str, form_factor: str, report_base: Path) -> dict:
    """One Lighthouse run; writes REPORT_BASE.report.json/.html and returns the parsed JSON."""
    command = [str(LIGHTHOUSE), url, f"--chrome-path={CHROMIUM}", "--chrome-flags=" + " ".join(CHROME_FLAGS),
               "--only-categories=" + ",".join(CATEGORIES), "--output=json", "--output=html",
               f"--output-path={report_base}", "--quiet"]
    if form_factor == "desktop":
        command.append("--preset=desktop")
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as expired:
        raise RuntimeError(f"lighthouse took over 5 minutes on {url} ({form_factor})") from expired
    if finished.returncode != 0:
        raise RuntimeError(f"lighthouse failed on {url} ({form_factor}):\n{finished.stderr[-3000:]}")
    return json.loads(Path(f"{report_base}.report.json").read_text(encoding="utf-8"))


def scores(report: dict) -> dict[str, int]:
    return {name: round(100 * (report["categories"][name]["score"] or 0)) for name in CATEGORIES}


def findings(report: dict) -> list[str]:
    """The audits that cost points: weighted in a category and not passed, with the elements they name."""
    lines = []
    for name in CATEGORIES:
        for ref in report["categories"][name]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] == 0 or audit["score"] is None or audit["score"] >= 1:
                continue
            shown = audit.get("displayValue") or ""
            lines.append(f"  {name}: {ref['id']} (score {audit['score']:.2f}, weight {ref['weight']}) {shown}".rstrip())
            details = audit.get("details") or {}
            for item in (details.get("items") or [])[:5]:
                if where := describe_item(item):
                    lines.append(f"      {where}")
    return lines


def describe_item(item) -> str | None:
    """An audit's detail row as one line: the element, the console message or the resource."""
    if not isinstance(item, dict):
        return None
    node = next((value for value in item.values() if isinstance(value, dict) and value.get("type") == "node"), None)
    if node:
        reasons = [sub.get("reason") for sub in (item.get("subItems") or {}).get("items", []) if sub.get("reason")]
        return (f"{node.get('selector', '')} {node.get('snippet', '')} “{node.get('nodeLabel', '')}”"
                + (f": {'; '.join(reasons)}" if reasons else ""))
    if "description" in item and "sourceLocation" in item:
        return f"{item['description']} ({item['sourceLocation'].get('url', '')})"
    if url := item.get("url"):
        figures = [f"{key} {round(item[key])}" for key in ("totalBytes", "wastedBytes", "wastedMs", "total")
                   if isinstance(item.get(key), (int, float))]
        return f"{url} {', '.join(figures)}".rstrip()
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("/tmp"), help="folder for the JSON and HTML reports")
    parser.add_argument("--pages", default=",".join(PAGES), help=f"comma-separated, of {', '.join(PAGES)}")
    parser.add_argument("--langs", default="zh,en", help="page languages (?lang=), comma-separated")
    parser.add_argument("--form-factors", default="mobile,desktop", help="mobile, desktop or both")
    parser.add_argument("--runs", type=int, default=1, help="runs per page and form factor; the median counts")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit(f"{LIGHTHOUSE} is missing: run scripts/install-test-deps (npm ci --prefix tests/js)")
    if not shutil.which(CHROMIUM):
        sys.exit("Debian's chromium is missing: run scripts/install-test-deps")
    args.out.mkdir(parents=True, exist_ok=True)
    pages = args.pages.split(",")
    if unknown := set(pages) - set(PAGES):
        parser.error(f"unknown pages: {', '.join(sorted(unknown))}")
    form_factors = args.form_factors.split(",")

    rows, missed = [], []
    with running_server() as (base, _process):
        for page, lang in [(page, lang) for page in pages for lang in args.langs.split(",")]:
            for form_factor in form_factors:
                runs = []
                for run in range(args.runs):
                    suffix = f"-{run + 1}" if args.runs > 1 else ""
                    report_base = args.out / f"lighthouse-{page}-{lang}-{form_factor}{suffix}"
                    try:
                        report = run_lighthouse(f"{base}{PAGES[page]}?lang={lang}", form_factor, report_base)
                    except RuntimeError as error:       # e.g. the page answered 500: scored 0, the rest still run
                        print(error, file=sys.stderr)
                        runs.append(dict.fromkeys(CATEGORIES, 0))
                        continue
                    runs.append(scores(report))
                    # Lighthouse's CPU benchmark of this machine at the time: a loaded machine scores
                    # low and inflates the simulated blocking time, so read performance alongside it
                    print(f"{page} {lang} {form_factor}: {report_base}.report.html (CPU benchmark index "
                          f"{report['environment']['benchmarkIndex']:.0f})", file=sys.stderr)
                    for line in findings(report):
                        print(line, file=sys.stderr)
                median = {name: round(statistics.median(run[name] for run in runs)) for name in CATEGORIES}
                rows.append((f"{page} {lang}", form_factor, median))
                if form_factor == "mobile":
                    missed += [f"{page} {lang} mobile {name} {median[name]} < {TARGETS[name]}"
                               for name in CATEGORIES if median[name] < TARGETS[name]]

    print(f"\n{'page':<8} {'form':<8} " + " ".join(f"{name:>14}" for name in CATEGORIES))
    for page, form_factor, median in rows:
        print(f"{page:<8} {form_factor:<8} " + " ".join(f"{median[name]:>14}" for name in CATEGORIES))
    print(f"{'target':<17} " + " ".join(f"{'≥ ' + str(TARGETS[name]):>14}" for name in CATEGORIES) + "  (mobile)")
    print(f"reports in {args.out}")
    if missed:
        print("missed: " + "; ".join(missed))
        return 1
    print("every mobile target met" if "mobile" in form_factors else "no mobile run: targets not checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
