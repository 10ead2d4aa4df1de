"""The intake stage: agency reports in, incidents and tasks out (see `service`)."""
