"""The plan as text: what `swimscale plan` prints (docs/cost.md quotes it)."""

from __future__ import annotations

GIB = 2**30
GROUPING = {"one": "one student each", "seeds": "every seed of one (language, method, N) each",
            "sizes_and_seeds": "every N and seed of one (language, method) each",
            "language": "every method, N and seed of one language each"}


def _tflop(x: float) -> str:
    return f"{x / 1e15:,.1f} PFLOP"


def _header(p: dict) -> list[str]:
    d, modes = p["device"], p["modes"]
    teacher = ", ".join(f"{label} {modes[key]:,}" for key, label in (
        ("language", "the language's states (read)"), ("job", "the job's states of its seed (host memory)"),
        ("precompute", "precomputed per run"),
        ("on_the_fly", "on the fly")) if modes.get(key))
    syncs = p["syncs_per_update"]
    return [
        f"device: {d.name} — {d.peak_flops / 1e12:g} TFLOP/s bf16, {d.bandwidth / 1e9:g} GB/s, "
        f"{d.memory_bytes / GIB:g} GiB, efficiency {d.efficiency:g}, start-up {d.overhead_s:g} s/job ({d.source})",
        f"jobs: {p['jobs']:,} train jobs for {p['students']:,} students (students_per_job {p['students_per_job']}: "
        f"{GROUPING[p['students_per_job']]}; a submission each, before the SLURM profile's groups: "
        f"tools/cluster_jobs.py) + {len(p['state_languages'])} teacher_states "
        f"jobs + {p['collections']} corpus encodings",
        f"teacher per run: {teacher}; update {'compiled' if p['compiled'] else 'eager'}",
        f"update: {p['update_ms'][False]:.2f} ms without the teacher, {p['update_ms'][True]:.2f} ms with it on the fly "
        f"(mean {p['mean_update_ms']:.2f} ms, host copies and CPU tokenising included; trained embedding rows "
        f"{p['embedding_rows']}); host syncs per update: {syncs[False]} ({syncs[True]} with the "
        "teacher on the fly): 1 read of loss and parts + transformers' padding check per eager model forward; "
        "+1 at a dev decision",
        "",
        f"{'':28}{'earliest stop':>16}{'expected':>16}{'at the cap':>16}",
    ]


def describe(p: dict) -> str:
    """Readable lines of a :func:`swimscale.plan.plan` result."""
    d, b, h = p["device"], p["bounds"], p["hours"]
    lines = _header(p)
    rows = [("updates", lambda t: f"{t['updates']:,}"), ("dev evaluations", lambda t: f"{t['dev_evaluations']:,}"),
            ("FLOPs: updates", lambda t: _tflop(t["train_flops"])), ("FLOPs: dev search", lambda t: _tflop(t["dev_flops"])),
            ("FLOPs: teacher per run", lambda t: _tflop(t["teacher_flops"]))]
    for name, cell in rows:
        lines.append(f"{name:28}" + "".join(f"{cell(b[k]):>16}" for k in ("least", "expected", "cap")))
    lines.append(f"{'FLOPs: teacher states':28}{_tflop(p['states_flops']):>16} (once per language: "
                 f"{len(p['state_languages'])} languages)")
    if p["job_seeds"] and p["modes"].get("job"):
        lines.append(f"{'FLOPs: teacher per job':28}{_tflop(p['job_teacher_flops']):>16} (once per (job, seed), "
                     f"its largest sample: {p['job_seeds']:,})")
    lines.append(f"{'FLOPs: corpus encoding':28}{_tflop(p['encode_flops']):>16} ({p['passages']:,} passages)")
    for name, key in (("GPU-hours: compute", "compute"), ("GPU-hours: job start-up", "overhead"),
                      ("GPU-hours: total", "total")):
        lines.append(f"{name:28}" + "".join(f"{h[k][key]:>16,.1f}" for k in ("least", "expected", "cap")))
    lines += [
        "",
        f"per-job overhead: {p['per_job_s']:g} s a job (start-up {d.overhead_s:g} s"
        + (f" + compile {p['per_job_s'] - d.overhead_s:g} s, assumed" if p["compiled"] else "") + f") + a median {p['setup_s']:.0f} s a job of "
        f"students' set-up (data, states, weights re-initialised from host memory), against a typical (median) "
        f"job of {p['typical_job_s']:.0f} s of updates: {100 * p['overhead_share']:.0f} % of the study's job time"
        + (" (over 10 %)" if p["overhead_share"] > 0.10 else ""),
        f"peak GPU memory per train job: {p['peak_memory'] / GIB:.1f} GiB (of {d.memory_bytes / GIB:g}), "
        "teacher states held included"
        + (f"; host memory per train job: {p['host_bytes'] / GIB:.1f} GiB of teacher states (one seed's at a "
           "time)" if p["host_bytes"] else ""),
        f"disk: teacher states {p['states_bytes'] / 1e9:.1f} GB (bf16, kept); per running train job: checkpoint "
        f"{p['checkpoint_bytes'] / GIB:.1f} GiB (considered every {p['checkpoint_every']:,} updates, written every "
        f"{p['checkpoint_minutes']:g} min: {p['checkpoint_writes']:,} writes, "
        f"{p['checkpoint_writes'] * p['checkpoint_bytes'] / 1e12:,.1f} TB written in the study, expected), "
        f"student {p['student_bytes'] / GIB:.2f} GiB (temporary)",
    ]
    return "\n".join(lines)
