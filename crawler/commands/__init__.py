"""One module per command of ``osce-archive``; each exposes ``run(args) -> int``."""
