"""Tests that need a real SLURM cluster (marker `cluster`); the cluster is a
single node on this machine, started by slurm_cluster.sh beside this file."""
