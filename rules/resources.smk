# Portable resources of the heavy rules, from the config's `resources`
# section: memory and run time per job family, and GPUs when the device is
# cuda. Site settings (partition, account, GPU model) live in profiles/.


def mem_mb(family):
    return int(config["resources"][family]["mem_mb"])


def runtime(family):
    return int(config["resources"][family]["runtime"])


def gpus(family):
    """GPUs per job: none on CPU; on cuda one per job, or one per training
    process for fine-tuning."""
    if config["device"] != "cuda":
        return 0
    if family == "train":
        return max(1, int(config["finetune"]["processes"]))
    return 1


# How a fine-tune is executed (threads, processes, checkpointing) does not
# change its result, so these keys are read by the jobs from the config and
# kept out of rule params: changing them reruns nothing.
EXECUTION_KEYS = ("threads", "processes", "checkpoint_steps")


def trainer_settings():
    return {k: v for k, v in config["finetune"].items() if k not in EXECUTION_KEYS}


def report_products():
    """The figures and tables of this config: the files a reader cites."""
    return [p for p in final_outputs() if "/figures/" in p or "/tables/" in p]
