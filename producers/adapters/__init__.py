"""Agency adapters: `adapt(data: bytes, ctx: Context) -> Iterator[Outcome]`, pure, one module per source."""
