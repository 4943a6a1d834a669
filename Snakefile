from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/prepare.smk"
include: "workflow/rules/subsample.smk"
include: "workflow/rules/teacher_states.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/encode.smk"
include: "workflow/rules/index.smk"
include: "workflow/rules/search.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/correlate.smk"
include: "workflow/rules/moderator_values.smk"


# One run per results folder (docs/cluster.md): the lock is taken when the jobs start (dry runs run no
# hook, so they take none) and given back at the end; a second run from any working directory is refused.
onstart:
    from swimscale.formats import take_lock

    take_lock(LAYOUT.lock())


onsuccess:
    from swimscale.formats import release_lock

    release_lock(LAYOUT.lock())


onerror:
    from swimscale.formats import release_lock

    release_lock(LAYOUT.lock())


rule all:
    default_target: True
    input:
        LAYOUT.final_outputs(),
        LAYOUT.table("moderator_values"),
