"""`python -m chatops.sink --port 8090 --db sink.sqlite3`: run the local chat sink."""

from __future__ import annotations

import argparse

import uvicorn

from chatops.sink.app import create_sink_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Local chat sink for Slack and Teams posts.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--db", default="chat-sink.sqlite3", help="SQLite file for messages.")
    args = parser.parse_args()
    uvicorn.run(create_sink_app(args.db), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
