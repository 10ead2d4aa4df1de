"""Where grid workers are, when they agree to say: the last shared position, used by routing's
"nearest" instead of a home address, and forgotten once stale (it is personal data)."""
