"""How Yiwang is run: the `yiwang` command, local services, topics and migrations.

This package is the composition root: it may import every other package; none of them
imports it.
"""
