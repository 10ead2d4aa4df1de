"""faust agents: thin edges that hand batches to the services in streams/."""
