"""Pure rendering of notifications into Slack Block Kit and Teams Adaptive Cards, with a
validator for both formats and a small PNG chart of the anomalous signal."""
