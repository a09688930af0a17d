# Coverage and depth of instruction sets, and ILA selection.
# `snakemake --cores all` regenerates every result of config.yaml under
# results/<name>/; `--configfile configs/<other>.yaml` runs another config.
import json

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config.yaml")


# A renamed key fails naming its new name (the schema would only call it unknown).
from ila.plumbing.configs import check_renamed_keys

check_renamed_keys(config)
validate(config, os.path.join(workflow.basedir, "schemas", "config.schema.yaml"))


# Combinations the schema cannot express, rejected before any job.
from ila.devloss import check_config as check_devloss
from ila.finetune.settings import check_config as check_finetune
from ila.lm.prompt import check_config as check_prompt
from ila.pool.checks import check_pool_config
from ila.scaling.settings import check_config as check_scaling

check_finetune(config)
check_devloss(config)
check_prompt(config)
check_scaling(config)
check_pool_config(config)

# The config files given with --configfile, for the provenance sidecars of
# every job (ila.provenance) and for `ila-audit` to replay them.
os.environ.update(ILA_CONFIGFILES=json.dumps([str(p) for p in workflow.overwrite_configfiles]))


include: "rules/common.smk"


scattergather:
    embed=config["embed"]["shards"],
    score=config["depth"]["shards"],


include: "rules/rehearsal.smk"
include: "rules/data.smk"
include: "rules/embed.smk"
include: "rules/landscape.smk"
include: "rules/model.smk"
include: "rules/depth.smk"
include: "rules/figures.smk"
include: "rules/regression.smk"
include: "rules/select.smk"
include: "rules/calibration.smk"
include: "rules/scaling.smk"
include: "rules/evaluate.smk"
include: "rules/provenance.smk"


rule all:
    input:
        final_outputs(),
        rules.provenance_tables.output,
    default_target: True
