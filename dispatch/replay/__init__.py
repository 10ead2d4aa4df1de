"""What-if replay: stored reports through the live rules in memory, today's configuration
against an alternative layout, policy or roster (`yiwang replay`, README "What-if replay")."""
