from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/prepare.smk"
include: "workflow/rules/subsample.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/encode.smk"
include: "workflow/rules/index.smk"
include: "workflow/rules/search.smk"
include: "workflow/rules/correlate.smk"
include: "workflow/rules/moderator_values.smk"


rule all:
    default_target: True
    input:
        LAYOUT.final_outputs(),
        LAYOUT.table("moderator_values"),
