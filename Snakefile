# Coverage and depth of instruction sets, and ILA selection.
# `snakemake --cores all` regenerates every result of config.yaml under
# results/<name>/; `--configfile configs/<other>.yaml` runs another config.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config.yaml")


validate(config, os.path.join(workflow.basedir, "schemas", "config.schema.yaml"))


include: "rules/common.smk"
include: "rules/resources.smk"


scattergather:
    embed=config["embed"]["shards"],
    score=config["depth"]["shards"],


include: "rules/data.smk"
include: "rules/embed.smk"
include: "rules/landscape.smk"
include: "rules/model.smk"
include: "rules/depth.smk"
include: "rules/figures.smk"
include: "rules/regression.smk"


rule all:
    input:
        final_outputs(),
    default_target: True
