"""The local chat sink: accepts Slack-webhook, Slack-Web-API and Teams-Workflows-shaped posts,
validates them, stores them (SQLite) and shows them as a page; it can be made flaky for tests."""
