# Local stand-ins for the hub models, pools and benchmarks of
# configs/paper.yaml, built offline at the paths the config names
# (rehearsal.enabled; configs/rehearsal.yaml). The ingest waits for them
# (rehearsal_standins() in common.smk), so every job that loads one comes after.

if config["rehearsal"]["enabled"]:

    rule rehearsal_standins:
        output:
            pools=[directory(d["name"]) for d in config["pool"]["hf"]["datasets"]],
            base=directory(config["model"]["base"]),
            complexity=directory(config["selection"]["deita"]["complexity_model"]),
            quality=directory(config["selection"]["deita"]["quality_model"]),
            embedder=directory(config["embed"]["model"]),
            tasks=directory(config["benchmarks"]["include_path"]),
            tokenizer=directory(results("standins/tokenizer")),
            info=results("standins/standins.json"),
        params:
            settings=config["rehearsal"],
            tasks=config["benchmarks"]["tasks"],
            max_position=max(1024, int(config["model"]["max_length"])),
            prompt=config["model"]["prompt"],
            max_gen_toks=config["scaling"]["max_new_tokens"],
            seed=config["seed"],
            device=config["device"],
        # a fixed thread count, like the tiny model's pretraining: same weights whatever --cores
        threads: config["model"]["pretrain"]["threads"]
        resources:
            gpu=gpus("score"),
        log:
            logs("rehearsal_standins.log"),
        conda:
            "../envs/train.yaml"
        script:
            "../scripts/rehearsal_standins.py"
