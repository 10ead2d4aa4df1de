"""Composition roots: where a process kind is put together from the layers.

`api` is the API process (`yiwang api`): the dispatch app, the dead-letter desk's ports and
the Open311 intake mounted beside it. `desk` fills the dead-letter desk's ports from the
producers' feeder and publisher and the shared topic reader (for the API and for
`yiwang dlq`). `open311` is the Open311 intake as the API process mounts it, answering GET
requests from the dispatch database. The stream worker's root is `streams/worker.py`; the
stand-alone Open311 intake's (`yiwang open311 serve`) is `producers/open311/serve.py`.
Only these modules see dispatch and the producers at once (docs/architecture.md, "Layers").
"""
