"""The plan as text: what `swimscale plan` prints (docs/cost.md quotes it)."""

from __future__ import annotations

GIB = 2**30


def _tflop(x: float) -> str:
    return f"{x / 1e15:,.1f} PFLOP"


def describe(p: dict) -> str:
    """Readable lines of a :func:`swimscale.plan.plan` result."""
    d, b, h = p["device"], p["bounds"], p["hours"]
    lines = [
        f"device: {d.name} — {d.peak_flops / 1e12:g} TFLOP/s bf16, {d.bandwidth / 1e9:g} GB/s, "
        f"{d.memory_bytes / GIB:g} GiB, efficiency {d.efficiency:g}, start-up {d.overhead_s:g} s/job ({d.source})",
        f"jobs: {p['jobs']:,} train jobs (one student each, one submission each) + {p['collections']} corpus "
        f"encodings; teacher {p['teacher']}",
        f"update: {p['update_flops'] / 1e12:.3f} TFLOP + {p['update_bytes'] / 1e9:.2f} GB optimiser traffic "
        f"= {p['update_ms']:.2f} ms; host syncs per update: {p['syncs_per_update']} "
        "(1 read of loss and parts + transformers' padding check per model forward), +1 at a dev decision",
        "",
        f"{'':28}{'earliest stop':>16}{'expected':>16}{'at the cap':>16}",
    ]
    rows = [("updates", lambda t: f"{t['updates']:,}"), ("dev evaluations", lambda t: f"{t['dev_evaluations']:,}"),
            ("FLOPs: updates", lambda t: _tflop(t["train_flops"])), ("FLOPs: dev search", lambda t: _tflop(t["dev_flops"])),
            ("FLOPs: teacher precompute", lambda t: _tflop(t["teacher_flops"]))]
    for name, cell in rows:
        lines.append(f"{name:28}" + "".join(f"{cell(b[k]):>16}" for k in ("least", "expected", "cap")))
    lines.append(f"{'FLOPs: corpus encoding':28}{_tflop(p['encode_flops']):>16} ({p['passages']:,} passages)")
    for name, key in (("GPU-hours: compute", "compute"), ("GPU-hours: job start-up", "overhead"),
                      ("GPU-hours: total", "total")):
        lines.append(f"{name:28}" + "".join(f"{h[k][key]:>16,.1f}" for k in ("least", "expected", "cap")))
    lines += [
        "",
        f"per-job overhead: {d.overhead_s:g} s against a typical (median) job of {p['typical_job_s']:.0f} s of "
        f"updates: {100 * p['overhead_share']:.0f} % of the job"
        + (" (over 10 %)" if p["overhead_share"] > 0.10 else ""),
        f"peak GPU memory per train job: {p['peak_memory'] / GIB:.1f} GiB (of {d.memory_bytes / GIB:g})",
        f"disk per running train job: checkpoint {p['checkpoint_bytes'] / GIB:.1f} GiB (considered every "
        f"{p['checkpoint_every']:,} updates, written every {p['checkpoint_minutes']:g} min: "
        f"{p['checkpoint_writes']:,} writes, "
        f"{p['checkpoint_writes'] * p['checkpoint_bytes'] / 1e12:,.1f} TB written in the study, expected), "
        f"student {p['student_bytes'] / GIB:.2f} GiB (temporary)",
    ]
    return "\n".join(lines)
