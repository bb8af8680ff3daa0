"""The composition root: the `bankroll` CLI wires shared/, api/, workers/ and web/ together."""
