"""ChatOps: tells teams in Slack or Microsoft Teams what the self-healing service saw and did,
and lets authorised people steer it from there (docs/contracts.md §7 and §8)."""
