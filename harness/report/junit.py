"""JUnit XML for CI systems, rendered from the same JSON run as the HTML."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET


def render_junit(run: dict[str, Any]) -> str:
    results = run["results"]
    suite = ET.Element(
        "testsuite",
        name=f"cc-gateway-conformance ({run['info']['label']})",
        tests=str(len(results)),
        failures=str(sum(r["outcome"] in ("fail", "fixed") for r in results)),
        errors=str(sum(r["outcome"] == "error" for r in results)),
        skipped=str(sum(r["outcome"] in ("skipped", "deviation") for r in results)),
        time=f"{sum(r['duration'] for r in results):.3f}",
    )
    for r in results:
        module, _, name = r["nodeid"].rpartition("::")
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{r['requirement']}.{module}",
            name=name,
            time=f"{r['duration']:.3f}",
        )
        evidence = "\n\n".join(f"--- {k} ---\n{v}" for k, v in r["evidence"].items())
        if r["outcome"] in ("fail", "error", "fixed"):
            # A fixed deviation fails the run (the deviations file is stale), so CI must see it.
            tag = "error" if r["outcome"] == "error" else "failure"
            prefix = "known deviation no longer occurs: " if r["outcome"] == "fixed" else ""
            ET.SubElement(
                case, tag, message=f"{prefix}{r['requirement']} ({r['level']})"
            ).text = evidence
        elif r["outcome"] in ("skipped", "deviation"):
            reason = r["reason"] if r["outcome"] == "skipped" else f"known deviation: {r['reason']}"
            ET.SubElement(case, "skipped", message=reason[:500])
    text: str = ET.tostring(suite, encoding="unicode", xml_declaration=True)
    return text
