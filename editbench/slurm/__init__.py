"""`editbench slurm`'s work: a run as a Slurm job array of shards plus a merge job.

`plan` reads the request into a `Plan` (saved as slurm.json), `scripts` writes the two batch
scripts and their sbatch lines, `jobs` submits them and tells which shards are done. The command
itself (its options, output and `--resume`) is `editbench.commands.slurm`.
"""
