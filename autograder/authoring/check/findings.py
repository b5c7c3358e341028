"""What `course check` found: one `Finding` per check and subject, and the table the instructor reads."""

from __future__ import annotations

import dataclasses

OK, FAILED, NOTE = "ok", "FAILED", "note"


@dataclasses.dataclass(frozen=True)
class Finding:
    check: str  # which check: consistency, collection, draws, margins, time, release, catalogue, thieves, mutants
    status: str  # OK, FAILED, or NOTE (worth reading, not a failure)
    subject: str  # what it is about: a function, a test, a catalogue entry, the assignment
    detail: str = ""  # one or a few lines: what was found, and what to do

    @property
    def failed(self) -> bool:
        return self.status == FAILED


def table(assignment: str, findings: list[Finding]) -> str:
    """The findings as a plain-text table, failures first within each check, then a summary line."""
    header = ("check", "result", "subject", "detail")
    rows = [(f.check, f.status, f.subject if len(f.subject) <= 48 else f.subject[:47] + "…", f.detail)
            for f in findings]  # fmt: skip
    widths = [max([len(header[i]), *(len(r[i].splitlines()[0] if r[i] else "") for r in rows)]) for i in range(3)]
    widths = [min(w, 48) for w in widths]
    head = "  ".join(h.ljust(w) for h, w in zip(header, [*widths, 0], strict=True)).rstrip()
    lines = [f"course check {assignment}", head]
    for row in rows:
        first, *rest = (row[3] or "").splitlines() or [""]
        lines.append("  ".join(c.ljust(w) for c, w in zip(row[:3], widths, strict=True)) + "  " + first)
        lines += [" " * (sum(widths) + 6) + more for more in rest]
    failed = sum(f.failed for f in findings)
    lines.append(f"{assignment}: {failed} problem(s)" if failed else f"{assignment}: every check passed")
    return "\n".join(lines)
